"""Logging in and out: hashed passwords, rate limiting, safe redirects, sessions, CSRF, the audit trail."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock, db
from erp.audit.models import AuditEntry
from erp.identity.models import LoginAttempt, User
from erp.identity.services import ensure_user, update_user, user_by_name
from tests.webapp.conftest import PASSWORD, csrf_token, login
from webapp import create_app


def _audit(action):
    with db.transaction(readonly=True) as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_password_is_stored_hashed_and_login_opens_the_inbox(client, make_user):
    make_user("wangfang")
    with db.transaction(readonly=True) as session:
        stored = user_by_name(session, "wangfang").password_hash
    assert PASSWORD not in stored and stored.startswith("scrypt:")
    assert client.get("/inbox").status_code == 302  # not logged in: to the login page
    response = login(client, "wangfang")
    assert response.headers["Location"] == "/inbox"
    page = client.get("/inbox")
    assert page.status_code == 200 and "wangfang" in page.get_data(as_text=True)
    [entry] = _audit("login")
    assert entry.actor == "wangfang" and entry.address == "127.0.0.1"


def test_wrong_password_is_refused_and_recorded(client, make_user):
    make_user("wangfang")
    response = client.post("/login", data={"username": "wangfang", "password": "wrong-password"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302
    with db.transaction(readonly=True) as session:
        attempts = session.scalars(select(LoginAttempt)).all()
    assert [(a.username, a.success) for a in attempts] == [("wangfang", False)]
    assert [e.actor for e in _audit("login_failed")] == ["wangfang"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, make_user):
    make_user("wangfang")
    unknown = client.post("/login", data={"username": "nobody", "password": "x" * 10})
    wrong = client.post("/login", data={"username": "wangfang", "password": "x" * 10})
    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或密码错误" in unknown.get_data(as_text=True)


def test_five_failures_lock_the_username_for_a_while_even_with_the_right_password(client, make_user):
    make_user("wangfang")
    start = clock.now()
    with clock.frozen(start):
        for _ in range(5):
            assert client.post("/login", data={"username": "wangfang", "password": "bad-bad-bad"}).status_code == 401
        blocked = client.post("/login", data={"username": "wangfang", "password": PASSWORD})
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        # another user from elsewhere is not affected
        make_user("zhangwei")
        assert client.post("/login", data={"username": "zhangwei", "password": PASSWORD}).status_code == 302
    with clock.frozen(start + timedelta(minutes=16)):
        assert client.post("/login", data={"username": "wangfang", "password": PASSWORD}).status_code == 302


def test_many_failures_from_one_address_block_that_address(client, make_user):
    make_user("wangfang")
    with clock.frozen(clock.now()):
        for i in range(20):
            client.post("/login", data={"username": f"guess{i}", "password": "bad-bad-bad"})
        assert client.post("/login", data={"username": "wangfang", "password": PASSWORD}).status_code == 429


def test_deactivated_user_can_neither_log_in_nor_keep_a_session(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    with db.transaction() as session:
        update_user(session, user_by_name(session, "wangfang"), active=False)
    assert client.get("/inbox").status_code == 302  # the session no longer loads a user
    assert client.post("/login", data={"username": "wangfang", "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize("target, expected", [
    ("/inbox?view=group", "/inbox?view=group"),
    ("https://evil.example/", "/inbox"),
    ("//evil.example/x", "/inbox"),
    ("javascript:alert(1)", "/inbox"),
])
def test_login_redirects_only_to_pages_of_this_site(client, make_user, target, expected):
    make_user("wangfang")
    response = client.post("/login", data={"username": "wangfang", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == expected


def test_logout_ends_the_session_and_is_audited(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    assert client.post("/logout").status_code == 302
    assert client.get("/inbox").status_code == 302
    assert [e.actor for e in _audit("logout")] == ["wangfang"]


def test_logout_needs_a_post(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    assert client.get("/logout").status_code == 405


def test_forms_without_the_csrf_token_are_refused(database, engine, make_user):
    app = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test", "SESSION_COOKIE_SECURE": False})
    client = app.test_client()
    make_user("wangfang")
    refused = client.post("/login", data={"username": "wangfang", "password": PASSWORD})
    assert refused.status_code == 400
    token = csrf_token(client)
    accepted = client.post("/login", data={"username": "wangfang", "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302
    # after login, a state-changing request without the token is refused too
    assert client.post("/inbox/filters", data={"name": "x", "query": ""}).status_code == 400
    ok = client.post("/inbox/filters", data={"name": "x", "query": "", "csrf_token": csrf_token(client, "/inbox")})
    assert ok.status_code == 302


def test_session_cookie_is_secure_httponly_and_samesite_by_default(database, engine, monkeypatch):
    monkeypatch.delenv("ERP_INSECURE_COOKIES", raising=False)
    app = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with db.transaction() as session:
        ensure_user(session, "wangfang", password=PASSWORD)
    response = app.test_client().post("/login", data={"username": "wangfang", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_account_page_changes_language_and_password(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    assert "我的待办" in client.get("/inbox").get_data(as_text=True)
    client.post("/account", data={"action": "profile", "locale": "en", "display_name": "Wang Fang"})
    page = client.get("/inbox").get_data(as_text=True)
    assert "My tasks" in page and "Wang Fang" in page
    wrong = client.post("/account", data={"action": "password", "current_password": "nope-nope",
                                          "new_password": "n3w-password", "confirm_password": "n3w-password"})
    assert wrong.status_code == 422
    ok = client.post("/account", data={"action": "password", "current_password": PASSWORD,
                                       "new_password": "n3w-password", "confirm_password": "n3w-password"})
    assert ok.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": "wangfang", "password": "n3w-password"}).status_code == 302
    with db.transaction(readonly=True) as session:
        assert session.scalar(select(User.locale).where(User.username == "wangfang")) == "en"
    assert [e.actor for e in _audit("user.password")] == ["wangfang"]


def test_language_before_login_follows_the_browser_or_the_choice(client):
    assert "用户名" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Username" in english
    client.post("/language/en")
    assert "Username" in client.get("/login").get_data(as_text=True)


def test_every_response_reports_its_server_time(client):
    assert client.get("/login").headers["Server-Timing"].startswith("app;dur=")


def test_pages_carry_the_security_headers(client):
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"

"""Security settings of the web app: the security headers, secure cookies, the idle timeout, sessions renewed at
login and ended by a password change, the password policy on the pages, and CSRF on the security forms."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core import clock, db
from erp.audit.models import AuditEntry
from erp.identity.services import create_token, get_user, set_password
from tests.webapp.conftest import PASSWORD, csrf_token, login
from webapp import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


def _app(engine, **config):
    return create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test", **config})


# ---------------------------------------------------------------------- headers

def test_scripts_and_styles_come_only_from_this_site(client):
    policy = _policy(client.get("/login"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    # style attributes only (bpmn-js and the Gantt chart set them); they run nothing and load nothing
    assert policy["style-src-attr"] == "'unsafe-inline'"
    assert "unsafe-eval" not in str(policy)


@pytest.mark.parametrize("path", ["/login", "/inbox", "/no-such-page", "/api/v1/me"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_strict_transport_security_is_sent_over_https_when_cookies_are_secure(database, engine, monkeypatch):
    monkeypatch.delenv("ERP_INSECURE_COOKIES", raising=False)
    secure = _app(engine).test_client()
    over_https = secure.get("/login", base_url="https://erp.example.cn")
    assert over_https.headers["Strict-Transport-Security"] == "max-age=31556926"
    # behind the reverse proxy that ends TLS
    proxied = secure.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")
    # browsers ignore it over plain HTTP, and an HTTP-only demo must not promise HTTPS
    assert "Strict-Transport-Security" not in secure.get("/login").headers
    monkeypatch.setenv("ERP_INSECURE_COOKIES", "1")
    plain = _app(engine).test_client()
    assert "Strict-Transport-Security" not in plain.get("/login", base_url="https://erp.example.cn").headers


def test_templates_carry_no_inline_script_or_style_element():
    """The CSP would block them: code belongs in static files, data in <script type="application/json">."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        html = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.S)
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append((template.name, tag))
        offenders += [(template.name, m) for m in re.findall(r"<style\b|\son[a-z]+=[\"']|javascript:", html)]
    assert offenders == []


def test_the_back_link_of_an_error_page_needs_no_script(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    page = client.get("/instances/999999", headers={"Referer": "http://localhost/inbox?view=group"})
    assert page.status_code == 404
    assert 'id="error-back"' in page.get_data(as_text=True)
    assert 'href="http://localhost/inbox?view=group"' in page.get_data(as_text=True)
    elsewhere = client.get("/instances/999999", headers={"Referer": "https://evil.example/"})
    assert 'href="https://evil.example/"' not in elsewhere.get_data(as_text=True)


# ---------------------------------------------------------------------- cookies

def test_session_and_remember_cookies_are_secure_httponly_and_lax_by_default(database, engine, monkeypatch,
                                                                            make_user):
    monkeypatch.delenv("ERP_INSECURE_COOKIES", raising=False)
    app = _app(engine, WTF_CSRF_ENABLED=False)
    for kind in ("SESSION", "REMEMBER"):
        assert app.config[f"{kind}_COOKIE_SECURE"] and app.config[f"{kind}_COOKIE_HTTPONLY"]
        assert app.config[f"{kind}_COOKIE_SAMESITE"] == "Lax"
    make_user("wangfang")
    cookie = app.test_client().post("/login", data={"username": "wangfang", "password": PASSWORD},
                                    base_url="https://erp.example.cn").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_cookies_only_when_asked_for(database, engine, monkeypatch, make_user):
    monkeypatch.setenv("ERP_INSECURE_COOKIES", "1")  # what `make run` sets for the local demo
    app = _app(engine, WTF_CSRF_ENABLED=False)
    make_user("wangfang")
    client = app.test_client()
    cookie = client.post("/login", data={"username": "wangfang", "password": PASSWORD}).headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie
    client.get("/inbox")
    assert app.config["SESSION_COOKIE_SECURE"] is False  # nothing switches it back on per request


# ---------------------------------------------------------------------- idle timeout

def test_a_session_idle_longer_than_the_timeout_goes_back_to_the_login_page(client, make_user):
    make_user("wangfang")
    with clock.frozen(clock.now()) as frozen:
        login(client, "wangfang")
        for _ in range(3):  # each request starts the 30 minutes anew
            frozen.advance(minutes=29)
            assert client.get("/inbox").status_code == 200
        frozen.advance(minutes=31)
        response = client.get("/inbox?view=group")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "您已 30 分钟没有操作" in page
        assert client.get("/inbox").status_code == 302


def _sets_session(response) -> bool:
    return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_only_a_request_that_changes_the_session_sends_its_cookie(client, make_user):
    """A page's background request (the modeler's lint) answered after a request that flashed a message must
    not put the older session back over it: a request that changes nothing sends no cookie, and activity is
    noted once a minute."""
    make_user("wangfang")
    with clock.frozen(clock.now()) as frozen:
        login(client, "wangfang")
        client.get("/inbox")  # the first page after login keeps its new CSRF token
        frozen.advance(seconds=20)
        assert client.get("/inbox").status_code == 200 and not _sets_session(client.get("/inbox"))
        frozen.advance(seconds=60)
        assert _sets_session(client.get("/inbox"))  # a minute on: seen again, the cookie renewed
        # a second request of the same page, sent with the cookie as it was: its answer leaves the cookie alone
        background = client.application.test_client()
        background.set_cookie("session", client.get_cookie("session").value)
        frozen.advance(seconds=5)
        answer = background.get("/inbox")
        assert answer.status_code == 200 and not _sets_session(answer)


def test_the_idle_timeout_is_a_setting_and_administrators_may_have_their_own(database, engine, make_user):
    app = _app(engine, WTF_CSRF_ENABLED=False, SESSION_IDLE_MINUTES=60, ADMIN_SESSION_IDLE_MINUTES=10)
    make_user("wangfang")
    make_user("admin", roles=["administrator"])
    employee, administrator = app.test_client(), app.test_client()
    with clock.frozen(clock.now()) as frozen:
        login(employee, "wangfang")
        login(administrator, "admin")
        frozen.advance(minutes=11)
        assert administrator.get("/admin/users").status_code == 302
        assert employee.get("/inbox").status_code == 200


def test_the_default_idle_timeout_comes_from_the_environment(database, engine, monkeypatch):
    monkeypatch.setenv("ERP_SESSION_IDLE_MINUTES", "45")
    app = _app(engine)
    assert app.config["SESSION_IDLE_MINUTES"] == 45 and app.config["ADMIN_SESSION_IDLE_MINUTES"] == 45


def test_api_tokens_have_no_idle_timeout(client, make_user):
    make_user("wangfang")
    with db.transaction() as session:
        token = create_token(session, get_user(session, "wangfang"), "integration")
    with clock.frozen(clock.now()) as frozen:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        frozen.advance(hours=5)
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# ---------------------------------------------------------------------- session fixation

@pytest.fixture
def guarded(database, engine):
    """An app with CSRF protection on, as in production."""
    return _app(engine, SESSION_COOKIE_SECURE=False)


def test_login_renews_the_session_and_keeps_only_the_language(guarded, make_user):
    make_user("wangfang", locale="en")
    client = guarded.test_client()
    client.post("/language/zh_CN", data={"csrf_token": csrf_token(client)})
    old_token = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"username": "wangfang", "password": PASSWORD, "csrf_token": old_token})
    with client.session_transaction() as session:
        assert "planted" not in session and session["locale"] == "zh_CN"
    # the CSRF token of the session before login is worth nothing after it
    assert client.post("/inbox/filters", data={"name": "x", "query": "", "csrf_token": old_token}).status_code == 400
    fresh = csrf_token(client, "/inbox")
    assert fresh != old_token
    assert client.post("/inbox/filters", data={"name": "x", "query": "", "csrf_token": fresh}).status_code == 302


def test_a_session_cookie_handed_to_the_victim_before_login_gives_the_attacker_nothing(guarded, make_user):
    make_user("wangfang")
    attacker, victim = guarded.test_client(), guarded.test_client()
    token = csrf_token(attacker)
    fixed = attacker.get_cookie("session")
    victim.set_cookie("session", fixed.value)
    victim.post("/login", data={"username": "wangfang", "password": PASSWORD, "csrf_token": token})
    assert victim.get("/inbox").status_code == 200
    assert victim.get_cookie("session").value != fixed.value
    assert attacker.get("/inbox").status_code == 302


def test_changing_the_password_ends_the_other_sessions_of_the_user(app, make_user):
    make_user("wangfang")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "wangfang")
    login(phone, "wangfang")
    changed = laptop.post("/account", data={"action": "password", "current_password": PASSWORD,
                                            "new_password": "n3w-password", "confirm_password": "n3w-password"})
    assert changed.status_code == 302
    assert laptop.get("/inbox").status_code == 200
    assert phone.get("/inbox").status_code == 302


def test_an_administrators_password_reset_ends_the_users_sessions(app, make_user):
    make_user("wangfang")
    make_user("admin", roles=["administrator"])
    user, admin = app.test_client(), app.test_client()
    login(user, "wangfang")
    login(admin, "admin")
    with db.transaction() as session:
        user_id = get_user(session, "wangfang").id
    assert admin.post(f"/admin/users/{user_id}/password", data={"password": "reset-by-it-42"}).status_code == 302
    assert user.get("/inbox").status_code == 302
    login(user, "wangfang", "reset-by-it-42")


# ---------------------------------------------------------------------- password policy on the pages

def _change(client, new, current=PASSWORD):
    return client.post("/account", data={"action": "password", "current_password": current, "new_password": new,
                                         "confirm_password": new})


def _errors(response) -> list[str]:
    return re.findall(r'data-error-for="new_password">([^<]+)<', response.get_data(as_text=True))


def test_the_account_page_explains_each_rule_the_new_password_breaks(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    assert "至少 10 个字符，须同时包含字母和数字" in client.get("/account").get_data(as_text=True)
    assert _errors(_change(client, "short")) == ["至少 10 个字符。", "密码须同时包含字母和数字。"]
    assert _errors(_change(client, "WangFang")) == ["至少 10 个字符。", "密码须同时包含字母和数字。",
                                                    "密码不能与用户名相同。"]
    assert _errors(_change(client, "password123")) == ["该密码过于常见，请另选一个。"]
    assert _errors(_change(client, PASSWORD)) == ["新密码不能与当前密码相同。"]
    client.post("/account", data={"action": "profile", "locale": "en"})
    english = _change(client, "abcdefghijk")
    assert english.status_code == 422 and _errors(english) == ["Use both letters and digits."]
    assert _change(client, "lotus-pond-2026").status_code == 302


def test_an_administrator_cannot_set_a_weak_password_either(app, make_user):
    make_user("wangfang")
    make_user("admin", roles=["administrator"])
    admin = app.test_client()
    login(admin, "admin")
    with db.transaction() as session:
        user_id = get_user(session, "wangfang").id
    weak = admin.post(f"/admin/users/{user_id}/password", data={"password": "1234567890"})
    assert weak.status_code == 422
    assert "密码须同时包含字母和数字。" in weak.get_data(as_text=True)
    created = admin.post("/admin/users/new", data={"username": "liuyang", "roles": ["employee"],
                                                   "locale": "zh_CN", "password": "liuyang"})
    assert created.status_code == 422 and "密码不能与用户名相同。" in created.get_data(as_text=True)


def test_the_demo_password_set_before_the_policy_still_logs_in(client, make_user):
    make_user("wangfang")
    with db.transaction() as session:
        set_password(get_user(session, "wangfang"), "demo1234")  # what `erp demo` does
    login(client, "wangfang", "demo1234")


# ---------------------------------------------------------------------- CSRF on the security forms

def test_every_security_form_refuses_a_post_without_the_csrf_token(guarded, make_user):
    make_user("wangfang")
    make_user("admin", roles=["administrator"])
    with db.transaction() as session:
        user_id = get_user(session, "wangfang").id
    client = guarded.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(client)})
    forms = {"/account": {"action": "password", "current_password": PASSWORD, "new_password": "lotus-pond-2026",
                          "confirm_password": "lotus-pond-2026"},
             "/account/second-factor/start": {}, "/account/second-factor/confirm": {"code": "123456"},
             "/account/second-factor/remove": {"code": "123456"},
             f"/admin/users/{user_id}/second-factor/reset": {},
             f"/admin/users/{user_id}/password": {"password": "lotus-pond-2026"}}
    for path, data in forms.items():
        assert client.post(path, data=data).status_code == 400, path
    token = csrf_token(client, "/account")
    for path, data in forms.items():
        assert client.post(path, data={**data, "csrf_token": token}).status_code != 400, path
    anonymous = guarded.test_client()
    assert anonymous.post("/login/code", data={"code": "123456"}).status_code == 400
    assert anonymous.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    with db.transaction(readonly=True) as session:
        refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
    assert refused == []  # refused before the password was even looked at

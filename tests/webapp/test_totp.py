"""The optional TOTP second factor: set up from the account page (key as text, otpauth:// link, QR code) and
confirmed with a first code; login then asks for the code (each code good once, rate-limited like passwords);
an administrator resets a lost one; a setting makes administrators set one up before the administration pages
open to them. The codes are computed the way an authenticator app does (pyotp, from the key the page shows)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from core import clock, db
from erp.audit.models import AuditEntry
from erp.identity.models import LoginAttempt
from erp.identity.services import create_token, get_user
from tests.webapp.conftest import PASSWORD, login
from webapp import create_app


def _code(key: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(key).at(clock.now(), counter_offset=offset_steps)


def _enrol(client) -> str:
    """Set up a second factor through the pages; returns the key the page showed."""
    assert client.post("/account/second-factor/start").status_code == 302
    page = client.get("/account/second-factor").get_data(as_text=True)
    key = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.post("/account/second-factor/confirm", data={"code": _code(key)}).status_code == 302
    return key


def _audit(action) -> list[AuditEntry]:
    with db.transaction(readonly=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        session.expunge_all()
        return entries


def _password_step(client, username="wangfang", password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def enrolled(app, make_user):
    """wangfang with a second factor; returns her key. Time stands still (move it with the returned clock)."""
    make_user("wangfang")
    with clock.frozen(clock.now()) as frozen:
        client = app.test_client()
        login(client, "wangfang")
        key = _enrol(client)
        frozen.advance(seconds=30)  # the code used to confirm is spent
        yield key, frozen


def test_the_set_up_page_shows_the_key_as_text_link_and_qr_code(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    page = client.get("/account").get_data(as_text=True)
    assert 'id="second-factor-link"' in page and "未开启" in page
    client.post("/account/second-factor/start")
    page = client.get("/account/second-factor").get_data(as_text=True)
    key = re.search(r'id="totp-secret">([A-Z2-7]{32})<', page).group(1)
    uri = re.search(r'id="totp-uri">([^<]+)<', page).group(1).replace("&amp;", "&")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/ERP:wangfang")
    assert parse_qs(parts.query) == {"secret": [key], "issuer": ["ERP"]}
    assert re.search(r'<img src="data:image/svg\+xml;charset=utf-8,%3Csvg[^"]+" alt="二维码" id="totp-qr"', page)
    # until confirmed, logging in asks for no code
    assert _password_step(client.application.test_client()).status_code == 302


def test_a_wrong_first_code_does_not_switch_it_on_and_the_right_one_does(client, make_user):
    make_user("wangfang")
    login(client, "wangfang")
    client.post("/account/second-factor/start")
    page = client.get("/account/second-factor").get_data(as_text=True)
    key = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post("/account/second-factor/confirm", data={"code": "000000"})
    assert wrong.status_code == 422 and "验证码错误或已被使用。" in wrong.get_data(as_text=True)
    assert client.post("/account/second-factor/confirm", data={"code": _code(key)}).status_code == 302
    assert "已开启" in client.get("/account").get_data(as_text=True)
    [entry] = _audit("user.totp_enrol")
    assert entry.actor == "wangfang" and key not in str(entry.after) and key not in str(entry.detail)


def test_login_asks_for_the_code_after_the_password(app, enrolled):
    key, _ = enrolled
    client = app.test_client()
    response = _password_step(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/inbox").status_code == 302  # the password alone does not log in
    assert "六位验证码" in client.get("/login/code").get_data(as_text=True)
    wrong = client.post("/login/code", data={"code": "000000"})
    assert wrong.status_code == 401 and "验证码错误或已被使用。" in wrong.get_data(as_text=True)
    right = client.post("/login/code", data={"code": _code(key)})
    assert right.status_code == 302 and right.headers["Location"] == "/inbox"
    assert client.get("/inbox").status_code == 200
    assert _audit("login")[-1].detail == "with TOTP code"
    assert len(_audit("login_code_required")) == 1 and len(_audit("login_code_failed")) == 1


def test_the_login_keeps_the_page_asked_for_across_both_steps(app, enrolled):
    key, _ = enrolled
    client = app.test_client()
    client.post("/login", data={"username": "wangfang", "password": PASSWORD, "next": "/inbox?view=group"})
    assert client.post("/login/code", data={"code": _code(key)}).headers["Location"] == "/inbox?view=group"


def test_a_code_is_good_once_and_the_previous_steps_code_still_counts(app, enrolled):
    key, frozen = enrolled
    frozen.advance(seconds=30)
    first = app.test_client()
    _password_step(first)
    code = _code(key, offset_steps=-1)  # a phone 30 s behind
    assert first.post("/login/code", data={"code": code}).status_code == 302
    second = app.test_client()
    _password_step(second)
    assert second.post("/login/code", data={"code": code}).status_code == 401  # replayed
    frozen.advance(seconds=30)
    assert second.post("/login/code", data={"code": _code(key)}).status_code == 302


def test_the_code_step_expires_and_cannot_be_skipped(app, enrolled):
    key, frozen = enrolled
    client = app.test_client()
    assert client.post("/login/code", data={"code": _code(key)}).status_code == 302  # no password step
    assert client.get("/inbox").status_code == 302
    _password_step(client)
    frozen.advance(minutes=6)
    late = client.post("/login/code", data={"code": _code(key)})
    assert late.status_code == 302 and late.headers["Location"] == "/login"
    assert client.get("/inbox").status_code == 302


def test_wrong_codes_are_rate_limited_like_passwords(app, enrolled):
    key, frozen = enrolled
    client = app.test_client()
    _password_step(client)
    for _ in range(5):
        assert client.post("/login/code", data={"code": "999999"}).status_code == 401
    blocked = client.post("/login/code", data={"code": _code(key)})
    assert blocked.status_code == 429 and "失败次数过多" in blocked.get_data(as_text=True)
    # the right password again does not forgive the wrong codes
    assert _password_step(app.test_client()).status_code == 429
    with db.transaction(readonly=True) as session:
        factors = session.scalars(select(LoginAttempt.factor).where(LoginAttempt.success.is_(False))).all()
    assert factors == ["code"] * 5


def test_the_user_turns_it_off_with_a_current_code(app, enrolled):
    key, _ = enrolled
    client = app.test_client()
    _password_step(client)
    client.post("/login/code", data={"code": _code(key)})
    assert client.post("/account/second-factor/remove", data={"code": "123456"}).status_code == 422
    assert client.post("/account/second-factor/remove", data={"code": _code(key, 1)}).status_code == 302
    assert len(_audit("user.totp_remove")) == 1
    assert _password_step(app.test_client()).status_code == 302
    assert _password_step(app.test_client()).headers["Location"] == "/inbox"


def test_an_administrator_resets_a_lost_second_factor(app, enrolled, make_user):
    make_user("admin", roles=["administrator"])
    admin = app.test_client()
    login(admin, "admin")
    with db.transaction() as session:
        user_id = get_user(session, "wangfang").id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert 'id="reset-second-factor"' in page
    assert admin.post(f"/admin/users/{user_id}/second-factor/reset").status_code == 302
    [entry] = _audit("user.totp_reset")
    assert (entry.actor, entry.target_id, entry.before, entry.after) == (
        "admin", "wangfang", {"second_factor": True}, {"second_factor": False})
    assert _password_step(app.test_client()).headers["Location"] == "/inbox"
    assert 'id="reset-second-factor"' not in admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    employee = app.test_client()
    login(employee, "wangfang")
    assert employee.post(f"/admin/users/{user_id}/second-factor/reset").status_code == 403


def test_a_setting_makes_administrators_set_it_up_before_the_administration_pages(database, engine, make_user):
    app = create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "SESSION_COOKIE_SECURE": False, "REQUIRE_TOTP_FOR_ADMINS": True})
    make_user("admin", roles=["administrator"])
    make_user("wangfang")
    client = app.test_client()
    assert login(client, "admin").headers["Location"] == "/account/second-factor"
    sent = client.get("/admin/users")
    assert sent.status_code == 302 and sent.headers["Location"] == "/account/second-factor"
    assert "系统管理员必须先设置双因素认证" in client.get("/account/second-factor").get_data(as_text=True)
    assert client.get("/inbox").status_code == 200  # the rest of the work goes on
    # other users are not asked
    employee = app.test_client()
    assert login(employee, "wangfang").headers["Location"] == "/inbox"
    # API tokens are a credential of their own
    with db.transaction() as session:
        token = create_token(session, get_user(session, "admin"), "integration")
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with clock.frozen(clock.now()):
        _enrol(client)
        assert client.get("/admin/users").status_code == 200
        # and they cannot switch it off again
        refused = client.post("/account/second-factor/remove", data={"code": "000000"})
        assert refused.status_code == 422 and "系统管理员必须保留双因素认证。" in refused.get_data(as_text=True)

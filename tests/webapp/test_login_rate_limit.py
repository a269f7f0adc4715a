"""Login rate limiting, kept in the database: 5 failures for a username or 20 from an address within 15 minutes
block further attempts (HTTP 429 with a clear message) until the window passes, in every web process; a
completed login forgives the username's failures; every attempt is audited."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock, db
from erp.audit.models import AuditEntry
from erp.identity.models import LoginAttempt
from tests.webapp.conftest import PASSWORD
from webapp import create_app


def _try(client, username, password="wrong-password-1", address="10.1.1.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _actions() -> list[str]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("login%"))
                                    .order_by(AuditEntry.id)))


def test_five_failures_block_the_username_with_a_clear_message_until_the_window_passes(client, make_user):
    make_user("wangfang")
    with clock.frozen(clock.now()) as frozen:
        for _ in range(5):
            assert _try(client, "wangfang").status_code == 401
        blocked = _try(client, "wangfang", PASSWORD)
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60 + 1
        assert "失败次数过多，请在 15 分钟后重试。" in blocked.get_data(as_text=True)
        assert 'value="wangfang"' in blocked.get_data(as_text=True)  # the form is shown again, filled in
        frozen.advance(minutes=10)
        later = _try(client, "wangfang", PASSWORD, address="10.9.9.9")  # another address does not help
        assert later.status_code == 429 and "请在 5 分钟后重试" in later.get_data(as_text=True)
        frozen.advance(minutes=5, seconds=1)
        assert _try(client, "wangfang", PASSWORD).status_code == 302


def test_the_message_is_in_english_for_an_english_browser(client, make_user):
    make_user("wangfang")
    with clock.frozen(clock.now()):
        for _ in range(5):
            _try(client, "wangfang")
        blocked = client.post("/login", data={"username": "wangfang", "password": PASSWORD},
                              headers={"Accept-Language": "en"})
    assert "Too many failed attempts. Try again in 15 minutes." in blocked.get_data(as_text=True)


def test_a_successful_login_forgives_the_usernames_earlier_failures(app, make_user):
    make_user("wangfang")
    with clock.frozen(clock.now()):
        client = app.test_client()
        for _ in range(4):
            assert _try(client, "wangfang").status_code == 401
        assert _try(client, "wangfang", PASSWORD).status_code == 302
        client = app.test_client()
        for _ in range(5):
            assert _try(client, "wangfang").status_code == 401
        assert _try(client, "wangfang", PASSWORD).status_code == 429


def test_twenty_failures_from_one_address_block_that_address_only(client, make_user):
    make_user("wangfang")
    with clock.frozen(clock.now()):
        for i in range(20):
            assert _try(client, f"guess{i}", address="203.0.113.7").status_code == 401
        assert _try(client, "wangfang", PASSWORD, address="203.0.113.7").status_code == 429
        assert _try(client, "wangfang", PASSWORD, address="10.1.1.2").status_code == 302


def test_the_limit_holds_across_web_processes_sharing_the_database(database, engine, make_user):
    make_user("wangfang")
    config = {"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
              "SESSION_COOKIE_SECURE": False}
    first, second = create_app(config).test_client(), create_app(config).test_client()
    with clock.frozen(clock.now()):
        for client in (first, second, first, second, first):
            assert _try(client, "wangfang").status_code == 401
        assert _try(second, "wangfang", PASSWORD).status_code == 429


def test_every_attempt_is_audited_and_blocked_ones_do_not_extend_the_block(client, make_user):
    make_user("wangfang")
    start = clock.now()
    with clock.frozen(start) as frozen:
        for _ in range(5):
            _try(client, "wangfang")
        frozen.advance(minutes=14)
        assert _try(client, "wangfang", PASSWORD).status_code == 429
    with clock.frozen(start + timedelta(minutes=15, seconds=1)):
        assert _try(client, "wangfang", PASSWORD).status_code == 302
    assert _actions() == ["login_failed"] * 5 + ["login_blocked", "login"]
    with db.transaction(readonly=True) as session:
        attempts = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.success, a.factor, a.address) for a in attempts] == \
            [(False, "password", "10.1.1.1")] * 5 + [(True, "password", "10.1.1.1")]


def test_behind_a_trusted_proxy_the_address_is_the_clients_and_otherwise_the_header_is_ignored(database, engine,
                                                                                                make_user):
    """Behind nginx every request comes from 127.0.0.1: with ERP_TRUSTED_PROXIES=1 the address recorded and
    limited is the one nginx forwards; without a proxy a client's own X-Forwarded-For is not believed."""
    make_user("wangfang")
    config = {"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
              "SESSION_COOKIE_SECURE": False}
    proxied = create_app({**config, "TRUSTED_PROXIES": 1}).test_client()
    direct = create_app({**config, "TRUSTED_PROXIES": 0}).test_client()

    def attempt(client, forwarded_for):
        return client.post("/login", data={"username": "wangfang", "password": "wrong-password-1"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"},
                           headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"})

    with clock.frozen(clock.now()):
        # a spoofed first hop is the client's own claim: only the address nginx appended counts
        assert attempt(proxied, "198.51.100.1, 203.0.113.9").status_code == 401
        assert attempt(direct, "203.0.113.10").status_code == 401
    with db.transaction(readonly=True) as session:
        addresses = session.scalars(select(LoginAttempt.address).order_by(LoginAttempt.id)).all()
        audited = session.scalars(select(AuditEntry.address).where(AuditEntry.action == "login_failed")
                                  .order_by(AuditEntry.id)).all()
    assert addresses == ["203.0.113.9", "127.0.0.1"]
    assert audited == ["203.0.113.9", "127.0.0.1"]

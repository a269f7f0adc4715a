"""The self-service delegation page (代理): a user sets from which day to which day their tasks go to a colleague,
sees it, and ends it; each change is audited, and the form needs its CSRF token."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core import clock
from erp.audit.models import AuditEntry
from erp.identity.queries import delegation_of
from tests.webapp.conftest import PASSWORD, csrf_token, login
from webapp import create_app

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
FORM = {"action": "set", "delegate": "lina", "starts_on": "2026-03-09", "ends_on": "2026-03-13",
        "process_key": "approval"}


def test_a_user_sets_and_ends_their_delegation(client, make_user, database):
    make_user("zhangwei", name="张伟")
    make_user("lina", name="李娜")
    login(client, "zhangwei")
    with clock.frozen(NOW):
        page = client.get("/account/delegation")
        assert page.status_code == 200 and 'name="delegate"' in page.get_data(as_text=True)
        assert client.post("/account/delegation", data=FORM).status_code == 302
        shown = client.get("/account/delegation").get_data(as_text=True)
        assert 'id="current-delegation"' in shown and "李娜" in shown
        with database.transaction(readonly=True) as session:
            current = delegation_of(session, "zhangwei")
        assert (current["delegate"], current["process_key"], current["active"]) == ("lina", "approval", True)
        assert client.post("/account/delegation", data={"action": "end"}).status_code == 302
        with database.transaction(readonly=True) as session:
            assert delegation_of(session, "zhangwei") is None
            audit = [(e.action, e.actor) for e in session.scalars(select(AuditEntry).where(
                AuditEntry.action.like("delegation.%")).order_by(AuditEntry.id))]
    assert audit == [("delegation.set", "zhangwei"), ("delegation.end", "zhangwei")]


def test_a_delegation_to_oneself_or_with_dates_reversed_is_refused_with_field_errors(client, make_user, database):
    make_user("zhangwei")
    login(client, "zhangwei")
    with clock.frozen(NOW):
        to_self = client.post("/account/delegation", data={**FORM, "delegate": "zhangwei"})
        reversed_ = client.post("/account/delegation", data={**FORM, "starts_on": "2026-03-13",
                                                             "ends_on": "2026-03-09"})
    assert to_self.status_code == 422 and "不能代理给自己" in to_self.get_data(as_text=True)
    assert reversed_.status_code == 422 and "结束日期早于开始日期" in reversed_.get_data(as_text=True)
    with database.transaction(readonly=True) as session:
        assert delegation_of(session, "zhangwei") is None


def test_the_account_page_links_to_the_delegation_page(client, make_user):
    make_user("zhangwei")
    login(client, "zhangwei")
    assert 'href="/account/delegation"' in client.get("/account").get_data(as_text=True)


def test_setting_a_delegation_needs_the_csrf_token(database, engine, make_user):
    app = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test", "SESSION_COOKIE_SECURE": False})
    client = app.test_client()
    make_user("zhangwei")
    make_user("lina")
    client.post("/login", data={"username": "zhangwei", "password": PASSWORD, "csrf_token": csrf_token(client)})
    with clock.frozen(NOW):
        assert client.post("/account/delegation", data=FORM).status_code == 400
        token = csrf_token(client, "/account/delegation")
        assert client.post("/account/delegation", data={**FORM, "csrf_token": token}).status_code == 302
        with database.transaction(readonly=True) as session:
            assert delegation_of(session, "zhangwei") is not None

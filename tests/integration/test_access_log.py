"""The access log (访问日志): personal information shown unmasked — on a page, through the API — writes who saw
which fields of what, when, from where and how; masked showings write nothing. Run through the web app on the
demo company's data."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import clock
from erp.audit import access
from erp.audit.models import AccessEntry
from erp.crm.models import Customer
from erp.identity.services import create_token, ensure_user, user_by_name
from tests.purchasing_data import supplier
from tests.webapp.conftest import PASSWORD, login
from tests.webapp.erp_pages import load_company
from webapp import create_app

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


@pytest.fixture
def company(database):
    load_company(database)


@pytest.fixture
def app(database, engine):
    return create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})


@pytest.fixture
def make_user(database):
    def make(username, roles):
        with database.transaction() as session:
            ensure_user(session, username, username, roles=list(roles), password=PASSWORD,
                        email=f"{username}@example.cn")
        return username

    return make


def _id(database, model, code) -> int | None:
    with database.transaction(readonly=True) as session:
        return session.scalar(select(model.id).where(model.code == code))


def _entries(database) -> list[AccessEntry]:
    with database.transaction(readonly=True) as session:
        return list(session.scalars(select(AccessEntry).order_by(AccessEntry.id)))


def _client(app, make_user, username, roles):
    client = app.test_client()
    login(client, make_user(username, roles=roles))
    return client


def test_a_manager_viewing_a_customer_is_written_to_the_access_log(app, make_user, database, company):
    manager = _client(app, make_user, "zhangwei", ["employee", "manager"])
    customer_id = _id(database, Customer, "C-000001")
    with clock.frozen(T0):
        html = manager.get(f"/crm/customers/{customer_id}").get_data(as_text=True)
    assert "13901012201" in html
    [entry] = _entries(database)
    assert (entry.actor, entry.how, entry.entity, entry.entity_id) == ("zhangwei", "view", "crm_customer",
                                                                       str(customer_id))
    assert {"contact_name", "mobile", "email"} <= set(entry.fields)
    assert entry.at == T0 and entry.address == "127.0.0.1"
    assert entry.detail == f"GET /crm/customers/{customer_id}"


def test_a_masked_view_writes_no_access_entry(app, make_user, database, company):
    rep = _client(app, make_user, "zhaoqiang", ["employee", "sales"])
    html = rep.get(f"/crm/customers/{_id(database, Customer, 'C-000001')}").get_data(as_text=True)
    assert "139****2201" in html and "13901012201" not in html
    assert _entries(database) == []


def test_a_supplier_bank_account_shown_through_the_api_is_logged_as_api(app, make_user, database, company):
    make_user("zhangwei", roles=["employee", "manager"])
    with database.transaction() as session:
        supplier_id = supplier(session, bank_name="中国工商银行", bank_account="6222021234567890123").id
        token = create_token(session, user_by_name(session, "zhangwei"), "test")
    response = app.test_client().get("/api/v1/suppliers/S-000001",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["bank_account"] == "6222021234567890123"
    [entry] = _entries(database)
    assert (entry.how, entry.entity, entry.actor) == ("api", "purchasing_supplier", "zhangwei")
    assert entry.entity_id in (str(supplier_id), "S-000001")  # the API names suppliers by their code
    assert "bank_account" in entry.fields


def test_the_access_log_is_searched_by_who_what_how_field_and_dates(tx):
    with clock.frozen(T0), tx() as session:
        access.record_access(session, actor="zhangwei", how="view", entity="crm_customer", entity_id=1,
                             fields=["mobile", "contact_name"], address="10.0.0.8")
        access.record_access(session, actor="lina", how="export", entity="audit_log", fields=[])
        assert access.record_access(session, actor="lina", how="view", entity="crm_customer", fields=[]) is None
    with tx(readonly=True) as session:
        assert access.search(session)[1] == 2
        [row], _ = access.search(session, actor="zhangwei")
        assert row["fields"] == ["contact_name", "mobile"] and row["address"] == "10.0.0.8"
        assert [r["how"] for r in access.search(session, how="export")[0]] == ["export"]
        assert [r["actor"] for r in access.search(session, field="mobile")[0]] == ["zhangwei"]
        assert access.search(session, entity="crm_customer", entity_id="1")[1] == 1
        assert access.search(session, since=datetime(2026, 3, 3, tzinfo=UTC))[1] == 0
    with pytest.raises(ValueError), tx() as session:
        access.record_access(session, actor="x", how="glance", entity="crm_customer", fields=["mobile"])

"""The auditor's pages: the audit log (business events and record changes, before/after, searched, exported to
CSV) and the access log; read only; personal values masked for readers without personal_data.view, and reading
them unmasked — or exporting — written to the access log. Masking per role across pages, API and exports."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from erp.audit.changes import acting_as
from erp.audit.models import AccessEntry, RecordChange
from erp.crm.models import Contact, Customer
from erp.crm.services import add_contact, create_customer
from erp.identity.services import create_token, user_by_name
from tests.purchasing_data import supplier
from tests.webapp.conftest import login
from tests.webapp.erp_pages import load_company

MOBILE, MASKED = "13812345678", "138****5678"


def _client(app, make_user, username, roles):
    client = app.test_client()
    login(client, make_user(username, roles=roles))
    return client


@pytest.fixture
def auditor(app, make_user):
    return _client(app, make_user, "sunmei", ["auditor"])


@pytest.fixture
def admin(app, make_user):
    return _client(app, make_user, "admin", ["administrator"])


@pytest.fixture
def contact(database):
    """A customer's contact whose mobile number then changed: two record changes holding a personal value."""
    with acting_as("zhangwei", "10.0.0.8"), database.transaction() as session:
        customer_id = create_customer(session, name_zh="北京鑫源百货有限公司", by="zhangwei").id
        contact_id = add_contact(session, customer_id, contact_name="李明", mobile="13900000000").id
    with acting_as("zhangwei", "10.0.0.8"), database.transaction() as session:
        session.get(Contact, contact_id).mobile = MOBILE
    return contact_id


def _access(database) -> list[AccessEntry]:
    with database.transaction(readonly=True) as session:
        return list(session.scalars(select(AccessEntry).order_by(AccessEntry.id)))


def _html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_an_auditor_reads_the_logs_and_nothing_of_the_administration(auditor):
    html = _html(auditor, "/admin/audit")
    assert "审计日志" in html and 'id="audit-table"' in html and "访问日志" in html
    assert auditor.get("/admin/access-log").status_code == 200
    assert auditor.get("/admin/users").status_code == 403
    assert auditor.post("/admin/audit").status_code == 405
    assert auditor.post("/admin/access-log").status_code == 405


@pytest.mark.parametrize("role", ["employee", "manager", "sales", "analyst"])
def test_the_logs_are_refused_to_roles_without_them(app, make_user, role):
    client = _client(app, make_user, f"only_{role}", [role])
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/access-log").status_code == 403


def test_a_privacy_officer_reads_the_access_log_but_not_the_audit_log(app, make_user):
    officer = _client(app, make_user, "zhoumin", ["privacy_officer"])
    assert officer.get("/admin/access-log").status_code == 200
    assert officer.get("/admin/audit").status_code == 403


def test_record_changes_show_before_and_after_masked_for_the_auditor(auditor, database, contact):
    html = _html(auditor, f"/admin/audit?kind=change&target_type=crm_contact&target_id={contact}")
    assert 'data-action="record.update"' in html and 'data-action="record.insert"' in html
    assert MASKED in html and MOBILE not in html and "139****0000" in html
    assert 'data-field="mobile"' in html and "table-warning" in html  # the changed field is marked
    assert "张伟" not in html and "zhangwei" in html and "10.0.0.8" in html
    assert "个人信息已脱敏" in html
    assert _access(database) == []  # nothing personal was shown


def test_personal_values_are_kept_masked_in_the_log_even_for_administrators(admin, database, contact):
    # the log never holds a second copy of personal information (an erasure could not reach it)
    html = _html(admin, f"/admin/audit?kind=change&target_type=crm_contact&target_id={contact}")
    assert MASKED in html and MOBILE not in html and "139****0000" in html


def test_the_audit_log_is_searched_by_text_in_the_values(auditor, contact):
    found = _html(auditor, "/admin/audit?kind=all&q=鑫源百货")
    assert 'data-kind="change"' in found and 'data-action="record.insert"' in found
    assert 'class="audit-row"' not in _html(auditor, "/admin/audit?kind=all&q=王小二")
    events = _html(auditor, "/admin/audit")  # the default: business events only
    assert 'data-action="crm.customer_created"' in events and 'data-kind="change"' not in events


def test_changes_made_through_the_web_name_the_user_and_their_address(app, make_user, database):
    load_company(database)
    rep = _client(app, make_user, "zhaoqiang", ["employee", "sales"])
    with database.transaction(readonly=True) as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == "C-000001"))
    response = rep.post(f"/crm/customers/{customer_id}/activities", data={"kind": "call", "subject": "回访"})
    assert response.status_code in (200, 302)
    with database.transaction(readonly=True) as session:
        [change] = session.scalars(select(RecordChange).where(RecordChange.target_type == "crm_activity",
                                                              RecordChange.actor != "system")).all()
    assert (change.action, change.actor, change.address) == ("record.insert", "zhaoqiang", "127.0.0.1")
    assert change.after["subject"] == "回访"


def test_the_export_is_masked_for_the_auditor_and_always_access_logged(auditor, admin, database, contact):
    response = auditor.get("/admin/audit?format=csv&kind=change&target_type=crm_contact")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["action"] for r in rows] == ["record.update", "record.insert"]
    assert MASKED in rows[0]["after"] and MOBILE not in response.get_data(as_text=True)
    by_admin = admin.get("/admin/audit?format=csv&kind=change&target_type=crm_contact").get_data(as_text=True)
    assert MASKED in by_admin and MOBILE not in by_admin
    assert [(e.actor, e.how, e.entity) for e in _access(database)] == [("sunmei", "export", "audit_log"),
                                                                      ("admin", "export", "audit_log")]


def test_the_access_log_page_lists_and_exports_who_saw_what(app, make_user, auditor, database):
    load_company(database)
    manager = _client(app, make_user, "zhangwei", ["employee", "manager"])
    with database.transaction(readonly=True) as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == "C-000001"))
    manager.get(f"/crm/customers/{customer_id}")
    html = _html(auditor, "/admin/access-log?actor=zhangwei&field=mobile")
    assert f'data-entity="crm_customer" data-entity-id="{customer_id}"' in html and "页面查看" in html
    assert 'class="access-row"' not in _html(auditor, "/admin/access-log?how=export")
    exported = auditor.get("/admin/access-log?format=csv").get_data(as_text=True)
    assert "crm_customer" in exported and "zhangwei" in exported
    assert [e.how for e in _access(database)] == ["view", "export"]


# ---------------------------------------------------------------------- masking per role: pages and API

def test_a_supplier_bank_account_is_masked_for_purchasing_and_logged_for_a_manager(app, make_user, database):
    with database.transaction() as session:
        supplier(session, bank_name="中国工商银行", bank_account="6222021234567890123")
    tokens = {}
    for name, roles in (("wangjun", ["purchasing"]), ("zhangwei", ["manager"])):
        make_user(name, roles=roles)
        with database.transaction() as session:
            tokens[name] = create_token(session, user_by_name(session, name), "test")
    client = app.test_client()

    def seen(name):
        response = client.get("/api/v1/suppliers/S-000001", headers={"Authorization": f"Bearer {tokens[name]}"})
        assert response.status_code == 200
        return response.get_json()

    buyer = seen("wangjun")
    assert buyer["bank_account"] == "622************0123" and buyer["contacts"][0]["mobile"] == MASKED
    assert _access(database) == []
    manager = seen("zhangwei")
    assert manager["bank_account"] == "6222021234567890123" and manager["contacts"][0]["mobile"] == MOBILE
    [entry] = _access(database)
    assert (entry.actor, entry.how) == ("zhangwei", "api") and {"bank_account", "mobile"} <= set(entry.fields)


# ---------------------------------------------------------------------- process data marked x-personal

@pytest.fixture(scope="session")
def expense_forms(tmp_path_factory):
    from tests.webapp.test_api_support import write_forms

    return write_forms(tmp_path_factory.mktemp("audit_forms"))


@pytest.fixture
def engine(expense_forms):
    """Overrides the shared engine fixture: the expense process whose form marks the phone x-personal."""
    from tests.webapp.test_api_support import build_engine

    return build_engine(expense_forms)


def test_instance_data_is_masked_for_the_employee_and_access_logged_for_the_manager(app, make_user, client,
                                                                                     database, engine):
    from tests.webapp.test_api_support import deploy_expense, make_people, start_expense

    deploy_expense(database, engine)
    people = make_people(make_user, client)
    instance_id = start_expense(people["wangfang"])["id"]
    assert people["wangfang"].get(f"/instances/{instance_id}").get_json()["data"]["phone"] == MASKED
    assert _access(database) == []
    assert people["zhaomin"].get(f"/instances/{instance_id}").get_json()["data"]["phone"] == MOBILE
    page = app.test_client()
    login(page, "zhaomin")
    assert MOBILE in _html(page, f"/instances/{instance_id}")
    logged = [(e.actor, e.how, e.entity, e.entity_id, e.fields) for e in _access(database)]
    assert logged == [("zhaomin", "api", "instance", str(instance_id), ["phone"]),
                      ("zhaomin", "view", "instance", str(instance_id), ["phone"])]

"""The privacy pages: anyone files a request about themselves (it reaches the officers' inbox) or reports an
incident; the person in charge of personal-information protection sees the requests, the inventory, records and
withdraws consents, and downloads an export; other roles are refused."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core import db
from engine.models import HumanTask
from erp.privacy.models import Consent, PrivacyRequest, SecurityIncident
from erp.privacy.services import OFFICERS
from tests.privacy_data import contact, deploy_privacy
from tests.risks_data import product_engine
from tests.webapp.conftest import login


@pytest.fixture
def engine(database):
    engine = product_engine()
    with db.transaction() as session:
        deploy_privacy(engine, session)
    return engine


@pytest.fixture
def officer(make_user, client):
    make_user("zhoumin", roles=["employee", "privacy_officer"], groups=[OFFICERS], name="周敏")
    login(client, "zhoumin")
    return client


def _employee(app, make_user):
    make_user("wangfang", roles=["employee"], name="王芳")
    client = app.test_client()
    login(client, "wangfang")
    return client


def test_an_employee_files_a_request_about_themselves_and_it_reaches_the_officers(app, make_user, officer):
    employee = _employee(app, make_user)
    response = employee.post("/privacy/requests/new", data={"kind": "access", "subject_type": "user",
                                                           "channel": "web", "details": "请提供我的个人信息副本"})
    assert response.status_code == 200 and 'id="filed"' in response.get_data(as_text=True)
    with db.transaction() as session:
        found = session.scalars(select(PrivacyRequest)).one()
        task = session.scalars(select(HumanTask).where(HumanTask.status == "open")).one()
        assert (found.subject_type, found.requester_name, found.filed_by) == ("user", "王芳", "wangfang")
        assert task.instance_id == found.instance_id and task.form_key == "privacy/pi_decision"
    page = officer.get("/privacy").get_data(as_text=True)
    assert found.number in page and 'data-status="filed"' in page
    assert found.number in officer.get(f"/privacy/requests/{found.id}").get_data(as_text=True)


def test_other_roles_may_not_see_the_privacy_pages(app, make_user):
    employee = _employee(app, make_user)
    for url in ("/privacy", "/privacy/inventory", "/privacy/consents", "/privacy/requests/1"):
        assert employee.get(url).status_code == 403, url
    assert employee.get("/privacy/requests/new").status_code == 200


def test_the_inventory_lists_the_classified_columns(officer):
    page = officer.get("/privacy/inventory").get_data(as_text=True)
    assert 'data-table="crm_contact" data-column="mobile"' in page
    assert 'data-table="purchasing_supplier" data-column="bank_account" data-category="sensitive"' in page


def test_the_officer_records_and_withdraws_a_consent(officer):
    with db.transaction() as session:
        person = contact(session).id
    response = officer.post("/privacy/consents", data={"subject_type": "contact", "subject_id": str(person),
                                                      "purpose": "marketing", "scope": "mobile, email",
                                                      "channel": "paper"})
    assert response.status_code == 302
    with db.transaction() as session:
        consent = session.scalars(select(Consent)).one()
        assert (consent.subject_name, consent.scope) == ("李小红", ["mobile", "email"])
    assert officer.post(f"/privacy/consents/{consent.id}/withdraw").status_code == 302
    page = officer.get(f"/privacy/consents?subject_type=contact&subject_id={person}").get_data(as_text=True)
    assert 'data-withdrawn="yes"' in page and "李小红" in page
    refused = officer.post("/privacy/consents", data={"subject_type": "contact", "subject_id": str(person),
                                                     "purpose": "", "scope": "", "channel": "paper"})
    assert refused.status_code == 422


def test_the_officer_downloads_the_export_of_an_answered_request(officer, engine):
    with db.transaction() as session:
        person = contact(session).id
    officer.post("/privacy/requests/new", data={"kind": "copy", "subject_type": "contact",
                                                "subject_id": str(person), "channel": "phone",
                                                "requester_name": "李小红"})
    with db.transaction() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.status == "open")).one()
        engine.complete(session, task.id, {"identity_verified": True, "decision": "approve"}, "zhoumin")
        found = session.scalars(select(PrivacyRequest)).one()
    response = officer.get(f"/privacy/requests/{found.id}/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert json.loads(response.get_data(as_text=True))["held"]["profile"]["mobile"] == "13812345678"


def test_anyone_reports_a_security_incident(app, make_user, officer):
    employee = _employee(app, make_user)
    assert employee.post("/privacy/incidents/new", data={"title": "", "description": ""}).status_code == 422
    response = employee.post("/privacy/incidents/new", data={"title": "笔记本电脑丢失",
                                                            "description": "存有客户联系人表格的笔记本在地铁上丢失"})
    assert response.status_code == 200
    with db.transaction() as session:
        incident = session.scalars(select(SecurityIncident)).one()
    assert incident.number in officer.get("/privacy").get_data(as_text=True)
    assert "笔记本电脑丢失" in officer.get(f"/privacy/incidents/{incident.id}").get_data(as_text=True)

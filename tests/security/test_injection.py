"""Script injection in form data, on SQLite and PostgreSQL: <script>, onerror=, javascript: URLs and {{ }}
template syntax typed into a CRM customer's name, a requisition's note, a task form and a migration file are
stored exactly as given and come back escaped in every page that shows them; in a real browser (Chromium) no
dialog fires on those pages."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from markupsafe import escape
from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from engine.models import HumanTask
from erp.crm.models import Customer
from erp.crm.services import create_customer
from erp.demo import GROUPS
from erp.identity.permissions import ROLES
from erp.migration.models import MigrationRow
from erp.purchasing.models import Requisition
from erp.purchasing.services import create_requisition
from tests.conftest import demo_data
from tests.migration_data import csv_bytes
from tests.webapp.conftest import login

PAYLOAD = ("<script>alert('xss-1')</script><img src=x onerror=alert('xss-2')>\"><svg onload=alert('xss-3')>"
           "<a href=\"javascript:alert('xss-4')\">link</a>{{ 7*7 }}{% if true %}ssti{% endif %}")
#: what must never reach a page unescaped
LIVE = ["<script>alert", "<img src=x", "<svg onload", 'href="javascript:']


@pytest.fixture
def engine(product_engine):
    return product_engine


def assert_escaped(html: str, where: str) -> None:
    assert str(escape(PAYLOAD)) in html, f"{where}: the payload is not shown as text"
    for live in LIVE:
        assert live not in html, f"{where}: {live!r} reached the page unescaped"
    assert "ssti" not in html.replace(str(escape(PAYLOAD)), ""), f"{where}: template syntax was evaluated"


def _approval(session, engine, title: str) -> tuple[int, int]:
    instance = engine.start(session, "approval", {"title": title, "amount": Decimal("100.00"),
                                                  "department": "行政部", "requester": "wangfang"},
                            business_key="PR-XSS-1", user="wangfang")
    task = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    return instance.id, task


@pytest.fixture
def office(database, product_engine, make_user, client):
    """The demo data and a logged-in user holding every role and group."""
    with db.transaction() as session:
        demo_data(session, product_engine)
    make_user("tester", roles=list(ROLES), groups=list(GROUPS))
    login(client, "tester")
    return client


def test_a_customer_name_is_stored_as_typed_and_shown_escaped(office, database):
    response = office.post("/crm/customers/new", data={"name_zh": PAYLOAD, "tier": "C", "payment_terms_days": "30",
                                                       "credit_limit": "0", "confirm_duplicate": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with database.transaction(readonly=True) as session:
        customer = session.scalar(select(Customer).where(Customer.name_zh == PAYLOAD))
        assert customer is not None  # stored exactly as typed
    assert_escaped(office.get(response.headers["Location"]).get_data(as_text=True), "customer page")
    assert_escaped(office.get("/crm/customers").get_data(as_text=True), "customer list")


def test_a_requisition_note_and_a_task_form_are_shown_escaped(office, database, product_engine):
    with db.transaction() as session:
        requisition = create_requisition(session, requester="tester", lines=[{"sku": "HX-TEA-001", "quantity": "5"}],
                                         note=PAYLOAD)
        instance_id, task_id = _approval(session, product_engine, PAYLOAD)
    assert_escaped(office.get(f"/purchasing/requisitions/{requisition.id}").get_data(as_text=True), "requisition")
    assert_escaped(office.get(f"/tasks/{task_id}").get_data(as_text=True), "task page")
    assert_escaped(office.get(f"/instances/{instance_id}").get_data(as_text=True), "instance page")
    # typed into the task's form: the comment of the review is kept as given and shown escaped too
    office.post(f"/tasks/{task_id}/claim")
    response = office.post(f"/tasks/{task_id}/complete", data={"decision": "return", "comment": PAYLOAD})
    assert response.status_code in (200, 302, 422), response.status_code
    page = office.get(f"/instances/{instance_id}").get_data(as_text=True)
    for live in LIVE:
        assert live not in page
    with db.transaction(readonly=True) as session:
        assert session.get(Requisition, requisition.id).note == PAYLOAD


def test_a_migration_file_is_staged_as_given_and_its_report_is_escaped(office, database):
    # the phone number is wrong, so the report quotes it back in the reason
    data = csv_bytes([{"旧系统编号": "K0001", "客户名称": "北京华联商贸有限公司", "电话": PAYLOAD}])
    response = office.post("/migration/upload", data={"entity": "customers", "file": (io.BytesIO(data), "客户.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert_escaped(page, "dry-run report")
    with database.transaction(readonly=True) as session:
        [row] = session.scalars(select(MigrationRow)).all()
        assert row.raw["电话"] == PAYLOAD  # staged exactly as given


def test_no_dialog_fires_in_a_real_browser(browser, live_server, product_engine, screenshot):
    with db.transaction() as session:
        customer = create_customer(session, name_zh=PAYLOAD, by="zhangwei", confirm_duplicate=True)
        requisition = create_requisition(session, requester="admin", lines=[{"sku": "HX-TEA-001", "quantity": "5"}],
                                         note=PAYLOAD)
        instance_id, task_id = _approval(session, product_engine, PAYLOAD)
        customer_id, requisition_id = customer.id, requisition.id
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/login")
    page.fill("#username", "admin")
    page.fill("#password", "demo1234")
    page.click("#login-submit")
    page.wait_for_url(f"{live_server}/**")
    for path in (f"/crm/customers/{customer_id}", "/crm/customers", f"/purchasing/requisitions/{requisition_id}",
                 f"/instances/{instance_id}", f"/tasks/{task_id}", "/instances"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("script:has-text('xss-')").count() == 0, path
    page.goto(f"{live_server}/crm/customers/{customer_id}")
    expect(page.locator("body")).to_contain_text("<script>alert('xss-1')</script>")
    screenshot(page, "customer")
    assert dialogs == []
    page.close()

"""Order-to-cash driven through the API alone, on SQLite and PostgreSQL, as an integration (a shop front, a
bank) would: the rep creates a quotation and starts the process, the manager approves the discount, the
warehouse delivers, the bank reports the payment as a process message, and the order ends closed."""
from __future__ import annotations

from datetime import datetime

import pytest

from core import clock, db
from core.calendar import BEIJING
from engine.deploy import read_paths
from erp.crm.services import update_customer
from tests.conftest import ROOT
from tests.sales_data import customer, shop
from tests.webapp.test_api_support import Api, token_for

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING)
PEOPLE = {"zhaoqiang": (["employee", "sales"], ["sales"]),
          "zhangwei": (["employee", "manager"], ["dept_manager"]),
          "wangjun": (["employee", "warehouse"], ["warehouse"]),
          "sunmei": (["employee", "finance"], ["finance"])}


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def api(database, engine, make_user, client) -> dict[str, Api]:
    for name, (roles, groups) in PEOPLE.items():
        make_user(name, roles=roles, groups=groups)
    with clock.frozen(MONDAY), db.transaction() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        shop(session)
        update_customer(session, customer(session).id, sales_rep="zhaoqiang", by="tester")
    return {name: Api(client, token_for(name)) for name in PEOPLE}


def _ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _only_task(api: Api, instance_id: int) -> dict:
    [task] = _ok(api.get(f"/instances/{instance_id}"))["tasks"]
    return task


def test_order_to_cash_end_to_end_through_the_api(api):
    rep, manager, warehouse, finance = (api[n] for n in ("zhaoqiang", "zhangwei", "wangjun", "sunmei"))
    quotation = _ok(rep.post("/quotations", {"customer": "C001", "discount_percent": "10",
                                             "lines": [{"sku": "A", "quantity": "50"}]}), 201)
    assert quotation["gross_total"] == "508.50"  # 50 × 10.00 × 0.9 + 13 %
    started = _ok(rep.post("/instances", {"process_key": "order_to_cash", "business_key": quotation["number"],
                                          "data": {"quotation": quotation["number"]}}), 201)
    instance_id = started["id"]

    review = _only_task(manager, instance_id)  # 10 % is above tier C's 3 %: the discount goes for approval
    assert review["element_id"] == "review"
    _ok(manager.post(f"/tasks/{review['id']}/claim"))
    _ok(manager.post(f"/tasks/{review['id']}/complete", {"data": {"decision": "approve", "comment": "同意"}}))

    delivery = _only_task(warehouse, instance_id)
    assert delivery["element_id"] == "delivery"
    _ok(warehouse.post(f"/tasks/{delivery['id']}/claim"))
    _ok(warehouse.post(f"/tasks/{delivery['id']}/complete",
                       {"data": {"delivery_lines": [{"sku": "A", "quantity": 50}]}}))

    shown = _ok(rep.get(f"/instances/{instance_id}"))
    order, invoice = shown["data"]["order"], shown["data"]["invoice"]
    assert _ok(rep.get(f"/orders/{order}"))["status"] == "invoiced"
    assert _ok(finance.get(f"/invoices/{invoice}"))["outstanding"] == "508.50"

    paid = _ok(finance.post("/messages", {"name": "payment_received", "correlation": {"invoice": invoice},
                                          "data": {"amount": "508.50", "reference": "BANK-88", "payer": "北京华联"}}))
    assert paid["delivered_to"] == [instance_id]
    assert _ok(rep.get(f"/instances/{instance_id}"))["status"] == "completed"
    assert _ok(rep.get(f"/orders/{order}"))["status"] == "closed"
    assert _ok(finance.get(f"/invoices/{invoice}"))["status"] == "paid"

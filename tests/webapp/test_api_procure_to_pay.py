"""Procure-to-pay driven through the API alone, on SQLite and PostgreSQL, as an integration would: an employee
raises a requisition, the manager approves it, the warehouse receives the goods, finance records the supplier's
invoice, the payment is approved and paid, and the order ends closed. A larger purchase goes out for quotations
first: the suppliers' quotes are posted to the RFQ and the buyer awards the cheapest."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core import db
from engine.deploy import read_paths
from erp.finance.services import today
from tests.conftest import ROOT
from tests.purchasing_data import goods, supplier
from tests.webapp import test_openapi as spec
from tests.webapp.test_api_support import Api, token_for
from webapp import openapi

#: username -> (roles, groups)
PEOPLE = {"chenjing": (["employee"], ["employees"]),
          "wangfang": (["employee", "purchasing"], ["purchasing"]),
          "zhangwei": (["employee", "manager"], ["dept_manager"]),
          "lina": (["employee", "manager"], ["finance_director"]),
          "wangjun": (["employee", "warehouse"], ["warehouse"]),
          "sunmei": (["employee", "finance"], ["finance"])}
APPROVERS = {"dept_manager": "zhangwei", "finance_director": "lina"}


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def api(database, engine, make_user, client) -> dict[str, Api]:
    for name, (roles, groups) in PEOPLE.items():
        make_user(name, roles=roles, groups=groups)
    with db.transaction() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        goods(session)
        supplier(session, "S-000001", "上海精工五金有限公司", email="sales@jinggong.example.cn", buyer="wangfang")
        supplier(session, "S-000002", "苏州华达紧固件有限公司", email="sales@huada.example.cn")
        supplier(session, "S-000003", "天津利达五金制品有限公司", email="sales@lida.example.cn")
    return {name: Api(client, token_for(name)) for name in PEOPLE}


def _ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _json_text(value) -> str:
    """JSON with Decimals written as exact JSON numbers (as a client sends the quantities and prices of a form)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    return json.dumps(value)


def _work(api: Api, task: dict, data: dict) -> dict:
    """Claim the task and complete it with `data`."""
    _ok(api.post(f"/tasks/{task['id']}/claim"))
    response = api.client.post(f"/api/v1/tasks/{task['id']}/complete", data=_json_text({"data": data}),
                               content_type="application/json", headers=api.headers)
    return _ok(response)


def _instance(api: dict[str, Api], instance_id: int) -> dict:
    return _ok(api["chenjing"].get(f"/instances/{instance_id}"))  # the requester started it


def _only_task(api: dict[str, Api], instance_id: int, element_id: str) -> dict:
    tasks = _instance(api, instance_id)["tasks"]
    assert [t["element_id"] for t in tasks] == [element_id], tasks
    return tasks[0]


def _approve_all(api: dict[str, Api], instance_id: int) -> int:
    """Approve every approval level now open (requisition or payment); how many there were."""
    levels = 0
    while True:
        tasks = _instance(api, instance_id)["tasks"]
        if len(tasks) != 1 or tasks[0]["element_id"] != "review":
            return levels
        _work(api[APPROVERS[tasks[0]["candidate_groups"][0]]], tasks[0], {"decision": "approve", "comment": "同意"})
        levels += 1


def _receive_invoice_and_pay(api: dict[str, Api], instance_id: int, receipt_lines: list[dict]) -> dict:
    """The warehouse receives, finance records the invoice at the prefilled lines, the payment is approved and
    paid; the instance's data at the end."""
    _work(api["wangjun"], _only_task(api, instance_id, "receive_goods"), {"receipt_lines": receipt_lines})
    task = _only_task(api, instance_id, "enter_invoice")
    shown = _instance(api, instance_id)["data"]["bill_lines"]  # quantities and prices as text
    bill_lines = [{"sku": x["sku"], "quantity": Decimal(x["quantity"]), "unit_price": Decimal(x["unit_price"])}
                  for x in shown]
    _work(api["sunmei"], task, {"supplier_number": "04471122", "invoice_date": today().isoformat(),
                                "invoice_kind": "special", "bill_lines": bill_lines})
    assert _approve_all(api, instance_id) >= 1
    _work(api["sunmei"], _only_task(api, instance_id, "pay_supplier"),
          {"paid_on": today().isoformat(), "bank_reference": "CMB-0099"})
    done = _instance(api, instance_id)
    assert done["status"] == "completed" and done["tasks"] == []
    return done["data"]


def test_procure_to_pay_end_to_end_through_the_api(api):
    doc = openapi.document()
    requester, buyer, finance = api["chenjing"], api["wangfang"], api["sunmei"]
    response = requester.post("/requisitions", {"department": "行政部", "note": "办公室维修", "lines": [
        {"sku": "A", "quantity": 100, "estimated_unit_price": "6.00"}]})
    created = spec.check(doc, "/requisitions", "post", response)
    assert response.status_code == 201, created
    number, instance_id = created["number"], created["instance_id"]
    assert created["status"] == "submitted" and created["estimated_total"] == "678.00"  # 600.00 + 13 %
    assert [(x["sku"], x["quantity"], x["estimated_unit_price"]) for x in created["lines"]] == [("A", "100", "6.00")]

    assert _approve_all(api, instance_id) == 1  # 678.00: the department manager alone, no RFQ
    data = _instance(api, instance_id)["data"]
    assert data["rfq_needed"] is False
    order = data["order"]
    assert _ok(requester.get(f"/requisitions/{number}"))["status"] == "ordered"
    placed = _ok(buyer.get(f"/purchase-orders/{order}"))
    assert placed["status"] == "open" and placed["supplier"] == "S-000001" and placed["gross_total"] == "678.00"

    data = _receive_invoice_and_pay(api, instance_id, [{"sku": "A", "quantity": 100}])
    closed = spec.check(doc, "/purchase-orders/{number}", "get", buyer.get(f"/purchase-orders/{order}"))
    assert closed["status"] == "closed"
    assert [(x["ordered"], x["received"], x["short_closed"], x["invoiced"]) for x in closed["lines"]] == [
        ("100", "100", "0", "100")]
    assert [r["accepted"] for r in closed["receipts"]] == ["100"]
    [bill] = closed["supplier_invoices"]
    assert bill["number"] == data["bill"] and bill["status"] == "paid"
    invoice = spec.check(doc, "/supplier-invoices/{number}", "get", finance.get(f"/supplier-invoices/{data['bill']}"))
    assert (invoice["gross_total"], invoice["paid"], invoice["outstanding"]) == ("678.00", "678.00", "0.00")
    assert invoice["match"]["ok"] is True and invoice["match"]["lines"][0]["status"] == "ok"
    assert [p["reference"] for p in invoice["payments"]] == ["CMB-0099"]


def test_a_large_purchase_goes_out_for_quotes_posted_through_the_api(api):
    doc = openapi.document()
    requester, buyer = api["chenjing"], api["wangfang"]
    created = _ok(requester.post("/requisitions", {
        "lines": [{"sku": "A", "quantity": "10000", "estimated_unit_price": "6.00"}]}), 201)  # 67,800.00
    instance_id = created["instance_id"]
    assert _approve_all(api, instance_id) == 2  # the department manager, then the finance director
    task = _only_task(api, instance_id, "compare_quotes")
    data = _instance(api, instance_id)["data"]
    rfq, invited = data["rfq"], data["rfq_info"]["suppliers"]
    assert len(invited) >= 2

    prices = {"S-000001": "5.90", "S-000002": "5.60", "S-000003": "5.75"}
    for code in invited:
        response = buyer.post(f"/rfqs/{rfq}/quotes", {"supplier": code, "lead_time_days": 5,
                                                      "lines": [{"sku": "A", "unit_price": prices[code]}]})
        spec.check(doc, "/rfqs/{number}/quotes", "post", response)
        assert response.status_code == 201, response.get_json()
    compared = spec.check(doc, "/rfqs/{number}", "get", buyer.get(f"/rfqs/{rfq}"))
    cheapest = min(invited, key=lambda code: Decimal(prices[code]))
    assert [s["code"] for s in compared["suppliers"] if s["cheapest"]] == [cheapest]
    assert compared["lines"][0]["quotes"][cheapest] == prices[cheapest]

    _work(buyer, task, {"awarded_supplier": cheapest, "award_note": "价格最低，交期 5 天"})
    order = _instance(api, instance_id)["data"]["order"]
    placed = _ok(buyer.get(f"/purchase-orders/{order}"))
    assert placed["supplier"] == cheapest and placed["rfq"] == rfq
    assert placed["net_total"] == str(Decimal(prices[cheapest]) * 10000)
    assert _ok(buyer.get(f"/rfqs/{rfq}"))["awarded"] == cheapest

    data = _receive_invoice_and_pay(api, instance_id, [{"sku": "A", "quantity": 10000}])
    assert _ok(buyer.get(f"/purchase-orders/{order}"))["status"] == "closed"
    assert _ok(api["sunmei"].get(f"/supplier-invoices/{data['bill']}"))["status"] == "paid"

"""Procure-to-pay reads and writes in the JSON API, on SQLite and PostgreSQL: requisitions raised (and kept to
their requester), suppliers created and masked, quotes recorded on an RFQ, purchase orders and supplier invoices
read back with their quantities, match and payments, and who may do what. Every answer is checked against the
OpenAPI document."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import db
from engine.deploy import read_paths
from erp.identity.permissions import PERMISSIONS
from erp.purchasing import invoicing, matching, receiving, rfqs
from erp.purchasing.models import Requisition, Supplier
from tests.conftest import ROOT
from tests.purchasing_data import approved, goods, order, supplier
from tests.webapp import test_openapi as spec
from tests.webapp.test_api_support import Api, error_of, token_for
from webapp import openapi

#: username -> (roles, groups)
PEOPLE = {"chenjing": (["employee"], ["employees"]), "liuyang": (["employee"], ["employees"]),
          "wangfang": (["purchasing"], ["purchasing"]), "zhangwei": (["manager"], ["dept_manager"]),
          "sunmei": (["finance"], ["finance"])}
BANK_ACCOUNT = "6222021234567890123"
SCREWS = [{"sku": "A", "quantity": "100", "estimated_unit_price": "6.00"}]


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def doc() -> dict:
    return openapi.document()


@pytest.fixture
def people(database, engine, make_user, client) -> dict[str, Api]:
    for name, (roles, groups) in PEOPLE.items():
        make_user(name, roles=roles, groups=groups)
    with db.transaction() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        goods(session)
        supplier(session, "S-000001", "上海精工五金有限公司", bank_name="工商银行", bank_account=BANK_ACCOUNT)
        supplier(session, "S-000002", "苏州华达紧固件有限公司", email="sales@huada.example.cn")
    return {name: Api(client, token_for(name)) for name in PEOPLE}


def count(database, model) -> int:
    with database.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------- requisitions


def test_a_requisition_is_raised_submitted_and_read_back(people, doc):
    chenjing = people["chenjing"]
    response = chenjing.post("/requisitions", {"lines": SCREWS + [{"sku": "B", "quantity": 40.5,
                                                                   "estimated_unit_price": 3}],
                                               "department": "行政部", "needed_by": "2026-12-01", "note": "维修"})
    created = spec.check(doc, "/requisitions", "post", response)
    assert response.status_code == 201, created
    assert response.headers["Location"].endswith(f"/api/v1/requisitions/{created['number']}")
    assert created["status"] == "submitted" and isinstance(created["instance_id"], int)
    assert created["requester"] == "chenjing" and created["needed_by"] == "2026-12-01"
    # A: 100 × 6.00 = 600.00 + 78.00; B: 40.5 × 3.00 = 121.50 + 10.94 (9 %)
    assert created["estimated_total"] == "810.44"
    assert [(x["sku"], x["quantity"], x["estimated_unit_price"], x["vat_rate"], x["warehouse"])
            for x in created["lines"]] == [("A", "100", "6.00", "0.13", "BJ-01"),
                                           ("B", "40.5", "3.00", "0.09", "BJ-01")]

    read = spec.check(doc, "/requisitions/{number}", "get", chenjing.get(f"/requisitions/{created['number']}"))
    assert read == {k: v for k, v in created.items() if k != "instance_id"}
    listed = spec.check(doc, "/requisitions", "get", chenjing.get("/requisitions", status="submitted"))
    assert [r["number"] for r in listed["items"]] == [created["number"]] and listed["total"] == 1


def test_a_requisition_kept_as_a_draft_starts_no_process(people, doc):
    created = spec.check(doc, "/requisitions", "post", people["chenjing"].post("/requisitions", {
        "lines": SCREWS, "submit": False}))
    assert created["status"] == "draft" and created["instance_id"] is None
    assert people["chenjing"].get("/instances").get_json()["total"] == 0


def test_bad_requisition_input_is_422_with_field_errors_and_nothing_is_saved(people, doc, database):
    chenjing = people["chenjing"]
    response = chenjing.post("/requisitions", {"lines": [
        {"sku": "NOPE", "quantity": 1}, {"sku": "A", "quantity": "lots"},
        {"sku": "B", "quantity": 1, "estimated_unit_price": "3.555"}, {"sku": "A", "quantity": 1, "warehouse": "X"}]})
    spec.check(doc, "/requisitions", "post", response)
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"lines[0].sku", "lines[1].quantity", "lines[2].estimated_unit_price", "lines[3].warehouse"}
    for body, field in (({"lines": []}, "lines"), ({}, "lines"), ({"lines": ["A"]}, "lines[0]"),
                        ({"lines": [{"quantity": 1}]}, "lines[0].sku"),
                        ({"lines": [{"sku": "A", "quantity": True}]}, "lines[0].quantity"),
                        ({"lines": [{"sku": "A", "quantity": "1e20"}]}, "lines[0].quantity"),
                        ({"lines": [{"sku": "A", "quantity": -1}]}, "lines[0].quantity"),
                        ({"lines": SCREWS, "needed_by": "soon"}, "needed_by"),
                        ({"lines": SCREWS, "submit": "yes"}, "submit"),
                        ({"lines": SCREWS, "department": "部" * 101}, "department")):
        response = chenjing.post("/requisitions", body)
        spec.check(doc, "/requisitions", "post", response)
        assert response.status_code == 422 and field in error_of(response)["fields"], (body, response.get_json())
    assert count(database, Requisition) == 0


def test_another_employees_requisition_is_not_found_but_buyers_see_every_one(people, doc):
    number = people["chenjing"].post("/requisitions", {"lines": SCREWS}).get_json()["number"]
    response = people["liuyang"].get(f"/requisitions/{number}")
    spec.check(doc, "/requisitions/{number}", "get", response)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert people["liuyang"].get("/requisitions").get_json()["items"] == []
    assert people["wangfang"].get(f"/requisitions/{number}").status_code == 200
    assert [r["number"] for r in people["wangfang"].get("/requisitions").get_json()["items"]] == [number]
    spec.check(doc, "/requisitions", "get", people["wangfang"].get("/requisitions", status="nope"))  # 422


# ---------------------------------------------------------------------- suppliers


def test_a_buyer_creates_a_supplier_whose_bank_account_and_contacts_are_masked(people, doc, database):
    body = {"name_zh": "天津利达五金制品有限公司", "category": "五金", "payment_terms_days": 45,
            "qualification": "qualified", "bank_name": "建设银行", "bank_account": "6217000010001234567",
            "contacts": [{"contact_name": "王强", "mobile": "13912345678", "email": "wq@lida.example.cn",
                          "is_primary": True}]}
    response = people["wangfang"].post("/suppliers", body)
    created = spec.check(doc, "/suppliers", "post", response)
    assert response.status_code == 201, created
    assert created["code"] == "S-000003" and created["qualified"] is True and created["payment_terms_days"] == 45
    assert response.headers["Location"].endswith("/api/v1/suppliers/S-000003")
    assert created["bank_account"] == "621************4567"  # a buyer may not see personal data
    [contact] = created["contacts"]
    assert contact["mobile"] == "139****5678" and contact["email"] != "wq@lida.example.cn"

    shown = spec.check(doc, "/suppliers/{code}", "get", people["zhangwei"].get("/suppliers/S-000003"))
    assert shown["bank_account"] == "6217000010001234567" and shown["contacts"][0]["mobile"] == "13912345678"
    assert shown["rating"] == {"delivery": None, "quality": None, "overall": None, "receipts": 0}
    masked = spec.check(doc, "/suppliers/{code}", "get", people["sunmei"].get("/suppliers/S-000001"))
    assert masked["bank_account"] != BANK_ACCOUNT and masked["bank_account"].startswith("622")

    listed = spec.check(doc, "/suppliers", "get", people["sunmei"].get("/suppliers", q="五金"))
    assert [s["code"] for s in listed["items"]] == ["S-000001", "S-000003"]
    assert people["sunmei"].get("/suppliers/S-999999").status_code == 404
    assert count(database, Supplier) == 3


def test_bad_supplier_input_is_refused_and_a_taken_code_is_a_conflict(people, doc, database):
    buyer = people["wangfang"]
    for body, field in (({}, "name_zh"), ({"name_zh": "某公司", "tax_number": "123"}, "tax_number"),
                        ({"name_zh": "某公司", "payment_terms_days": "30"}, "payment_terms_days"),
                        ({"name_zh": "某公司", "qualification": "great"}, "qualification"),
                        ({"name_zh": "某公司", "contacts": [{"mobile": "1"}]}, "contacts[0].contact_name"),
                        ({"name_zh": "某公司", "contacts": [{"contact_name": "王", "mobile": "123"}]}, "mobile")):
        response = buyer.post("/suppliers", body)
        spec.check(doc, "/suppliers", "post", response)
        assert response.status_code == 422 and field in error_of(response)["fields"], (body, response.get_json())
    response = buyer.post("/suppliers", {"name_zh": "某公司", "code": "S-000001"})
    spec.check(doc, "/suppliers", "post", response)
    assert response.status_code == 409
    assert count(database, Supplier) == 2


def test_an_employee_may_not_create_suppliers_or_read_purchasing_documents(people, doc, database):
    chenjing = people["chenjing"]
    response = chenjing.post("/suppliers", {"name_zh": "某公司"})
    spec.check(doc, "/suppliers", "post", response)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    for path in ("/suppliers", "/suppliers/S-000001", "/purchase-orders", "/supplier-invoices", "/rfqs/RFQ-2026-1"):
        assert chenjing.get(path).status_code == 403, path
    assert people["sunmei"].post("/rfqs/RFQ-2026-00001/quotes", {}).status_code == 403  # finance reads only
    assert count(database, Supplier) == 2


def test_whoever_may_read_payables_may_read_supplier_invoices():
    """The supplier-invoice endpoints require purchasing.view, standing for "payables.view or purchasing.view"."""
    assert PERMISSIONS["payables.view"] <= PERMISSIONS["purchasing.view"]


# ---------------------------------------------------------------------- RFQs


@pytest.fixture
def rfq(people, database) -> str:
    with database.transaction() as session:
        requisition = approved(session, [{"sku": "A", "quantity": "1000", "estimated_unit_price": "6.00"},
                                         {"sku": "B", "quantity": "200", "estimated_unit_price": "3.00"}])
        return rfqs.create_rfq(session, requisition, ["S-000001", "S-000002"], reply_by=date(2026, 12, 1)).number


def test_quotes_are_recorded_and_compared_side_by_side(people, doc, rfq):
    buyer = people["wangfang"]
    response = buyer.post(f"/rfqs/{rfq}/quotes", {"supplier": "S-000001", "lead_time_days": 7,
                                                  "valid_until": "2026-12-31", "note": "含运费",
                                                  "lines": [{"sku": "A", "unit_price": "5.90"},
                                                            {"sku": "B", "unit_price": 2.8}]})
    compared = spec.check(doc, "/rfqs/{number}/quotes", "post", response)
    assert response.status_code == 201, compared
    assert response.headers["Location"].endswith(f"/api/v1/rfqs/{rfq}")
    buyer.post(f"/rfqs/{rfq}/quotes", {"supplier": "S-000002", "lines": [{"sku": "A", "unit_price": "5.60"}]})
    compared = spec.check(doc, "/rfqs/{number}", "get", people["sunmei"].get(f"/rfqs/{rfq}"))
    assert compared["number"] == rfq and compared["status"] == "open" and compared["reply_by"] == "2026-12-01"
    assert [(x["sku"], x["quantity"], x["quotes"]) for x in compared["lines"]] == [
        ("A", "1000", {"S-000001": "5.90", "S-000002": "5.60"}), ("B", "200", {"S-000001": "2.80", "S-000002": None})]
    by_code = {s["code"]: s for s in compared["suppliers"]}
    assert by_code["S-000001"]["total_net"] == "6460.00" and by_code["S-000001"]["lead_time_days"] == 7
    assert by_code["S-000001"]["cheapest"] is True  # S-000002 did not quote every line
    assert by_code["S-000002"]["cheapest"] is False


def test_bad_quotes_are_refused(people, doc, rfq, database):
    buyer = people["wangfang"]
    for body, field in (({"lines": [{"sku": "A", "unit_price": "1"}]}, "supplier"),
                        ({"supplier": "S-999999", "lines": [{"sku": "A", "unit_price": "1"}]}, "supplier"),
                        ({"supplier": "S-000001", "lines": [{"sku": "C", "unit_price": "1"}]}, "lines[0].sku"),
                        ({"supplier": "S-000001", "lines": [{"sku": "A", "unit_price": "1.001"}]},
                         "lines[0].unit_price"),
                        ({"supplier": "S-000001", "lines": [{"sku": "A", "unit_price": "1"}], "lead_time_days": 1.5},
                         "lead_time_days")):
        response = buyer.post(f"/rfqs/{rfq}/quotes", body)
        spec.check(doc, "/rfqs/{number}/quotes", "post", response)
        assert response.status_code == 422 and field in error_of(response)["fields"], (body, response.get_json())
    with database.transaction() as session:
        supplier(session, "S-000003", "天津利达五金制品有限公司")
    response = buyer.post(f"/rfqs/{rfq}/quotes", {"supplier": "S-000003", "lines": [{"sku": "A", "unit_price": 1}]})
    assert response.status_code == 422 and error_of(response)["fields"]["supplier"] == ["not invited"]
    response = buyer.post("/rfqs/RFQ-2026-09999/quotes", {"supplier": "S-000001", "lines": []})
    spec.check(doc, "/rfqs/{number}/quotes", "post", response)
    assert response.status_code == 404
    assert all(s["quoted"] is False for s in buyer.get(f"/rfqs/{rfq}").get_json()["suppliers"])


# ---------------------------------------------------------------------- orders and supplier invoices


@pytest.fixture
def billed(people, database) -> dict[str, str]:
    """An order of A 10 at 10.00 and B 4 at 25.00 from S-000001; 8 A and 4 B received, 8 A invoiced at 10.50
    (a price mismatch beyond 2 %): {"order", "bill"}."""
    with database.transaction() as session:
        placed = order(session)
        receiving.receive(session, placed, [{"sku": "A", "quantity": "8", "rejected": "1"},
                                            {"sku": "B", "quantity": "4"}], received_on=date(2026, 3, 5))
        bill = invoicing.record_supplier_invoice(session, placed, supplier_number="04471122",
                                                 lines=[{"sku": "A", "quantity": "8", "unit_price": "10.50"}],
                                                 issue_date=date(2026, 3, 6))
        matching.three_way_match(session, bill)
        return {"order": placed.number, "bill": bill.number}


def test_a_purchase_order_shows_what_was_ordered_received_and_invoiced(people, doc, billed):
    shown = spec.check(doc, "/purchase-orders/{number}", "get", people["wangfang"].get(
        f"/purchase-orders/{billed['order']}"))
    assert shown["status"] == "partially_received" and shown["supplier"] == "S-000001"
    assert shown["order_date"] == "2026-03-02" and shown["gross_total"] == "222.00"  # 113.00 + 109.00
    assert [(x["sku"], x["ordered"], x["received"], x["short_closed"], x["invoiced"], x["unit_price"])
            for x in shown["lines"]] == [("A", "10", "8", "0", "8", "10.00"), ("B", "4", "4", "0", "0", "25.00")]
    [receipt] = shown["receipts"]
    assert (receipt["received_on"], receipt["accepted"], receipt["rejected"], receipt["value"]) == (
        "2026-03-05", "12", "1", "180.00")
    assert [i["number"] for i in shown["supplier_invoices"]] == [billed["bill"]]
    listed = spec.check(doc, "/purchase-orders", "get", people["wangfang"].get("/purchase-orders",
                                                                               supplier="S-000001"))
    assert [o["number"] for o in listed["items"]] == [billed["order"]]
    assert people["wangfang"].get("/purchase-orders", status="closed").get_json()["total"] == 0
    spec.check(doc, "/purchase-orders/{number}", "get", people["wangfang"].get("/purchase-orders/PO-2026-09999"))


def test_a_supplier_invoice_shows_its_lines_and_the_last_match(people, doc, billed):
    shown = spec.check(doc, "/supplier-invoices/{number}", "get", people["sunmei"].get(
        f"/supplier-invoices/{billed['bill']}"))
    assert shown["status"] == "exception" and shown["supplier_number"] == "04471122"
    assert shown["order"] == billed["order"] and shown["due_date"] == "2026-04-05"  # 30 days' terms
    assert [(x["sku"], x["quantity"], x["unit_price"], x["gross"]) for x in shown["lines"]] == [
        ("A", "8", "10.50", "94.92")]
    assert (shown["net_total"], shown["outstanding"]) == ("84.00", "94.92")
    match = shown["match"]
    assert match["ok"] is False and match["price_difference"] == "4.00"
    [line] = match["lines"]
    assert (line["status"], line["received"], line["po_price"], line["price_diff_percent"]) == (
        "price_mismatch", "8", "10.00", "5.00")
    listed = spec.check(doc, "/supplier-invoices", "get", people["wangfang"].get("/supplier-invoices",
                                                                                 status="exception"))
    assert [i["number"] for i in listed["items"]] == [billed["bill"]]
    assert people["sunmei"].get("/supplier-invoices", supplier="S-000002").get_json()["total"] == 0
    response = people["sunmei"].get("/supplier-invoices/BILL-2026-09999")
    spec.check(doc, "/supplier-invoices/{number}", "get", response)
    assert response.status_code == 404
    assert Decimal(shown["gross_total"]) == Decimal("94.92")

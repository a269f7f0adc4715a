"""Procure-to-pay (bpmn/procurement) end to end against the real domain: a requisition is approved, ordered
(after quotations when the amount calls for them), received in parts, invoiced, matched three ways within the
decision table's tolerances — or resolved by the buyer — approved for payment and paid. Late suppliers are
chased by mail and escalated to the buyer; reorder points and sales backorders raise requisitions by
themselves, and a receipt releases the order-to-cash instance waiting for the goods."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from core.errors import PermissionDenied
from engine import queries
from engine.deploy import read_paths
from erp.finance.queries import trial_balance
from erp.identity.services import ensure_user
from erp.inventory.queries import stock
from erp.inventory.services import set_reorder_point
from erp.purchasing import rfqs, services
from erp.purchasing.models import PurchaseOrder, Requisition, SupplierInvoice
from erp.purchasing.process import raise_reorder_requisitions, start_pending_requisitions
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server
from tests.conftest import ROOT, process_engine
from tests.purchasing_data import goods, supplier

smtp_server = mail_server.smtp_server  # the fixture, used by name
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING)
PEOPLE = [("chenjing", ["employees"]), ("wangfang", ["purchasing"]), ("zhangwei", ["dept_manager"]),
          ("lina", ["finance_director"]), ("liuyang", ["general_manager"]), ("wangjun", ["warehouse"]),
          ("sunmei", ["finance"])]


@pytest.fixture
def engine(tx):
    engine = process_engine(mail=True)
    with clock.frozen(MONDAY), tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        for username, groups in PEOPLE:
            ensure_user(session, username, username, groups=groups, email=f"{username}@example.cn")
        goods(session)
        supplier(session, "S-000001", "上海精工五金有限公司", email="sales@jinggong.example.cn", buyer="wangfang")
        supplier(session, "S-000002", "苏州华达紧固件有限公司", email="sales@huada.example.cn", tax_number=None)
        supplier(session, "S-000003", "天津利达五金制品有限公司", email="sales@lida.example.cn")
    return engine


def _start(engine, tx, lines, at=MONDAY, **extra):
    with clock.frozen(at), tx() as session:
        requisition = services.create_requisition(session, requester="chenjing", department="行政部", lines=lines,
                                                  **extra)
        services.submit_requisition(session, requisition)
        instance = engine.start(session, "procurement", {"requisition": requisition.number,
                                                         "requester": "chenjing"},
                                business_key=requisition.number, user="chenjing")
        return requisition.number, instance.id


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


def _task(engine, tx, instance_id, element_id):
    tasks = _show(engine, tx, instance_id)["tasks"]
    assert [t["element_id"] for t in tasks] == [element_id], tasks
    return tasks[0]


def _complete(engine, tx, instance_id, element_id, user, data, at=MONDAY):
    task = _task(engine, tx, instance_id, element_id)
    with clock.frozen(at), tx() as session:
        engine.complete(session, task["id"], data, user)


def _approve_all(engine, tx, instance_id, at=MONDAY):
    """Approve every approval level now open (requisition or payment)."""
    who = {"dept_manager": "zhangwei", "finance_director": "lina", "general_manager": "liuyang"}
    while True:
        tasks = _show(engine, tx, instance_id)["tasks"]
        if len(tasks) != 1 or tasks[0]["element_id"] != "review":
            return
        _complete(engine, tx, instance_id, "review", who[tasks[0]["candidate_groups"][0]], {"decision": "approve"},
                  at)


def _lines(shown_lines, **override) -> list[dict]:
    """What a form shows (quantities as text) as the user submits it."""
    return [{k: (Decimal(v) if k in ("quantity", "unit_price", "rejected") else v) for k, v in x.items()}
            | override.get(x["sku"], {}) for x in shown_lines]


def _receive(engine, tx, instance_id, lines=None, at=MONDAY):
    shown = _show(engine, tx, instance_id)["data"]["receipt_lines"]
    _complete(engine, tx, instance_id, "receive_goods", "wangjun",
              {"receipt_lines": lines if lines is not None else _lines(shown)}, at)


def _invoice(engine, tx, instance_id, number="04471122", prices=None, quantities=None, at=MONDAY):
    shown = _show(engine, tx, instance_id)["data"]["bill_lines"]
    lines = _lines(shown)
    for line in lines:
        if prices and line["sku"] in prices:
            line["unit_price"] = Decimal(prices[line["sku"]])
        if quantities and line["sku"] in quantities:
            line["quantity"] = Decimal(quantities[line["sku"]])
    _complete(engine, tx, instance_id, "enter_invoice", "sunmei",
              {"supplier_number": number, "invoice_date": "2026-11-02", "invoice_kind": "special",
               "bill_lines": lines}, at)


def _pay(engine, tx, instance_id, at=MONDAY):
    _approve_all(engine, tx, instance_id, at)
    _complete(engine, tx, instance_id, "pay_supplier", "sunmei", {"paid_on": "2026-11-02",
                                                                  "bank_reference": "CMB-0099"}, at)


def _ended_at(shown) -> list[str]:
    return [h["element_id"] for h in shown["history"] if h["kind"] == "element_completed"
            and h["element_id"] in ("paid", "requisition_rejected", "payment_rejected")]


def _one(tx, model, **where):
    with tx(readonly=True) as session:
        row = session.scalars(select(model).filter_by(**where)).one()
        session.expunge(row)
        return row


SCREWS = [{"sku": "A", "quantity": "100", "estimated_unit_price": "6.00"}]  # 678.00 gross: no RFQ, one level


def test_happy_path_from_requisition_to_payment(engine, tx):
    number, instance_id = _start(engine, tx, SCREWS)
    review = _task(engine, tx, instance_id, "review")
    assert review["candidate_groups"] == ["dept_manager"] and review["excluded_users"] == ["chenjing"]
    _approve_all(engine, tx, instance_id)
    data = _show(engine, tx, instance_id)["data"]
    assert data["rfq_needed"] is False and data["order"].startswith("PO-")
    order = _one(tx, PurchaseOrder, number=data["order"])
    assert order.status == "open" and order.gross_total == Decimal("678.00")
    _receive(engine, tx, instance_id)
    with tx(readonly=True) as session:
        assert stock(session, "A")[0].on_hand == Decimal(100)
    _invoice(engine, tx, instance_id)
    assert _show(engine, tx, instance_id)["data"]["match_result"]["ok"] is True
    _pay(engine, tx, instance_id)
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["paid"]
    assert _one(tx, PurchaseOrder, number=data["order"]).status == "closed"
    assert _one(tx, SupplierInvoice, number=shown["data"]["bill"]).status == "paid"
    assert _one(tx, Requisition, number=number).status == "ordered"
    with tx(readonly=True) as session:
        books = trial_balance(session)
        assert books["balanced"]
        balances = {r["code"]: r["debit"] - r["credit"] for r in books["accounts"]}
        assert balances["1405"] == Decimal("600.00") and balances["222101"] == Decimal("78.00")
        assert balances.get("2202", 0) == 0 and balances.get("2241", 0) == 0
        assert balances["1002"] == Decimal("-678.00")


def test_a_rejected_requisition_ends_without_an_order(engine, tx):
    number, instance_id = _start(engine, tx, SCREWS)
    _complete(engine, tx, instance_id, "review", "zhangwei", {"decision": "reject", "comment": "库存够用"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["requisition_rejected"]
    assert _one(tx, Requisition, number=number).status == "rejected"
    with tx(readonly=True) as session:
        assert session.scalars(select(PurchaseOrder)).all() == []


def test_partial_receipts_bring_the_receipt_task_back_for_the_rest(engine, tx):
    _number, instance_id = _start(engine, tx, SCREWS + [{"sku": "B", "quantity": "40",
                                                         "estimated_unit_price": "3.00"}])
    _approve_all(engine, tx, instance_id)
    _receive(engine, tx, instance_id, [{"sku": "A", "quantity": Decimal(60), "rejected": Decimal(5)}])
    rest = _show(engine, tx, instance_id)["data"]["receipt_lines"]
    assert {(x["sku"], Decimal(x["quantity"])) for x in rest} == {("A", Decimal(40)), ("B", Decimal(40))}
    order = _show(engine, tx, instance_id)["data"]["order"]
    assert _one(tx, PurchaseOrder, number=order).status == "partially_received"
    _receive(engine, tx, instance_id)
    assert _one(tx, PurchaseOrder, number=order).status == "received"
    assert _task(engine, tx, instance_id, "enter_invoice")
    with tx(readonly=True) as session:
        assert stock(session, "A")[0].on_hand == Decimal(100)  # 60 accepted then 40: the 5 rejected never in


def test_a_price_above_the_tolerance_is_accepted_by_the_buyer(engine, tx):
    _number, instance_id = _start(engine, tx, SCREWS)
    _approve_all(engine, tx, instance_id)
    _receive(engine, tx, instance_id)
    _invoice(engine, tx, instance_id, prices={"A": "6.60"})  # 10 % over; under 10,000 the tolerance is 5 %
    data = _show(engine, tx, instance_id)["data"]
    assert data["price_tolerance_percent"] == "5" and data["match_result"]["ok"] is False
    assert data["match_result"]["lines"][0]["status"] == "price_mismatch"
    task = _task(engine, tx, instance_id, "match_exception")
    assert task["candidate_groups"] == ["purchasing"]
    _complete(engine, tx, instance_id, "match_exception", "wangfang",
              {"resolution": "accept", "resolution_note": "原材料涨价，已电话确认"})
    _pay(engine, tx, instance_id)
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["paid"]
    with tx(readonly=True) as session:
        balances = {r["code"]: r["debit"] - r["credit"] for r in trial_balance(session)["accounts"]}
        assert balances["1405"] == Decimal("660.00")  # the difference went to the stock's cost
        assert balances.get("2202", 0) == 0


def test_a_disputed_invoice_is_reversed_and_the_corrected_one_matches(engine, tx):
    _number, instance_id = _start(engine, tx, SCREWS)
    _approve_all(engine, tx, instance_id)
    _receive(engine, tx, instance_id)
    _invoice(engine, tx, instance_id, number="0001", prices={"A": "7.00"})
    first = _show(engine, tx, instance_id)["data"]["bill"]
    _complete(engine, tx, instance_id, "match_exception", "wangfang",
              {"resolution": "dispute", "resolution_note": "单价与合同不符，请重开"})
    assert _one(tx, SupplierInvoice, number=first).status == "disputed"
    _invoice(engine, tx, instance_id, number="0002")  # the corrected invoice, at the order's price
    data = _show(engine, tx, instance_id)["data"]
    assert data["bill"] != first and data["match_result"]["ok"] is True
    _pay(engine, tx, instance_id)
    assert _show(engine, tx, instance_id)["status"] == "completed"
    with tx(readonly=True) as session:
        assert trial_balance(session)["balanced"]


def test_a_quantity_invoiced_beyond_the_receipt_is_settled_by_a_credit_note(engine, tx):
    _number, instance_id = _start(engine, tx, SCREWS)
    _approve_all(engine, tx, instance_id)
    # 90 arrive and the supplier will not deliver the last 10: the rest is closed
    _complete(engine, tx, instance_id, "receive_goods", "wangjun",
              {"receipt_lines": [{"sku": "A", "quantity": Decimal(90)}], "receipt_close_rest": True})
    order = _show(engine, tx, instance_id)["data"]["order"]
    assert _one(tx, PurchaseOrder, number=order).status == "received"
    _invoice(engine, tx, instance_id, quantities={"A": "100"})  # yet the supplier invoices all 100
    data = _show(engine, tx, instance_id)["data"]
    assert data["match_result"]["ok"] is False and data["match_result"]["lines"][0]["status"] == "quantity_mismatch"
    _complete(engine, tx, instance_id, "match_exception", "wangfang",
              {"resolution": "credit_note", "resolution_note": "只到货 90 个，请就 10 个开红字发票"})
    _complete(engine, tx, instance_id, "record_credit", "sunmei",
              {"credit_number": "R-0001", "credit_net": Decimal("60.00"), "credit_reason": "短交 10 个"})
    review = _task(engine, tx, instance_id, "review")
    assert _show(engine, tx, instance_id)["data"]["amount"] == "610.20"  # 678.00 invoiced − 67.80 credited
    assert review["candidate_groups"] == ["dept_manager"]
    _pay(engine, tx, instance_id)
    bill = _one(tx, SupplierInvoice, number=_show(engine, tx, instance_id)["data"]["bill"])
    assert bill.status == "paid" and bill.paid == Decimal("610.20")
    assert _one(tx, PurchaseOrder, number=order).status == "closed"
    with tx(readonly=True) as session:
        balances = {r["code"]: r["debit"] - r["credit"] for r in trial_balance(session)["accounts"]}
        assert balances["1405"] == Decimal("540.00") and balances.get("2241", 0) == 0
        assert balances.get("2202", 0) == 0


def test_quotations_are_requested_and_the_awarded_supplier_gets_the_order(engine, tx):
    big = [{"sku": "A", "quantity": "10000", "estimated_unit_price": "6.00"}]  # 67,800.00: an RFQ
    _number, instance_id = _start(engine, tx, big)
    _approve_all(engine, tx, instance_id)
    data = _show(engine, tx, instance_id)["data"]
    assert data["rfq_needed"] is True and data["rfq"].startswith("RFQ-")
    task = _task(engine, tx, instance_id, "compare_quotes")
    assert task["candidate_groups"] == ["purchasing"]
    invited = data["rfq_info"]["suppliers"]
    assert len(invited) >= 2 and "S-000002" in invited  # qualified suppliers, at least two
    with clock.frozen(MONDAY), tx() as session:
        prices = {"S-000001": "5.90", "S-000002": "5.60", "S-000003": "5.75"}
        for code in invited:
            rfqs.record_quote(session, data["rfq"], code, [{"sku": "A", "unit_price": prices[code]}],
                              lead_time_days=5)
        compared = rfqs.comparison(session, data["rfq"])
        assert [s["code"] for s in compared["suppliers"] if s["cheapest"]] == ["S-000002"]
    _complete(engine, tx, instance_id, "compare_quotes", "wangfang",
              {"awarded_supplier": "S-000002", "award_note": "价格最低，交期 5 天"})
    order = _one(tx, PurchaseOrder, number=_show(engine, tx, instance_id)["data"]["order"])
    assert order.net_total == Decimal("56000.00")
    assert _task(engine, tx, instance_id, "receive_goods")


def test_a_late_supplier_is_reminded_and_the_buyer_is_escalated_to(engine, tx, database, smtp_server):
    _number, instance_id = _start(engine, tx, SCREWS)
    _approve_all(engine, tx, instance_id)
    order = _one(tx, PurchaseOrder, number=_show(engine, tx, instance_id)["data"]["order"])
    mail = MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5)
    send_due(database, mail, now=MONDAY + timedelta(minutes=1))
    assert any(m["To"] == "sales@jinggong.example.cn" and order.number in m["Subject"]
               for m in smtp_server.messages)  # the purchase order itself
    smtp_server.messages.clear()
    day_after = datetime.combine(order.expected_date + timedelta(days=1), datetime.min.time(), tzinfo=BEIJING)
    with tx() as session:
        assert engine.fire_due_timers(session, day_after + timedelta(hours=8)) == []
        assert engine.fire_due_timers(session, day_after + timedelta(hours=9, minutes=1)) == [instance_id]
    send_due(database, mail, now=day_after + timedelta(hours=10))
    reminder = [m for m in smtp_server.messages if m["To"] == "sales@jinggong.example.cn"]
    assert len(reminder) == 1 and order.number in reminder[0]["Subject"]
    assert _task(engine, tx, instance_id, "receive_goods")  # the warehouse still waits for the goods
    next_chase = datetime.fromisoformat(_show(engine, tx, instance_id)["data"]["receipt_state"]["next_chase_at"])
    with tx() as session:
        assert engine.fire_due_timers(session, next_chase + timedelta(minutes=1)) == [instance_id]
    send_due(database, mail, now=next_chase + timedelta(hours=1))
    escalated = [m for m in smtp_server.messages if m["To"] == "wangfang@example.cn"]
    assert escalated and any(order.number in m["Subject"] for m in escalated)
    assert _show(engine, tx, instance_id)["data"]["chase_level"] == 2
    _receive(engine, tx, instance_id, at=next_chase + timedelta(hours=2))  # at last
    assert _task(engine, tx, instance_id, "enter_invoice")


def test_stock_below_its_reorder_point_raises_a_requisition_and_starts_procurement(engine, tx):
    with clock.frozen(MONDAY), tx() as session:
        set_reorder_point(session, "A", "BJ-01", 20, 500)
        first = raise_reorder_requisitions(session, engine)
        again = raise_reorder_requisitions(session, engine)
    assert len(first["raised"]) == 1 and first["started"] == first["raised"] and again == {"raised": [], "started": []}
    requisition = _one(tx, Requisition, number=first["raised"][0])
    assert requisition.source == "reorder_point" and requisition.requester == "wangfang"  # the buyer
    with tx(readonly=True) as session:
        [instance] = queries.instances(session, business_key=requisition.number)
    review = _task(engine, tx, instance["id"], "review")
    assert review["excluded_users"] == ["wangfang"]


def test_a_receipt_releases_the_sales_order_backordered_for_its_goods(engine, tx):
    from erp.crm.services import update_customer
    from erp.sales import services as sales
    from erp.sales.models import SalesOrder
    from tests.sales_data import customer

    with clock.frozen(MONDAY), tx() as session:
        from erp.catalog.services import create_price_list, set_price

        create_price_list(session, name="标准价", is_default=True)
        set_price(session, "标准价", "A", "10.00")
        update_customer(session, customer(session).id, sales_rep="chenjing", tier="A", by="tester")
        quotation = sales.create_quotation(session, customer="C001", lines=[{"sku": "A", "quantity": 30}],
                                           sales_rep="chenjing").number
        o2c = engine.start(session, "order_to_cash", {"quotation": quotation, "requester": "chenjing"},
                           business_key=quotation, user="chenjing").id
    # nothing in stock: the order waits as a backorder and has raised a requisition
    shown = _show(engine, tx, o2c)
    assert shown["tasks"] == [] and shown["data"]["backorder_requisition"]["requisition"].startswith("REQ-")
    sales_order = shown["data"]["order"]
    with clock.frozen(MONDAY), tx() as session:
        [number] = start_pending_requisitions(session, engine)
        assert start_pending_requisitions(session, engine) == []
        [procurement] = queries.instances(session, business_key=number)
    requisition = _one(tx, Requisition, number=number)
    assert (requisition.source, requisition.source_reference) == ("backorder", sales_order)
    _approve_all(engine, tx, procurement["id"])
    assert _show(engine, tx, procurement["id"])["data"]["rfq_needed"] is False  # backorders are ordered directly
    _receive(engine, tx, procurement["id"])
    # the receipt told the order-to-cash instance: its goods are reserved and the warehouse can ship them
    assert _task(engine, tx, o2c, "delivery")
    assert _one(tx, SalesOrder, number=sales_order).status == "open"


def test_only_the_warehouse_receives_and_only_finance_records_invoices(engine, tx):
    _number, instance_id = _start(engine, tx, SCREWS)
    _approve_all(engine, tx, instance_id)
    task = _task(engine, tx, instance_id, "receive_goods")
    with pytest.raises(PermissionDenied), clock.frozen(MONDAY), tx() as session:
        engine.complete(session, task["id"], {"receipt_lines": [{"sku": "A", "quantity": Decimal(100)}]}, "sunmei")
    _receive(engine, tx, instance_id)
    task = _task(engine, tx, instance_id, "enter_invoice")
    with pytest.raises(PermissionDenied), clock.frozen(MONDAY), tx() as session:
        engine.complete(session, task["id"], {"supplier_number": "1", "invoice_date": date(2026, 11, 5).isoformat(),
                                              "invoice_kind": "special", "bill_lines": []}, "wangjun")

"""Order-to-cash (bpmn/order_to_cash) end to end against the real domain: a quotation becomes an order after
the discount and credit checks, stock is reserved or backordered, the warehouse delivers (in parts if need
be), the invoice is posted, and the process waits for the payment — dunning the customer at 7, 15 and 30 days
overdue and giving the sales manager a follow-up — until the invoice is paid and the order closed."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from core.errors import PermissionDenied
from engine import queries
from engine.deploy import read_paths
from erp.catalog.services import create_product, set_price
from erp.crm.models import Activity
from erp.crm.services import add_contact, update_customer
from erp.finance.queries import trial_balance
from erp.identity.services import ensure_user
from erp.inventory.services import receive
from erp.sales import collection, discounts, payments, services
from erp.sales.models import Delivery, Invoice, Quotation, SalesOrder
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server
from tests.conftest import ROOT, process_engine
from tests.sales_data import customer, shop

smtp_server = mail_server.smtp_server  # the fixture, used by name
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING)
PEOPLE = [("zhaoqiang", ["sales"]), ("zhangwei", ["dept_manager", "sales_manager"]),
          ("lina", ["finance_director", "credit_manager"]), ("liuyang", ["general_manager"]),
          ("wangjun", ["warehouse"])]


@pytest.fixture
def engine(tx):
    engine = process_engine(mail=True)
    with clock.frozen(MONDAY), tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        for username, groups in PEOPLE:
            ensure_user(session, username, username, groups=groups, email=f"{username}@example.cn")
    return engine


@pytest.fixture
def company(tx):
    """Products A (10.00, 13 %) and B (55.50, 9 %) in stock, customer C001 of zhaoqiang's (tier C, credit
    limit 100,000, 30 days) whose buyer reads mail at caigou@hualian.example.cn."""
    def make(stock=None, credit_limit="100000.00", tier="C"):
        with clock.frozen(MONDAY), tx() as session:
            shop(session, stock)
            buyer = customer(session, credit_limit=credit_limit)
            update_customer(session, buyer.id, sales_rep="zhaoqiang", tier=tier, by="tester")
            add_contact(session, buyer.id, contact_name="刘采购", email="caigou@hualian.example.cn",
                        is_primary=True)
    return make


def _quote(tx, lines, discount="0"):
    with clock.frozen(MONDAY), tx() as session:
        return services.create_quotation(session, customer="C001", lines=lines, discount_percent=discount,
                                         sales_rep="zhaoqiang", by="zhaoqiang").number


def _start(engine, tx, quotation, at=MONDAY):
    with clock.frozen(at), tx() as session:
        return engine.start(session, "order_to_cash", {"quotation": quotation, "requester": "zhaoqiang"},
                            business_key=quotation, user="zhaoqiang").id


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


def _task(engine, tx, instance_id, element_id=None):
    tasks = _show(engine, tx, instance_id)["tasks"]
    assert len(tasks) == 1, tasks
    if element_id:
        assert tasks[0]["element_id"] == element_id, tasks[0]
    return tasks[0]


def _complete(engine, tx, task_id, user, data, at=MONDAY):
    with clock.frozen(at), tx() as session:
        engine.complete(session, task_id, data, user)


def _deliver_reserved(engine, tx, instance_id, at=MONDAY):
    task = _task(engine, tx, instance_id, "delivery")
    assert task["candidate_groups"] == ["warehouse"]
    lines = _lines(_show(engine, tx, instance_id)["data"]["delivery_lines"])
    _complete(engine, tx, task["id"], "wangjun", {"delivery_lines": lines}, at)


def _lines(shown_lines) -> list[dict]:
    """The delivery lines the form shows (quantities as text on the page) as the warehouse submits them."""
    return [{"sku": x["sku"], "quantity": Decimal(x["quantity"])} for x in shown_lines]


def _order(tx, quotation) -> SalesOrder:
    with tx(readonly=True) as session:
        quote_id = session.scalar(select(Quotation.id).where(Quotation.number == quotation))
        order = session.scalar(select(SalesOrder).where(SalesOrder.quotation_id == quote_id))
        session.expunge(order) if order else None
        return order


def _invoice(tx, quotation) -> Invoice:
    order = _order(tx, quotation)
    with tx(readonly=True) as session:
        invoice = session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        session.expunge(invoice)
        return invoice


def _ended_at(shown) -> list[str]:
    return [h["element_id"] for h in shown["history"] if h["kind"] == "element_completed"
            and h["element_id"] in ("closed", "discount_rejected", "credit_rejected")]


def _pay(engine, tx, invoice, amount, at=MONDAY):
    """Finance records a payment on the payments page: the waiting instance is told."""
    with clock.frozen(at), tx() as session:
        payment = payments.record_payment(session, invoice, amount, by="sunmei")
        return collection.announce_payment(session, engine, invoice, payment=payment.number, user="sunmei")


def _assert_books_balance(tx):
    with tx(readonly=True) as session:
        assert trial_balance(session)["balanced"]


def test_happy_path_from_quotation_to_a_closed_order(engine, tx, company):
    company()
    quotation = _quote(tx, [{"sku": "A", "quantity": 10}, {"sku": "B", "quantity": 2}])
    instance_id = _start(engine, tx, quotation)
    shown = _show(engine, tx, instance_id)
    assert shown["data"]["discount_needs_approval"] is False
    assert shown["data"]["credit_result"] == "pass"
    assert shown["data"]["order"].startswith("SO-")
    _deliver_reserved(engine, tx, instance_id)
    invoice = _invoice(tx, quotation)
    assert invoice.gross_total == Decimal("113.00") + Decimal("120.99")  # 10 × 10.00 + 13 %; 2 × 55.50 + 9 %
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "running" and shown["data"]["invoice"] == invoice.number
    assert [s["message"] for s in shown["subscriptions"]] == ["payment_received"]
    assert _pay(engine, tx, invoice.number, invoice.gross_total) == [instance_id]
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["closed"]
    assert _order(tx, quotation).status == "closed"
    _assert_books_balance(tx)


def test_a_part_payment_keeps_the_process_waiting_for_the_rest(engine, tx, company):
    company()
    quotation = _quote(tx, [{"sku": "A", "quantity": 10}])
    instance_id = _start(engine, tx, quotation)
    _deliver_reserved(engine, tx, instance_id)
    invoice = _invoice(tx, quotation).number
    assert _pay(engine, tx, invoice, "100.00") == [instance_id]
    assert _show(engine, tx, instance_id)["status"] == "running"
    # the rest arrives through an integration (erp message / the API): the process records it itself, once
    with clock.frozen(MONDAY), tx() as session:
        engine.deliver_message(session, "payment_received", {"invoice": invoice},
                               {"amount": "13.00", "reference": "BANK-20261102-7", "payer": "北京华联"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["closed"]
    with tx(readonly=True) as session:
        assert payments.invoice_status(session, invoice) == "paid"


def test_a_discount_within_the_reps_limit_needs_no_approval(engine, tx, company):
    company(tier="B")
    quotation = _quote(tx, [{"sku": "A", "quantity": 100}], discount="5")
    instance_id = _start(engine, tx, quotation)
    data = _show(engine, tx, instance_id)["data"]
    assert data["discount_needs_approval"] is False and data["discount_limit_percent"] == 5
    assert _task(engine, tx, instance_id)["element_id"] == "delivery"


def test_a_discount_above_the_limit_is_returned_resubmitted_lower_and_approved(engine, tx, company):
    company(tier="C")
    quotation = _quote(tx, [{"sku": "A", "quantity": 100}], discount="10")  # 1,130.00 list, 113.00 off
    instance_id = _start(engine, tx, quotation)
    review = _task(engine, tx, instance_id, "review")
    assert review["candidate_groups"] == ["dept_manager"] and review["excluded_users"] == ["zhaoqiang"]
    data = _show(engine, tx, instance_id)["data"]
    assert data["discount_needs_approval"] is True and data["document_type"] == "sales_discount"
    assert data["amount"] == "113.00"  # the discount in money goes for approval
    with pytest.raises(PermissionDenied):  # the rep does not approve their own discount
        _complete(engine, tx, review["id"], "zhaoqiang", {"decision": "approve"})
    _complete(engine, tx, review["id"], "zhangwei", {"decision": "return", "comment": "最多给 5%"})
    revise = _task(engine, tx, instance_id, "revise")
    assert revise["assignee"] == "zhaoqiang"
    _complete(engine, tx, revise["id"], "zhaoqiang", {"amount": 56.5, "note": "改为约 5%"})
    review = _task(engine, tx, instance_id, "review")
    _complete(engine, tx, review["id"], "zhangwei", {"decision": "approve"})
    # the approved 56.50 lowered the quotation's discount to the largest that fits: 5 %
    with tx(readonly=True) as session:
        found = session.scalar(select(Quotation).where(Quotation.number == quotation))
        assert found.discount_percent == Decimal("5.00") and found.status == "accepted"
        assert discounts.discount_amount(found) == Decimal("56.50")
    assert _order(tx, quotation).gross_total == Decimal("1073.50")
    assert _task(engine, tx, instance_id)["element_id"] == "delivery"


def test_a_rejected_discount_rejects_the_quotation_and_makes_no_order(engine, tx, company):
    company()
    quotation = _quote(tx, [{"sku": "A", "quantity": 100}], discount="20")
    instance_id = _start(engine, tx, quotation)
    review = _task(engine, tx, instance_id, "review")
    _complete(engine, tx, review["id"], "zhangwei", {"decision": "reject", "comment": "折扣过高"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["discount_rejected"]
    assert _order(tx, quotation) is None
    with tx(readonly=True) as session:
        assert session.scalar(select(Quotation.status).where(Quotation.number == quotation)) == "rejected"


def test_a_failed_credit_check_released_by_the_credit_manager_goes_on_to_delivery(engine, tx, company):
    company(credit_limit="500.00")
    quotation = _quote(tx, [{"sku": "A", "quantity": 50}])  # 565.00 > 500.00
    instance_id = _start(engine, tx, quotation)
    data = _show(engine, tx, instance_id)["data"]
    assert data["credit_result"] == "fail" and "信用额度" in data["credit_reason"]
    assert data["credit"]["exposure"] == "565.00"
    task = _task(engine, tx, instance_id, "credit_review")
    assert task["candidate_groups"] == ["credit_manager"]
    _complete(engine, tx, task["id"], "lina", {"credit_decision": "approve", "credit_comment": "老客户，放行"})
    assert _task(engine, tx, instance_id)["element_id"] == "delivery"
    assert _order(tx, quotation).status == "open"


def test_a_failed_credit_check_refused_cancels_the_order_and_frees_the_stock(engine, tx, company):
    company(credit_limit="500.00")
    quotation = _quote(tx, [{"sku": "A", "quantity": 50}])
    instance_id = _start(engine, tx, quotation)
    task = _task(engine, tx, instance_id, "credit_review")
    _complete(engine, tx, task["id"], "lina", {"credit_decision": "reject", "credit_comment": "欠款未清"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and _ended_at(shown) == ["credit_rejected"]
    order = _order(tx, quotation)
    assert order.status == "cancelled"
    # nothing was reserved for it: all 100 of A are still free for the next order
    second = _start(engine, tx, _quote(tx, [{"sku": "A", "quantity": 100}]))
    assert _task(engine, tx, second)["element_id"] == "credit_review"  # 1,130.00 over the limit as well


def test_overdue_receivables_fail_the_credit_check(engine, tx, company):
    company()
    first = _quote(tx, [{"sku": "A", "quantity": 1}])
    instance_id = _start(engine, tx, first)
    _deliver_reserved(engine, tx, instance_id)
    later = MONDAY + timedelta(days=31)  # the first invoice (30 days) is now overdue, unpaid
    second = _start(engine, tx, _quote(tx, [{"sku": "A", "quantity": 1}]), at=later)
    data = _show(engine, tx, second)["data"]
    assert data["credit_result"] == "fail" and data["credit_reason"].startswith("有逾期应收账款")


def test_a_partial_delivery_loops_back_to_the_warehouse_for_the_rest(engine, tx, company):
    company()
    quotation = _quote(tx, [{"sku": "A", "quantity": 10}, {"sku": "B", "quantity": 4}])
    instance_id = _start(engine, tx, quotation)
    task = _task(engine, tx, instance_id, "delivery")
    _complete(engine, tx, task["id"], "wangjun", {"delivery_lines": [{"sku": "A", "quantity": 4}],
                                                   "delivery_note": "第一车"})
    assert _order(tx, quotation).status == "partially_delivered"
    task = _task(engine, tx, instance_id, "delivery")
    rest = _lines(_show(engine, tx, instance_id)["data"]["delivery_lines"])
    assert {(x["sku"], x["quantity"]) for x in rest} == {("A", Decimal(6)), ("B", Decimal(4))}
    _complete(engine, tx, task["id"], "wangjun", {"delivery_lines": rest})
    assert _order(tx, quotation).status == "invoiced"
    with tx(readonly=True) as session:
        assert len(session.scalars(select(Invoice)).all()) == 1  # one invoice for both shipments


def test_a_backorder_waits_for_stock_and_the_receipt_message_releases_it(engine, tx, company):
    company(stock={"A": 6, "B": 0})
    quotation = _quote(tx, [{"sku": "A", "quantity": 10}])
    instance_id = _start(engine, tx, quotation)
    assert _order(tx, quotation).status == "backordered"
    _deliver_reserved(engine, tx, instance_id)  # the 6 in stock go out first
    shown = _show(engine, tx, instance_id)
    assert shown["tasks"] == [] and [s["message"] for s in shown["subscriptions"]] == ["stock_available"]
    order = _order(tx, quotation).number
    with clock.frozen(MONDAY + timedelta(hours=3)), tx() as session:
        receive(session, "A", "BJ-01", 20, unit_cost="6.00", by="wangjun")
        engine.deliver_message(session, "stock_available", {"order": order}, {"sku": "A"})
    _deliver_reserved(engine, tx, instance_id)
    assert _order(tx, quotation).status == "invoiced"
    assert [s["message"] for s in _show(engine, tx, instance_id)["subscriptions"]] == ["payment_received"]


def test_a_backorder_is_rechecked_daily_when_no_message_comes(engine, tx, company):
    company(stock={"A": 0, "B": 0})
    quotation = _quote(tx, [{"sku": "A", "quantity": 3}])
    instance_id = _start(engine, tx, quotation)
    shown = _show(engine, tx, instance_id)
    assert shown["tasks"] == [] and shown["next_timer_at"] is not None
    with clock.frozen(MONDAY + timedelta(hours=5)), tx() as session:
        receive(session, "A", "BJ-01", 3, unit_cost="6.00", by="wangjun")  # arrives without a message
    with tx() as session:
        assert engine.fire_due_timers(session, MONDAY + timedelta(hours=23)) == []
    with clock.frozen(MONDAY + timedelta(days=1, minutes=1)), tx() as session:
        assert engine.fire_due_timers(session, clock.now()) == [instance_id]
    assert _task(engine, tx, instance_id)["element_id"] == "delivery"


def test_late_payment_sends_three_dunning_letters_escalates_and_the_payment_ends_the_follow_up(
        engine, tx, company, database, smtp_server):
    company()
    quotation = _quote(tx, [{"sku": "A", "quantity": 10}])
    instance_id = _start(engine, tx, quotation)
    _deliver_reserved(engine, tx, instance_id)
    invoice = _invoice(tx, quotation)
    assert invoice.due_date == MONDAY.date() + timedelta(days=30)
    mail = MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5)
    send_due(database, mail)
    smtp_server.messages.clear()
    for level, days in ((1, 7), (2, 15), (3, 30)):
        at = datetime.combine(invoice.due_date + timedelta(days=days), datetime.min.time(), tzinfo=BEIJING)
        with clock.frozen(at + timedelta(hours=8, minutes=59)), tx() as session:
            assert engine.fire_due_timers(session, clock.now()) == []  # not before 09:00
        with clock.frozen(at + timedelta(hours=9, minutes=1)), tx() as session:
            assert engine.fire_due_timers(session, clock.now()) == [instance_id]
        assert _show(engine, tx, instance_id)["data"]["dunning_level"] == level
        send_due(database, mail, now=at + timedelta(hours=9, minutes=2))
        letters = [m for m in smtp_server.messages if invoice.number in m["Subject"]]
        to_customer = [m for m in letters if m["To"] == "caigou@hualian.example.cn"]
        assert len(to_customer) == level and len(letters) == 2 * level  # and a copy to the rep each time
        body = to_customer[-1].get_body(("plain",)).get_content()
        assert f"逾期天数：{days} 天" in body and "尊敬的北京华联商贸有限公司" in body
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert any("付款提醒" in s for s in subjects) and any("最后催款通知" in s for s in subjects)
    # the third letter gave the sales manager a follow-up task (and the task mail)
    follow_up = _task(engine, tx, instance_id, "collection_follow_up")
    assert follow_up["candidate_groups"] == ["sales_manager"]
    send_due(database, mail, now=clock.now() + timedelta(days=60))
    assert any(m["To"] == "zhangwei@example.cn" and "逾期催收跟进" in m["Subject"] for m in smtp_server.messages)
    with tx(readonly=True) as session:
        logged = session.scalars(select(Activity.subject).where(Activity.subject.like("催款函%"))).all()
        assert len(logged) == 3
    # the customer pays while the follow-up is open: the payment ends the follow-up and closes the order
    paid_at = datetime.combine(invoice.due_date + timedelta(days=32), datetime.min.time(), tzinfo=BEIJING)
    with clock.frozen(paid_at), tx() as session:
        engine.deliver_message(session, "payment_received", {"invoice": invoice.number},
                               {"amount": str(invoice.gross_total), "reference": "BANK-1"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["tasks"] == [] and _ended_at(shown) == ["closed"]
    _assert_books_balance(tx)


def test_a_payment_before_the_first_letter_withdraws_the_dunning_timer(engine, tx, company, database):
    company()
    quotation = _quote(tx, [{"sku": "A", "quantity": 1}])
    instance_id = _start(engine, tx, quotation)
    _deliver_reserved(engine, tx, instance_id)
    invoice = _invoice(tx, quotation)
    first_letter = datetime.combine(invoice.due_date + timedelta(days=7), datetime.min.time(),
                                    tzinfo=BEIJING) + timedelta(hours=9)
    assert _show(engine, tx, instance_id)["next_timer_at"] == first_letter.astimezone(UTC).isoformat()
    with clock.frozen(MONDAY + timedelta(days=35)), tx() as session:  # paid 5 days late, by bank statement
        csv = f"交易日期,金额,付款人,摘要\n2026-12-07,{invoice.gross_total},北京华联,货款 {invoice.number}\n"
        imported = payments.import_bank_statement(session, csv.encode("gb18030"), by="sunmei")
        collection.announce_statement(session, engine, imported, user="sunmei")
        assert imported["matched"][0]["announced"] == [instance_id]
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["next_timer_at"] is None
    with tx(readonly=True) as session:
        assert session.scalars(select(Activity).where(Activity.subject.like("催款函%"))).all() == []


def test_a_service_line_is_delivered_and_invoiced_without_stock(engine, tx, company):
    company()
    with clock.frozen(MONDAY), tx() as session:
        create_product(session, sku="INSTALL", name_zh="上门安装", name_en="Installation", unit="次",
                       unit_en="visit", vat_rate="0.06", stocked=False)
        set_price(session, "标准价", "INSTALL", "300.00")
    quotation = _quote(tx, [{"sku": "A", "quantity": 2}, {"sku": "INSTALL", "quantity": 1}])
    instance_id = _start(engine, tx, quotation)
    assert _order(tx, quotation).status == "open"  # not backordered: the service needs no stock
    lines = _lines(_show(engine, tx, instance_id)["data"]["delivery_lines"])
    assert {(x["sku"], x["quantity"]) for x in lines} == {("A", Decimal(2)), ("INSTALL", Decimal(1))}
    _deliver_reserved(engine, tx, instance_id)
    invoice = _invoice(tx, quotation)
    assert invoice.gross_total == Decimal("22.60") + Decimal("318.00")
    with tx(readonly=True) as session:
        assert session.scalar(select(Delivery.cost_total)) == Decimal("12.00")  # 2 × A at 6.00; no cost for the service
    _assert_books_balance(tx)

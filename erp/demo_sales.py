"""Order-to-cash demo: quotations of the demo company sent through the process and left at different steps —
a discount awaiting approval, an order held by the credit check, goods to deliver, a backorder, invoices
waiting for payment (one overdue and already dunned) and a closed order. Needs erp.demo_erp loaded first;
running it twice adds nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core import clock
from engine.models import ProcessInstance
from engine.queries import show, tasks
from erp.sales import collection, payments, services

PROCESS = "order_to_cash"

SCENARIOS = [
    # customer, lines (sku, quantity), document discount %, days ago, how far it goes
    ("C-000002", [("HX-TEA-001", 20), ("HX-OIL-001", 30)], "12", 1, "discount_review"),
    ("C-000004", [("HX-LIQ-001", 60)], "0", 2, "credit_review"),
    ("C-000001", [("HX-RICE-001", 40), ("HX-OIL-001", 20)], "8", 1, "delivery"),
    ("C-000006", [("HX-APP-002", 25)], "0", 6, "backorder"),
    ("C-000006", [("HX-APP-001", 10), ("HX-SVC-001", 10)], "0", 3, "awaiting_payment"),
    ("C-000008", [("HX-FRUIT-001", 30)], "0", 40, "overdue"),
    ("C-000001", [("HX-TEX-001", 100)], "5", 20, "closed"),
]
REP = "zhaoqiang"


def load_order_to_cash(session, engine) -> int:
    """Start the demo's order-to-cash instances (once); returns how many were started."""
    if session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key == PROCESS).limit(1)):
        return 0
    now = clock.now()
    for customer, lines, discount, days_ago, goal in SCENARIOS:
        began = now - timedelta(days=days_ago)
        with clock.frozen(began):
            quotation = services.create_quotation(
                session, customer=customer, discount_percent=discount, sales_rep=REP, by=REP,
                lines=[{"sku": sku, "quantity": quantity} for sku, quantity in lines]).number
            instance = engine.start(session, PROCESS, {"quotation": quotation, "requester": REP},
                                    business_key=quotation, user=REP)
        _advance(session, engine, instance.id, goal, began, now)
    return len(SCENARIOS)


def _advance(session, engine, instance_id, goal, began, now) -> None:
    if goal in ("discount_review", "credit_review", "delivery"):
        return  # the first open task is the step to show
    with clock.frozen(began + timedelta(hours=2)):
        _deliver_reserved(session, engine, instance_id)
    if goal in ("backorder", "awaiting_payment"):
        return
    data = engine_data(session, engine, instance_id)
    if goal == "closed":
        with clock.frozen(began + timedelta(days=12)):
            invoice = data["invoice"]
            paid = payments.record_payment(session, invoice, _outstanding(session, invoice), payer="北京鑫源百货",
                                           memo=f"货款 {invoice}", by="sunmei")
            collection.announce_payment(session, engine, invoice, payment=paid.number, user="sunmei")
        return
    while engine.fire_due_timers(session, now):  # overdue: the dunning letters due by now go out
        pass


def _deliver_reserved(session, engine, instance_id) -> None:
    [task] = tasks(session, instance_id=instance_id)
    lines = [{"sku": x["sku"], "quantity": Decimal(x["quantity"])}
             for x in engine_data(session, engine, instance_id)["delivery_lines"]]
    engine.complete(session, task["id"], {"delivery_lines": lines, "delivery_note": "顺丰 SF1234567890"}, "wangjun")


def engine_data(session, engine, instance_id) -> dict:
    return show(engine, session, instance_id)["data"]


def _outstanding(session, invoice):
    from erp.sales.fulfilment import find_invoice

    return find_invoice(session, invoice).outstanding

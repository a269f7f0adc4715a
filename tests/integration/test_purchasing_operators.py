"""The purchasing operators as a process step calls them: a receipt tells each waiting sales order that its
stock is there, and every operator is registered under its contract name."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as M

from erp import wiring
from erp.inventory.services import receive as receive_stock
from erp.purchasing import services, tasks
from erp.sales import services as sales
from tests.purchasing_data import goods, order, supplier
from tests.sales_data import customer

NAMES = ("requisition_summary", "set_requisition_status", "create_rfq", "award_rfq", "create_order",
         "receipt_status", "receive", "chase_supplier", "invoice_lines", "record_supplier_invoice", "three_way_match",
         "resolve_exception", "record_supplier_credit", "approve_for_payment", "pay_supplier",
         "requisition_for_backorder")


@dataclass
class Step:
    """The part of engine.operators.OperatorContext these operators use, recording the messages sent."""

    session: object
    actor: str = "wangfang"
    sent: list = field(default_factory=list)

    def send_message(self, name, correlation, payload=None):
        self.sent.append((name, correlation, payload))


def test_every_operator_of_the_contract_is_registered():
    registry = wiring.build_registry()
    for name in NAMES:
        assert registry.get(f"purchasing.{name}") is not None


def test_a_receipt_sends_stock_available_to_each_backordered_sales_order(tx):
    with tx() as session:
        goods(session)
        customer(session)
        supplier(session)
        receive_stock(session, "A", "BJ-01", 2, unit_cost="9.00")
        so = sales.create_order(session, customer="C001", lines=[{"sku": "A", "quantity": "5", "unit_price": "12"}])
        sales.reserve_order(session, so)
        po = order(session)
        step = Step(session)
        result = tasks.receive(step, po.number, [{"sku": "A", "quantity": "10"}])
        assert result["released_orders"] == [so.number] and result["status"] == "partially_received"
        assert step.sent == [("stock_available", {"order": so.number}, {"receipt": result["receipt"]})]
        status = tasks.receipt_status(step, po.number)
        assert status["outstanding_lines"] == [{"sku": "B", "quantity": M(4)}] and not status["fully_received"]
        assert tasks.invoice_lines(step, po.number) == [{"sku": "A", "quantity": M(10), "unit_price": M("10.00")}]
        bill = tasks.record_supplier_invoice(step, po.number, "0001", [{"sku": "A", "quantity": "10",
                                                                        "unit_price": "10"}], "2026-03-10")
        assert tasks.three_way_match(step, bill["bill"], "2", "0")["ok"]
        tasks.approve_for_payment(step, bill["bill"])
        paid = tasks.pay_supplier(step, bill["bill"], "BANK-1", "2026-03-20")
        assert (paid["status"], paid["order_status"]) == ("paid", "partially_received")
        assert services.find_supplier_invoice(session, bill["bill"]).outstanding == 0

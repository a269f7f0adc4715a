"""Service-task operators of sales for the order-to-cash diagram, registered by name (erp.wiring).
Results are plain data: amounts as text (money keeps its digits), dates as ISO text."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.operators import OperatorContext
from erp.sales import fulfilment, queries, services
from erp.sales.models import Quotation


def create_order(ctx: OperatorContext, quotation) -> dict:
    """sales.create_order: the order of an accepted quotation (a sent or approved one is accepted first)."""
    found = services.find_quotation(ctx.session, _key(quotation))
    if found.status in ("sent", "approved"):
        services.set_quotation_status(ctx.session, found, "accepted")
    order = services.create_order_from_quotation(ctx.session, found, by=ctx.actor)
    return {"order": order.number, "order_id": order.id, "customer_id": order.customer_id,
            "gross_total": str(order.gross_total)}


def check_credit(ctx: OperatorContext, customer=None, order=None) -> dict:
    """sales.check_credit: exposure (open AR + open orders), limit, overdue amount and `passed` (within the
    limit and nothing overdue); the process's DMN may decide on the figures instead."""
    if customer is None:
        customer = services.find_order(ctx.session, _key(order)).customer_id
    figures = queries.credit_exposure(ctx.session, _key(customer))
    passed = figures["within_limit"] and figures["overdue"] == 0
    return _plain({**figures, "passed": passed, "limit": figures["credit_limit"]})


def reserve_order(ctx: OperatorContext, order, warehouse=None) -> dict:
    """sales.reserve_order: {"reserved", "shortages", "status", "backordered": bool}."""
    result = services.reserve_order(ctx.session, _key(order), warehouse)
    return _plain({**result, "backordered": bool(result["shortages"])})


def deliver(ctx: OperatorContext, order, lines=None) -> dict:
    """sales.deliver: deliver `lines` (default: all reserved) and post the cost of sales."""
    delivery = fulfilment.deliver(ctx.session, _key(order), lines, by=ctx.actor)
    found = services.find_order(ctx.session, delivery.order_id)
    return _plain({"delivery": delivery.number, "cost_total": delivery.cost_total, "status": found.status,
                   "fully_delivered": all(x.delivered == x.quantity for x in found.lines)})


def invoice_order(ctx: OperatorContext, order, kind="special") -> dict:
    """sales.invoice_order: the invoice for everything delivered and not invoiced; its number is what the
    payment_received message correlates on."""
    invoice = fulfilment.invoice_order(ctx.session, _key(order), kind=kind, by=ctx.actor)
    return _plain({"invoice": invoice.number, "gross_total": invoice.gross_total, "due_date": invoice.due_date,
                   "status": services.find_order(ctx.session, invoice.order_id).status})


def close_order(ctx: OperatorContext, order) -> dict:
    """sales.close_order."""
    return {"order": services.close_order(ctx.session, _key(order)).number, "status": "closed"}


def register(registry) -> None:
    registry.register("sales.create_order", create_order)
    registry.register("sales.check_credit", check_credit)
    registry.register("sales.reserve_order", reserve_order)
    registry.register("sales.deliver", deliver)
    registry.register("sales.invoice_order", invoice_order)
    registry.register("sales.close_order", close_order)


def _key(value):
    """A document's id (an int, or digits) or its number (QT-…, SO-…) / a customer's code."""
    if isinstance(value, Quotation):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value

"""Service-task operators of sales for the order-to-cash diagram, registered by name (erp.wiring).
Results are plain data: amounts as text (money keeps its digits), dates as ISO text."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.operators import OperatorContext
from erp.sales import collection, discounts, fulfilment, queries, services
from erp.sales.models import Invoice, Quotation


def quotation_summary(ctx: OperatorContext, quotation) -> dict:
    """sales.quotation_summary: customer, tier, totals, the largest discount (per cent) and the discount in
    money, as numbers for the diagram's decision tables."""
    return discounts.summary(ctx.session, _key(quotation))


def limit_discount(ctx: OperatorContext, quotation, allowed) -> dict:
    """sales.limit_discount: bring the quotation within the discount amount the approval allowed."""
    return _plain(discounts.limit_discount(ctx.session, _key(quotation), allowed))


def set_quotation_status(ctx: OperatorContext, quotation, status) -> dict:
    """sales.set_quotation_status: approve or reject a quotation (see services.QUOTATION_MOVES)."""
    found = services.set_quotation_status(ctx.session, _key(quotation), status)
    return {"quotation": found.number, "status": found.status}


def create_order(ctx: OperatorContext, quotation) -> dict:
    """sales.create_order: the order of an accepted quotation (a draft, sent or approved one is accepted
    first: the caller has settled its discount)."""
    found = services.find_quotation(ctx.session, _key(quotation))
    if found.status == "draft":  # the process decided on its discount already: it stands approved
        services.set_quotation_status(ctx.session, found, "approved")
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
    return _plain({**figures, "passed": passed, "limit": figures["credit_limit"],
                   "oldest_overdue_days": _oldest_overdue_days(ctx.session, figures["customer"])})


def credit_figures(ctx: OperatorContext, order) -> dict:
    """sales.credit_figures: the order's customer's credit figures as numbers (for the credit decision
    table): credit_limit, exposure (open receivables + open orders, this one included), overdue and
    oldest_overdue_days."""
    found = services.find_order(ctx.session, _key(order))
    figures = queries.credit_exposure(ctx.session, found.customer_id)
    return {**figures, "order": found.number, "order_gross": found.gross_total,
            "oldest_overdue_days": _oldest_overdue_days(ctx.session, figures["customer"])}


def cancel_order(ctx: OperatorContext, order) -> dict:
    """sales.cancel_order: cancel an order nothing of which was delivered; its reservations are released."""
    return {"order": services.cancel_order(ctx.session, _key(order)).number, "status": "cancelled"}


def reserve_order(ctx: OperatorContext, order, warehouse=None) -> dict:
    """sales.reserve_order: {"reserved", "shortages", "status", "backordered": bool}."""
    result = services.reserve_order(ctx.session, _key(order), warehouse)
    return {**_plain({**result, "backordered": bool(result["shortages"])}), **_deliverable(ctx, order)}


def deliver(ctx: OperatorContext, order, lines=None) -> dict:
    """sales.deliver: deliver `lines` (default: all reserved) and post the cost of sales."""
    delivery = fulfilment.deliver(ctx.session, _key(order), lines, by=ctx.actor)
    found = services.find_order(ctx.session, delivery.order_id)
    return {**_plain({"delivery": delivery.number, "cost_total": delivery.cost_total, "status": found.status}),
            **_deliverable(ctx, order)}


def invoice_order(ctx: OperatorContext, order, kind="special") -> dict:
    """sales.invoice_order: the invoice for everything delivered and not invoiced; its number is what the
    payment_received message correlates on."""
    invoice = fulfilment.invoice_order(ctx.session, _key(order), kind=kind, by=ctx.actor)
    return _plain({"invoice": invoice.number, "gross_total": invoice.gross_total, "due_date": invoice.due_date,
                   "status": services.find_order(ctx.session, invoice.order_id).status})


def collection_status(ctx: OperatorContext, invoice, dunning_level=0) -> dict:
    """sales.collection_status: paid or not, outstanding, and when the next dunning letter is due."""
    return _plain(collection.collection_status(ctx.session, _key(invoice), int(dunning_level or 0)))


def send_dunning(ctx: OperatorContext, invoice, level) -> dict:
    """sales.send_dunning: dunning letter `level` to the customer, a copy to the sales rep."""
    return _plain(collection.send_dunning(ctx.session, _key(invoice), int(level)))


def record_announced_payment(ctx: OperatorContext, invoice, message=None) -> dict:
    """sales.record_announced_payment: the payment a `payment_received` message reports (recorded once)."""
    return _plain(collection.record_announced_payment(ctx.session, _key(invoice), message, by=ctx.actor))


def close_order(ctx: OperatorContext, order) -> dict:
    """sales.close_order."""
    return {"order": services.close_order(ctx.session, _key(order)).number, "status": "closed"}


def register(registry) -> None:
    registry.register("sales.quotation_summary", quotation_summary)
    registry.register("sales.limit_discount", limit_discount)
    registry.register("sales.set_quotation_status", set_quotation_status)
    registry.register("sales.credit_figures", credit_figures)
    registry.register("sales.cancel_order", cancel_order)
    registry.register("sales.collection_status", collection_status)
    registry.register("sales.send_dunning", send_dunning)
    registry.register("sales.record_announced_payment", record_announced_payment)
    registry.register("sales.create_order", create_order)
    registry.register("sales.check_credit", check_credit)
    registry.register("sales.reserve_order", reserve_order)
    registry.register("sales.deliver", deliver)
    registry.register("sales.invoice_order", invoice_order)
    registry.register("sales.close_order", close_order)


def _deliverable(ctx: OperatorContext, order) -> dict:
    """What the warehouse can ship now: the reserved, undelivered quantity per line (Decimal: the delivery
    form takes these lines as they are), and whether the order is fully delivered."""
    found = services.find_order(ctx.session, _key(order))
    skus, services_ = services._skus(ctx.session, found), services.unstocked(ctx.session, found)
    lines = [{"sku": skus[x.product_id], "quantity": services.deliverable_quantity(x, services_)}
             for x in found.lines if services.deliverable_quantity(x, services_) > 0]
    return {"deliverable": bool(lines), "deliverable_lines": lines,
            "fully_delivered": all(x.delivered == x.quantity for x in found.lines)}


def _oldest_overdue_days(session, customer_code: str) -> int:
    from sqlalchemy import select

    from erp.crm.models import Customer
    from erp.finance.services import today

    oldest = session.scalar(select(Invoice.due_date).join(Customer, Customer.id == Invoice.customer_id)
                            .where(Customer.code == customer_code, Invoice.status != "paid",
                                   Invoice.due_date < today()).order_by(Invoice.due_date).limit(1))
    return (today() - oldest).days if oldest else 0


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

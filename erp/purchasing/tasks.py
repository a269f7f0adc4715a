"""The service-task operators of the procure-to-pay process (purchasing.*). Results are plain data: money and
quantities that decision tables compare are Decimal, dates ISO text, everything else text."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from engine.operators import OperatorContext
from erp.catalog.models import Product
from erp.identity.queries import display_name
from erp.purchasing import invoicing, matching, orders, payments, receiving, rfqs, services
from erp.purchasing.models import Supplier
from erp.purchasing.receiving import skus_of
from notifications.config import load_mail_config
from notifications.outbox import enqueue

#: the message a receipt sends to each order-to-cash instance waiting for stock, correlated by order number
STOCK_AVAILABLE = "stock_available"


def requisition_summary(ctx: OperatorContext, requisition) -> dict:
    """purchasing.requisition_summary: what the approval decision needs."""
    found = services.find_requisition(ctx.session, requisition)
    return {"requisition": found.number, "requester": found.requester, "department": found.department,
            "estimated_total": found.estimated_total, "lines": len(found.lines), "source": found.source,
            "source_reference": found.source_reference, "status": found.status,
            "needed_by": found.needed_by.isoformat() if found.needed_by else None}


def set_requisition_status(ctx: OperatorContext, requisition, status) -> dict:
    """purchasing.set_requisition_status: approved | rejected | cancelled."""
    found = services.set_requisition_status(ctx.session, requisition, status)
    return {"requisition": found.number, "status": found.status}


def create_rfq(ctx: OperatorContext, requisition) -> dict:
    """purchasing.create_rfq: invite the default suppliers and write each an RFQ mail (in Chinese)."""
    rfq = rfqs.create_rfq(ctx.session, requisition, by=ctx.actor)
    found = services.find_requisition(ctx.session, rfq.requisition_id)
    invited = [ctx.session.get(Supplier, x.supplier_id) for x in rfq.suppliers]
    config = load_mail_config()
    lines = _requisition_lines(ctx.session, found)
    for supplier in invited:
        address = services.primary_email(ctx.session, supplier)
        if address:
            enqueue(ctx.session, "purchase_rfq", to_email=address, locale="zh_CN", config=config,
                    dedupe_key=f"purchase_rfq:{rfq.number}:{supplier.code}",
                    context={"rfq": rfq.number, "rfq_id": rfq.id, "supplier_name": supplier.name_zh,
                             "reply_by": rfq.reply_by, "lines": lines, "company_name": config.company_name,
                             "buyer_name": display_name(ctx.session, supplier.buyer), "copy": False})
    return {"rfq": rfq.number, "suppliers": [s.code for s in invited]}


def award_rfq(ctx: OperatorContext, rfq, supplier) -> dict:
    """purchasing.award_rfq."""
    found = rfqs.award(ctx.session, rfq, supplier)
    return {"rfq": found.number, "supplier": ctx.session.get(Supplier, found.awarded_supplier_id).code}


def create_order(ctx: OperatorContext, requisition, supplier=None, rfq=None) -> dict:
    """purchasing.create_order: the purchase order, and its mail to the supplier's primary contact."""
    order = orders.create_order(ctx.session, requisition, supplier or None, rfq=rfq or None, by=ctx.actor)
    found = ctx.session.get(Supplier, order.supplier_id)
    address = services.primary_email(ctx.session, found)
    if address:
        config = load_mail_config()
        skus = skus_of(ctx.session, order)
        enqueue(ctx.session, "purchase_order", to_email=address, locale="zh_CN", config=config,
                dedupe_key=f"purchase_order:{order.number}:supplier",
                context={"order": order.number, "order_id": order.id, "supplier_name": found.name_zh,
                         "order_date": order.order_date, "expected_date": order.expected_date,
                         "lines": [{"sku": skus[x.product_id], "quantity": str(x.quantity),
                                    "unit_price": x.unit_price, "gross": x.gross} for x in order.lines],
                         "net_total": order.net_total, "vat_total": order.vat_total,
                         "gross_total": order.gross_total, "company_name": config.company_name,
                         "buyer_name": display_name(ctx.session, order.buyer), "copy": False})
    return {"order": order.number, "supplier": found.code, "gross_total": order.gross_total,
            "expected_date": order.expected_date.isoformat()}


def receipt_status(ctx: OperatorContext, order, chase_level=0) -> dict:
    """purchasing.receipt_status: outstanding lines (Decimal quantities) and when to chase next."""
    status = receiving.receipt_status(ctx.session, order, int(chase_level or 0))
    return {**status, "expected_date": status["expected_date"].isoformat()}


def receive(ctx: OperatorContext, order, lines, close_rest=False) -> dict:
    """purchasing.receive: the goods receipt (and with `close_rest`, the rest given up: the supplier will not
    deliver it); each sales order waiting for these goods is sent stock_available (correlated by its number)."""
    lines = [x for x in lines or [] if x.get("quantity") or x.get("rejected")]
    receipt = receiving.receive(ctx.session, order, lines, by=ctx.actor)
    if close_rest:
        receiving.close_short(ctx.session, order, by=ctx.actor)
    released = receiving.backorders_released(ctx.session, receipt)
    for number in released:
        ctx.send_message(STOCK_AVAILABLE, {"order": number}, {"receipt": receipt.number})
    found = services.find_order(ctx.session, receipt.order_id)
    return {"receipt": receipt.number, "status": found.status, "fully_received": found.status == "received",
            "released_orders": released}


def chase_supplier(ctx: OperatorContext, order, level) -> dict:
    """purchasing.chase_supplier: reminder (level 1), and escalation to the buyer (level 2 and up)."""
    return receiving.chase_supplier(ctx.session, order, int(level))


def invoice_lines(ctx: OperatorContext, order) -> list[dict]:
    """purchasing.invoice_lines: what was received and not yet invoiced, at PO prices (to prefill the form)."""
    found = services.find_order(ctx.session, order)
    skus = skus_of(ctx.session, found)
    return [{"sku": skus[x.product_id], "quantity": x.received - x.invoiced, "unit_price": x.unit_price}
            for x in found.lines if x.received > x.invoiced]


def record_supplier_invoice(ctx: OperatorContext, order, supplier_number, lines, issue_date=None,
                            kind="special") -> dict:
    """purchasing.record_supplier_invoice."""
    invoice = invoicing.record_supplier_invoice(ctx.session, order, supplier_number=supplier_number, lines=lines,
                                                issue_date=_date(issue_date), kind=kind or "special", by=ctx.actor)
    return {"bill": invoice.number, "gross_total": invoice.gross_total, "due_date": invoice.due_date.isoformat()}


def three_way_match(ctx: OperatorContext, bill, price_tolerance_percent=Decimal("2"),
                    quantity_tolerance_percent=Decimal("0")) -> dict:
    """purchasing.three_way_match: the match result with "ok"."""
    return matching.three_way_match(ctx.session, bill, price_tolerance_percent=_percent(price_tolerance_percent, "2"),
                                    quantity_tolerance_percent=_percent(quantity_tolerance_percent, "0"))


def resolve_exception(ctx: OperatorContext, bill, decision, note=None) -> dict:
    """purchasing.resolve_exception: accept | dispute | credit_note."""
    found = invoicing.resolve_exception(ctx.session, bill, decision, note=note, by=ctx.actor)
    return {"bill": found.number, "status": found.status}


def record_supplier_credit(ctx: OperatorContext, bill, supplier_number, net, reason=None) -> dict:
    """purchasing.record_supplier_credit."""
    credit = invoicing.record_supplier_credit(ctx.session, bill, supplier_number=supplier_number, net=net,
                                              reason=reason, by=ctx.actor)
    found = services.find_supplier_invoice(ctx.session, credit.supplier_invoice_id)
    return {"credit": credit.number, "gross": credit.gross, "bill": found.number, "status": found.status,
            "outstanding": found.outstanding}


def approve_for_payment(ctx: OperatorContext, bill) -> dict:
    """purchasing.approve_for_payment."""
    found = invoicing.approve_for_payment(ctx.session, bill)
    return {"bill": found.number, "status": found.status, "outstanding": found.outstanding}


def pay_supplier(ctx: OperatorContext, bill, reference=None, paid_on=None) -> dict:
    """purchasing.pay_supplier: pay what is outstanding."""
    payment = payments.pay_supplier(ctx.session, bill, paid_on=_date(paid_on), reference=reference, by=ctx.actor)
    found = services.find_supplier_invoice(ctx.session, payment.supplier_invoice_id)
    return {"payment": payment.number, "amount": payment.amount, "status": found.status,
            "order_status": services.find_order(ctx.session, found.order_id).status}


def requisition_for_backorder(ctx: OperatorContext, order) -> dict:
    """purchasing.requisition_for_backorder: {"requisition": number or None}."""
    from erp.purchasing.process import system_requester

    found = services.requisition_for_backorder(ctx.session, order, requester=system_requester(ctx.session))
    return {"requisition": found.number if found else None}


def register(registry) -> None:
    for name, fn in (("requisition_summary", requisition_summary), ("set_requisition_status", set_requisition_status),
                     ("create_rfq", create_rfq), ("award_rfq", award_rfq), ("create_order", create_order),
                     ("receipt_status", receipt_status), ("receive", receive), ("chase_supplier", chase_supplier),
                     ("invoice_lines", invoice_lines), ("record_supplier_invoice", record_supplier_invoice),
                     ("three_way_match", three_way_match), ("resolve_exception", resolve_exception),
                     ("record_supplier_credit", record_supplier_credit),
                     ("approve_for_payment", approve_for_payment), ("pay_supplier", pay_supplier),
                     ("requisition_for_backorder", requisition_for_backorder)):
        registry.register(f"purchasing.{name}", fn)


def _requisition_lines(session, requisition) -> list[dict]:
    skus = dict(session.execute(select(Product.id, Product.sku).where(
        Product.id.in_([x.product_id for x in requisition.lines]))).all())
    names = dict(session.execute(select(Product.id, Product.name_zh).where(Product.id.in_(list(skus)))).all())
    return [{"sku": skus[x.product_id], "name": names[x.product_id], "quantity": str(x.quantity)}
            for x in requisition.lines]


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _percent(value, default: str) -> Decimal:
    if value in (None, ""):
        return Decimal(default)
    if isinstance(value, float):
        value = repr(value)  # a tolerance typed in a form: 2.0 means 2, exactly
    return Decimal(str(value))



"""Goods receipts (收货入库) against purchase orders, what they release for waiting sales orders, and chasing
a supplier whose goods are late (催货). Take a session, never commit.

  receipt   Dr 1405 库存商品 / Cr 2241 其他应付款 (暂估应付, the supplier)   accepted quantity × PO price
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from core.errors import InvalidInput
from erp.catalog.models import Product
from erp.catalog.money import to_cents
from erp.finance.services import post_entry
from erp.identity.queries import display_name, members_of
from erp.inventory.models import Warehouse
from erp.inventory.services import receive as receive_stock
from erp.purchasing import services
from erp.purchasing.models import GoodsReceipt, GoodsReceiptLine, PurchaseOrder, Supplier
from erp.purchasing.services import find_order, primary_email
from erp.sales import pricing
from erp.sales.models import SalesOrder, SalesOrderLine
from notifications.config import load_mail_config
from notifications.outbox import enqueue

SYSTEM = "system"
RECEIVABLE = ("open", "partially_received")
WAITING_SALES = ("open", "backordered", "partially_delivered")
#: days after the expected date at which chase level 1, 2, 3 is due; then every CHASE_EVERY_DAYS
CHASE_DAYS = (1, 3, 7)
CHASE_EVERY_DAYS = 7
CHASE_AT = time(9, 0)
PURCHASING_GROUP = "purchasing"


def receive(session, order, lines, *, received_on: date | None = None, by: str | None = None) -> GoodsReceipt:
    """Receive `lines` ([{sku, quantity, rejected?}]): the accepted quantity goes into the line's warehouse
    at the PO price and onto the books; rejected goods stay with the supplier and are still owed. More than
    ordered − received is refused."""
    order = find_order(session, order, lock=True)
    if order.status not in RECEIVABLE:
        raise InvalidInput(f"order {order.number} is {order.status}", {"order": ["nothing can be received"]})
    skus = skus_of(session, order)
    wanted = _wanted(order, skus, lines)
    when = received_on or services._today()
    receipt = GoodsReceipt(number=pricing.next_number(session, GoodsReceipt, "GR", when), order_id=order.id,
                           received_on=when, created_at=clock.now(), created_by=by)
    codes = dict(session.execute(select(Warehouse.id, Warehouse.code)).all())
    for line, accepted, rejected in wanted:
        value = to_cents(accepted * line.unit_price)
        receipt.lines.append(GoodsReceiptLine(order_line_id=line.id, quantity=accepted, rejected=rejected,
                                              unit_cost=line.unit_price, value=value))
        if accepted > 0:
            receive_stock(session, skus[line.product_id], codes[line.warehouse_id], accepted,
                          unit_cost=line.unit_price, reference=("purchase_receipt", receipt.number), by=by,
                          note=f"采购收货 {order.number}")
            line.received += accepted
    receipt.value = sum((x.value for x in receipt.lines), Decimal("0.00"))
    session.add(receipt)
    session.flush()
    if receipt.value:
        supplier = session.get(Supplier, order.supplier_id)
        entry = post_entry(session, date=when, user=by or SYSTEM, source=("purchase_receipt", receipt.number),
                           description=f"采购入库 {receipt.number} 订单 {order.number} {supplier.name_zh}", lines=[
                               {"account": "1405", "debit": receipt.value},
                               {"account": "2241", "credit": receipt.value, "partner_type": "supplier",
                                "partner_code": supplier.code, "description": "暂估应付 goods received not invoiced"}])
        receipt.journal_entry_id = entry.id
    refresh_status(order)
    session.flush()
    return receipt


def close_short(session, order, *, by: str | None = None) -> PurchaseOrder:
    """The supplier will not deliver what is still outstanding (短交关闭): each line's rest is given up, so the
    order counts as received with what came; an invoice for more than that is a quantity mismatch."""
    order = find_order(session, order, lock=True)
    if order.status not in RECEIVABLE:
        raise InvalidInput(f"order {order.number} is {order.status}", {"order": ["nothing is outstanding"]})
    for line in order.lines:
        line.short_closed = line.quantity - line.received
    refresh_status(order)
    session.flush()
    return order


def refresh_status(order: PurchaseOrder) -> None:
    if order.status in ("closed", "cancelled"):
        return
    if all(x.received + (x.short_closed or 0) >= x.quantity for x in order.lines):
        order.status = "received"
    elif any(x.received > 0 for x in order.lines):
        order.status = "partially_received"
    else:
        order.status = "open"


def backorders_released(session, receipt) -> list[str]:
    """Numbers of the sales orders (oldest first) still waiting for a product this receipt brought in."""
    receipt = services.find(session, GoodsReceipt, receipt, "goods receipt")
    from erp.purchasing.models import PurchaseOrderLine

    products = set(session.scalars(select(PurchaseOrderLine.product_id).join(
        GoodsReceiptLine, GoodsReceiptLine.order_line_id == PurchaseOrderLine.id).where(
        GoodsReceiptLine.receipt_id == receipt.id, GoodsReceiptLine.quantity > 0)))
    if not products:
        return []
    stocked = set(session.scalars(select(Product.id).where(Product.id.in_(products), Product.stocked.is_(True))))
    rows = session.execute(
        select(SalesOrder.number).join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .where(SalesOrder.status.in_(WAITING_SALES), SalesOrderLine.product_id.in_(stocked),
               SalesOrderLine.quantity - SalesOrderLine.delivered - SalesOrderLine.reserved > 0)
        .order_by(SalesOrder.order_date, SalesOrder.id)).scalars().all()
    return list(dict.fromkeys(rows))


def next_chase_at(expected_date: date, level: int) -> datetime:
    """09:00 Beijing time on the 1st, 3rd and 7th day after the expected date, then every 7 days."""
    if level < len(CHASE_DAYS):
        days = CHASE_DAYS[level]
    else:
        days = CHASE_DAYS[-1] + CHASE_EVERY_DAYS * (level - len(CHASE_DAYS) + 1)
    return datetime.combine(expected_date + timedelta(days=days), CHASE_AT, tzinfo=BEIJING)


def receipt_status(session, order, chase_level: int = 0) -> dict:
    """What is still outstanding on the order and when to chase the supplier next."""
    order = find_order(session, order)
    skus = skus_of(session, order)
    outstanding = [{"sku": skus[x.product_id], "quantity": x.quantity - x.received - (x.short_closed or 0)}
                   for x in order.lines if x.quantity > x.received + (x.short_closed or 0)]
    return {"order": order.number, "status": order.status,
            "fully_received": not outstanding and order.status != "cancelled",
            "outstanding_lines": outstanding, "expected_date": order.expected_date,
            "next_chase_at": next_chase_at(order.expected_date, int(chase_level or 0)).isoformat()}


def chase_supplier(session, order, level: int, *, config=None) -> dict:
    """Level 1: a reminder to the supplier's primary contact (in Chinese) and a copy to the buyer; level 2
    and up: the same and an escalation to the buyer (or the purchasing group when there is none). Each mail
    is written once per order, level and recipient."""
    order = find_order(session, order)
    level = max(int(level or 1), 1)
    supplier = session.get(Supplier, order.supplier_id)
    config = config or load_mail_config()
    as_of = services._today()
    status = receipt_status(session, order, level)
    context = {"order": order.number, "order_id": order.id, "supplier_name": supplier.name_zh, "level": level,
               "order_date": order.order_date, "expected_date": order.expected_date,
               "days_late": max((as_of - order.expected_date).days, 0),
               "lines": [{"sku": x["sku"], "quantity": str(x["quantity"])} for x in status["outstanding_lines"]],
               "company_name": config.company_name, "buyer_name": display_name(session, order.buyer)}
    sent_to = []
    address = primary_email(session, supplier)
    if address and enqueue(session, "purchase_delivery_reminder", to_email=address, locale="zh_CN",
                           context={**context, "copy": False}, config=config,
                           dedupe_key=f"purchase_delivery_reminder:{order.number}:{level}:supplier"):
        sent_to.append(address)
    if order.buyer and enqueue(session, "purchase_delivery_reminder", to_user=order.buyer,
                               context={**context, "copy": True}, config=config,
                               dedupe_key=f"purchase_delivery_reminder:{order.number}:{level}:{order.buyer}"):
        sent_to.append(order.buyer)
    if level >= 2:
        for user in [order.buyer] if order.buyer else members_of(session, [PURCHASING_GROUP], active_only=True):
            if enqueue(session, "purchase_delivery_escalation", to_user=user,
                       context={**context, "supplier_mailed": bool(address)}, config=config,
                       dedupe_key=f"purchase_delivery_escalation:{order.number}:{level}:{user}"):
                sent_to.append(user)
    return {"order": order.number, "level": level, "sent_to": sent_to, "supplier_mailed": bool(address),
            "days_late": context["days_late"]}


def skus_of(session, order: PurchaseOrder) -> dict[int, str]:
    ids = [x.product_id for x in order.lines]
    return dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(ids))).all())


def _wanted(order, skus, lines) -> list[tuple[object, Decimal, Decimal]]:
    by_sku = {skus[x.product_id]: x for x in order.lines}
    errors: dict[str, list[str]] = {}
    wanted, seen = [], set()
    if not isinstance(lines, (list, tuple)) or not lines:
        errors["lines"] = ["give at least one line of {sku, quantity}"]
    for i, item in enumerate(lines or []):
        line = by_sku.get(item.get("sku"))
        accepted = pricing.number(item.get("quantity", 0), 3, f"lines[{i}].quantity", errors, positive=False)
        rejected = pricing.number(item.get("rejected") or 0, 3, f"lines[{i}].rejected", errors, positive=False)
        if line is None:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{item.get('sku')} is not on {order.number}")
            continue
        if line.id in seen:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{item.get('sku')} is on another line")
        seen.add(line.id)
        if accepted is None or rejected is None:
            continue
        if accepted < 0 or rejected < 0:
            errors.setdefault(f"lines[{i}].quantity", []).append("must not be negative")
        elif accepted + rejected == 0:
            errors.setdefault(f"lines[{i}].quantity", []).append("must be more than zero")
        elif accepted > line.quantity - line.received:
            errors.setdefault(f"lines[{i}].quantity", []).append(
                f"only {line.quantity - line.received} outstanding")
        else:
            wanted.append((line, accepted, rejected))
    pricing.refuse_if(errors, "nothing was received")
    return wanted

"""Deliveries (发货单), VAT invoices (增值税发票) and credit notes (红字发票), each with its journal entry.
Take a session, never commit.

  delivery     Dr 5401 主营业务成本 / Cr 1405 库存商品                 at moving average cost
  invoice      Dr 1122 应收账款 (customer, due date) / Cr 5001 主营业务收入 / Cr 222102 销项税额
  credit note  Dr 5001 / Dr 222102 / Cr 1122 (customer); goods taken back: Dr 1405 / Cr 5401 at delivery cost
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.catalog.models import Product
from erp.catalog.money import to_cents
from erp.crm.models import Customer
from erp.finance.services import post_entry, today
from erp.inventory import reservations
from erp.inventory.models import StockMove
from erp.inventory.services import receive
from erp.sales import pricing
from erp.sales.models import (
    CreditNote,
    CreditNoteLine,
    Delivery,
    DeliveryLine,
    Invoice,
    InvoiceLine,
    SalesOrder,
    SalesOrderLine,
)
from erp.sales.services import _skus, deliverable_quantity, find_order, reference, refresh_status, unstocked

DELIVERABLE = ("open", "backordered", "partially_delivered")
SYSTEM = "system"


def deliver(session, order, lines=None, *, delivery_date: date | None = None, by: str | None = None) -> Delivery:
    """Deliver `lines` ([{sku, quantity}]; default: everything reserved, and services in full) from the
    order's reservations, partly if need be, and post the cost of sales. More than is reserved for a line is
    refused; a service needs no reservation and has no cost of sales."""
    order = find_order(session, order, lock=True)
    if order.status not in DELIVERABLE:
        raise InvalidInput(f"order {order.number} is {order.status}", {"order": ["nothing can be delivered"]})
    skus = _skus(session, order)
    services_ = unstocked(session, order)
    wanted = _quantities(order, skus, lines, lambda x: deliverable_quantity(x, services_), "reserved", "delivered")
    last_move = session.scalar(select(func.max(StockMove.id))) or 0
    goods = [{"sku": skus[x.product_id], "quantity": q} for x, q in wanted if x.product_id not in services_]
    if goods:
        reservations.consume(session, reference(order), goods, by=by)
    costs = _issued_costs(session, order, last_move)
    when = delivery_date or today()
    delivery = Delivery(number=pricing.next_number(session, Delivery, "DN", when), order_id=order.id,
                        delivery_date=when, created_at=clock.now(), created_by=by)
    for line, qty in wanted:
        cost = to_cents(costs.get(line.product_id, Decimal(0)))
        delivery.lines.append(DeliveryLine(order_line_id=line.id, quantity=qty, cost=cost))
        if line.product_id not in services_:
            line.reserved -= qty
        line.delivered += qty
        line.delivered_cost += cost
    delivery.cost_total = sum((x.cost for x in delivery.lines), Decimal("0.00"))
    session.add(delivery)
    session.flush()
    if delivery.cost_total:
        entry = post_entry(session, date=when, user=by or SYSTEM, source=("sales_delivery", delivery.number),
                           description=f"销售出库 {delivery.number} 订单 {order.number} 结转成本", lines=[
                               {"account": "5401", "debit": delivery.cost_total},
                               {"account": "1405", "credit": delivery.cost_total}])
        delivery.journal_entry_id = entry.id
    refresh_status(order)
    session.flush()
    return delivery


def invoice_order(session, order, *, kind: str = "special", issue_date: date | None = None,
                  by: str | None = None) -> Invoice:
    """Invoice every delivered, not yet invoiced quantity of the order; due after the customer's terms."""
    order = find_order(session, order, lock=True)
    if kind not in ("special", "ordinary"):
        raise InvalidInput("the invoice kind is special or ordinary", {"kind": ["special or ordinary"]})
    due_lines = [x for x in order.lines if x.delivered > x.invoiced]
    if order.status in ("cancelled", "closed") or not due_lines:
        raise InvalidInput(f"order {order.number} has nothing delivered and not invoiced",
                           {"order": ["nothing to invoice"]})
    customer = session.get(Customer, order.customer_id)
    when = issue_date or today()
    invoice = Invoice(number=pricing.next_number(session, Invoice, "INV", when), order_id=order.id,
                      customer_id=customer.id, kind=kind, issue_date=when,
                      due_date=when + timedelta(days=customer.payment_terms_days), paid=Decimal("0.00"),
                      credited=Decimal("0.00"), status="open", created_at=clock.now(), created_by=by)
    for no, line in enumerate(due_lines, start=1):
        qty = line.delivered - line.invoiced
        amounts = _amounts_of(line, qty, order)
        invoice.lines.append(InvoiceLine(line_no=no, order_line_id=line.id, product_id=line.product_id, quantity=qty,
                                         unit_price=line.unit_price, discount_percent=line.discount_percent,
                                         vat_rate=line.vat_rate, net=amounts.net, vat=amounts.vat,
                                         gross=amounts.gross, credited_quantity=Decimal(0)))
        line.invoiced += qty
    amounts = pricing.totals(invoice.lines)
    invoice.net_total, invoice.vat_total, invoice.gross_total = amounts.net, amounts.vat, amounts.gross
    session.add(invoice)
    session.flush()
    partner = {"partner_type": "customer", "partner_code": customer.code}
    entry = _post(session, when, by, ("sales_invoice", invoice.number),
                  f"销售发票 {invoice.number} {customer.name_zh} 订单 {order.number}",
                  [{"account": "1122", "debit": amounts.gross, "due_date": invoice.due_date, **partner},
                   {"account": "5001", "credit": amounts.net}, {"account": "222102", "credit": amounts.vat}])
    invoice.journal_entry_id = entry.id if entry else None
    refresh_status(order)
    session.flush()
    return invoice


def credit_note(session, invoice, lines=None, *, return_to_stock: bool = False, warehouse: str | None = None,
                issue_date: date | None = None, reason: str | None = None, by: str | None = None) -> CreditNote:
    """A red-letter invoice for `lines` ([{sku, quantity}]; default: all not yet credited) of `invoice`;
    with `return_to_stock` the goods go back into `warehouse` at the cost they were delivered at."""
    invoice = find_invoice(session, invoice, lock=True)
    order = session.get(SalesOrder, invoice.order_id)
    skus = dict(session.execute(select(Product.id, Product.sku)
                                .where(Product.id.in_([x.product_id for x in invoice.lines]))).all())
    wanted = _quantities(invoice, skus, lines, lambda x: x.quantity - x.credited_quantity, "invoiced and not credited",
                         "credited")
    if return_to_stock and not warehouse:
        raise InvalidInput("goods taken back need a warehouse", {"warehouse": ["required to return goods"]})
    when = issue_date or today()
    if when < invoice.issue_date:
        raise InvalidInput("a credit note cannot precede its invoice",
                           {"issue_date": [f"on or after {invoice.issue_date}"]})
    note = CreditNote(number=pricing.next_number(session, CreditNote, "CN", when), invoice_id=invoice.id,
                      issue_date=when, reason=reason, returned_to_stock=return_to_stock, created_at=clock.now(),
                      created_by=by)
    return_cost = Decimal("0.00")
    for line, qty in wanted:
        amounts = _credit_amounts(session, line, qty, order)
        note.lines.append(CreditNoteLine(invoice_line_id=line.id, quantity=qty, net=amounts.net, vat=amounts.vat,
                                         gross=amounts.gross))
        line.credited_quantity += qty
        if return_to_stock:
            return_cost += _take_back(session, line, qty, skus[line.product_id], warehouse, note.number, by)
    amounts = pricing.totals(note.lines)
    note.net_total, note.vat_total, note.gross_total, note.return_cost = (amounts.net, amounts.vat, amounts.gross,
                                                                         return_cost)
    session.add(note)
    session.flush()
    code = session.scalar(select(Customer.code).where(Customer.id == invoice.customer_id))
    entry = _post(session, when, by, ("sales_credit_note", note.number),
                  f"红字发票 {note.number} 冲减发票 {invoice.number}",
                  [{"account": "5001", "debit": amounts.net}, {"account": "222102", "debit": amounts.vat},
                   {"account": "1122", "credit": amounts.gross, "partner_type": "customer", "partner_code": code},
                   {"account": "1405", "debit": return_cost}, {"account": "5401", "credit": return_cost}])
    note.journal_entry_id = entry.id if entry else None
    invoice.credited += amounts.gross
    set_invoice_status(invoice)
    session.flush()
    return note


def set_invoice_status(invoice: Invoice) -> None:
    """paid when nothing is outstanding (payments and credit notes together), partially paid after a payment."""
    if invoice.outstanding <= 0:
        invoice.status = "paid"
    else:
        invoice.status = "partially_paid" if invoice.paid > 0 else "open"


def find_invoice(session, invoice, *, lock: bool = False) -> Invoice:
    if isinstance(invoice, Invoice):
        return invoice
    query = select(Invoice).where(Invoice.id == invoice if isinstance(invoice, int) else
                                  Invoice.number == str(invoice).strip())
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no invoice {invoice}")
    return found


def _post(session, when, by, source, description, lines):
    """Post the lines that carry an amount (a 0 % VAT line or a zero cost has none); None if none does."""
    kept = [x for x in lines if x.get("debit") or x.get("credit")]
    if not kept:
        return None
    return post_entry(session, date=when, user=by or SYSTEM, source=source, description=description, lines=kept)


def _quantities(document, skus, lines, limit, limit_label: str, verb: str) -> list[tuple[object, Decimal]]:
    """[{sku, quantity}] (None: each line's limit) → [(document line, quantity)], refusing more than the limit."""
    by_sku = {skus[x.product_id]: x for x in document.lines}
    errors: dict[str, list[str]] = {}
    if lines is None:
        lines = [{"sku": skus[x.product_id], "quantity": limit(x)} for x in document.lines if limit(x) > 0]
    wanted = []
    for i, item in enumerate(lines or []):
        line = by_sku.get(item.get("sku"))
        qty = pricing.number(item.get("quantity"), 3, f"lines[{i}].quantity", errors)
        if line is None:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{item.get('sku')} is not on {document.number}")
        elif qty is not None and qty > limit(line):
            errors.setdefault(f"lines[{i}].quantity", []).append(f"only {limit(line)} {limit_label}")
        elif qty is not None:
            wanted.append((line, qty))
    if not wanted and not errors:
        errors["lines"] = [f"nothing to be {verb}"]
    pricing.refuse_if(errors, f"nothing was {verb}")
    return wanted


def _issued_costs(session, order, after_move: int) -> dict[int, Decimal]:
    """The cost of the goods just issued for the order, per product (quantity × the move's average cost)."""
    ref_type, ref_id = reference(order)
    costs: dict[int, Decimal] = {}
    for move in session.scalars(select(StockMove).where(StockMove.id > after_move, StockMove.kind == "issue",
                                                        StockMove.reference_type == ref_type,
                                                        StockMove.reference_id == ref_id)):
        costs[move.product_id] = costs.get(move.product_id, Decimal(0)) + move.quantity * (move.unit_cost or 0)
    return costs


def _amounts_of(line: SalesOrderLine, qty: Decimal, order: SalesOrder) -> pricing.Amounts:
    if qty == line.quantity:
        return pricing.Amounts(line.net, line.vat, line.gross)
    return pricing.line_amounts(qty, line.unit_price, line.vat_rate, line.discount_percent, order.discount_percent)


def _credit_amounts(session, line: InvoiceLine, qty: Decimal, order: SalesOrder) -> pricing.Amounts:
    """The rest of the line's amounts when the rest of its quantity is credited (so the credits add up to the
    invoice to the cent), else the amounts of `qty` under the line rule."""
    if line.credited_quantity + qty < line.quantity:
        return pricing.line_amounts(qty, line.unit_price, line.vat_rate, line.discount_percent,
                                    order.discount_percent)
    net, vat = session.execute(select(func.coalesce(func.sum(CreditNoteLine.net), 0),
                                      func.coalesce(func.sum(CreditNoteLine.vat), 0))
                               .where(CreditNoteLine.invoice_line_id == line.id)).one()
    net, vat = line.net - Decimal(net), line.vat - Decimal(vat)
    return pricing.Amounts(to_cents(net), to_cents(vat), to_cents(net) + to_cents(vat))


def _take_back(session, line: InvoiceLine, qty: Decimal, sku: str, warehouse: str, number: str, by) -> Decimal:
    """Receive returned goods at the order line's average delivery cost; returns their cost in cents."""
    order_line = session.get(SalesOrderLine, line.order_line_id)
    unit_cost = (order_line.delivered_cost / order_line.delivered).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    receive(session, sku, warehouse, qty, unit_cost=unit_cost, reference=("sales_credit_note", number), by=by,
            note="退货入库 goods returned")
    return to_cents(qty * unit_cost)

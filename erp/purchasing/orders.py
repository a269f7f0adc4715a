"""Purchase orders (采购订单) from approved requisitions, priced from the awarded quote, the supplier's last
price or the requisition's estimate. Take a session, never commit."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput
from erp.purchasing import services
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from erp.purchasing.rfqs import find_rfq, quote_of
from erp.purchasing.services import find_order, find_requisition, find_supplier, is_qualified, last_po_price
from erp.sales import pricing

#: the delivery date a purchase order expects when none is given
DEFAULT_LEAD_DAYS = 7


def create_order(session, requisition, supplier=None, *, rfq=None, expected_date: date | None = None,
                 buyer: str | None = None, order_date: date | None = None, by: str | None = None) -> PurchaseOrder:
    """The order for an approved requisition; the requisition becomes "ordered"."""
    requisition = find_requisition(session, requisition, lock=True)
    if requisition.status != "approved":
        raise InvalidInput(f"requisition {requisition.number} is {requisition.status}, not approved",
                           {"requisition": ["only an approved requisition is ordered"]})
    rfq = find_rfq(session, rfq) if rfq is not None else None
    if rfq is not None and rfq.requisition_id != requisition.id:
        raise InvalidInput(f"RFQ {rfq.number} is not for {requisition.number}", {"rfq": ["another requisition"]})
    chosen = _supplier(session, requisition, supplier, rfq)
    if not is_qualified(chosen):
        raise InvalidInput(f"supplier {chosen.code} is {chosen.qualification}, not qualified",
                           {"supplier": ["not qualified"]})
    prices = _prices(session, requisition, chosen, rfq)
    order_date = order_date or services._today()
    order = PurchaseOrder(number=pricing.next_number(session, PurchaseOrder, "PO", order_date),
                          supplier_id=chosen.id, requisition_id=requisition.id, rfq_id=rfq.id if rfq else None,
                          order_date=order_date,
                          expected_date=expected_date or order_date + timedelta(days=DEFAULT_LEAD_DAYS),
                          status="open", buyer=buyer or chosen.buyer or None, created_at=clock.now(), created_by=by)
    for line in requisition.lines:
        price = prices[line.id]
        amounts = pricing.line_amounts(line.quantity, price, line.vat_rate)
        order.lines.append(PurchaseOrderLine(line_no=line.line_no, product_id=line.product_id,
                                             warehouse_id=line.warehouse_id, quantity=line.quantity, unit_price=price,
                                             vat_rate=line.vat_rate, net=amounts.net, vat=amounts.vat,
                                             gross=amounts.gross, received=0, invoiced=0))
    totals = pricing.totals(order.lines)
    order.net_total, order.vat_total, order.gross_total = totals.net, totals.vat, totals.gross
    requisition.status = "ordered"
    session.add(order)
    session.flush()
    return order


def cancel_order(session, order) -> PurchaseOrder:
    """Cancel an order nothing of which was received or invoiced."""
    order = find_order(session, order, lock=True)
    if order.status != "open" or any(x.received or x.invoiced for x in order.lines):
        raise InvalidInput(f"order {order.number} is {order.status}", {"order": ["goods or invoices recorded"]})
    order.status = "cancelled"
    session.flush()
    return order


def _supplier(session, requisition, supplier, rfq) -> Supplier:
    if supplier is not None:
        return find_supplier(session, supplier)
    if rfq is not None:
        if rfq.awarded_supplier_id is None:
            raise InvalidInput(f"RFQ {rfq.number} is not awarded", {"rfq": ["award it first"]})
        return session.get(Supplier, rfq.awarded_supplier_id)
    first = requisition.lines[0].product_id
    last = session.scalar(select(PurchaseOrder.supplier_id)
                          .join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
                          .where(PurchaseOrderLine.product_id == first, PurchaseOrder.status != "cancelled")
                          .order_by(PurchaseOrder.order_date.desc(), PurchaseOrder.id.desc()).limit(1))
    if last is not None and is_qualified(session.get(Supplier, last)):
        return session.get(Supplier, last)
    from erp.purchasing.queries import best_rated_suppliers

    best = best_rated_suppliers(session)
    if not best:
        raise InvalidInput("no qualified supplier exists", {"supplier": ["choose a qualified supplier"]})
    return best[0]


def _prices(session, requisition, supplier, rfq) -> dict[int, object]:
    quote = None
    if rfq is not None:
        if rfq.awarded_supplier_id is not None and rfq.awarded_supplier_id != supplier.id:
            raise InvalidInput(f"RFQ {rfq.number} was awarded to another supplier", {"supplier": ["not awarded"]})
        quote = quote_of(session, rfq, supplier)
        if quote is None:
            raise InvalidInput(f"{supplier.code} did not quote on {rfq.number}", {"rfq": ["no quote"]})
    quoted = {x.requisition_line_id: x.unit_price for x in quote.lines} if quote else {}
    prices = {}
    for line in requisition.lines:
        price = quoted.get(line.id)
        if price is None:
            price = last_po_price(session, line.product_id, supplier.id)
        prices[line.id] = price if price is not None else line.estimated_unit_price
    return prices

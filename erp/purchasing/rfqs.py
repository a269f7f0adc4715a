"""Requests for quotation (询价单): invite suppliers, record their quotes, compare them side by side and award
one. Take a session, never commit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.catalog.models import Product
from erp.purchasing import services
from erp.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    RequisitionLine,
    Rfq,
    RfqSupplier,
    Supplier,
    SupplierQuote,
    SupplierQuoteLine,
)
from erp.purchasing.services import find_requisition, find_supplier, is_qualified
from erp.sales import pricing

#: at least this many suppliers are asked, so there is something to compare
MIN_SUPPLIERS = 2


def create_rfq(session, requisition, suppliers=None, *, reply_by: date | None = None,
               by: str | None = None) -> Rfq:
    """Invite `suppliers` (codes) or, by default, every qualified supplier that supplied one of the products
    before or shares a product's category, topped up with the best-rated qualified ones to at least two."""
    requisition = find_requisition(session, requisition)
    if requisition.status not in ("submitted", "approved"):
        raise InvalidInput(f"requisition {requisition.number} is {requisition.status}",
                           {"requisition": ["only a submitted or approved requisition goes out for quotes"]})
    invited = _chosen(session, suppliers) if suppliers is not None else _candidates(session, requisition)
    rfq = Rfq(number=pricing.next_number(session, Rfq, "RFQ", services._today()), requisition_id=requisition.id,
              status="open", reply_by=reply_by, created_at=clock.now(), created_by=by)
    rfq.suppliers = [RfqSupplier(supplier_id=s.id) for s in invited]
    session.add(rfq)
    session.flush()
    return rfq


def record_quote(session, rfq, supplier, lines, *, lead_time_days: int | None = None,
                 valid_until: date | None = None, note: str | None = None) -> SupplierQuote:
    """A supplier's prices ([{sku, unit_price}], net) for the RFQ's lines; replaces its earlier quote."""
    rfq, supplier = find_rfq(session, rfq), find_supplier(session, supplier)
    if rfq.status != "open":
        raise InvalidInput(f"RFQ {rfq.number} is {rfq.status}", {"rfq": ["no longer takes quotes"]})
    if supplier.id not in {x.supplier_id for x in rfq.suppliers}:
        raise InvalidInput(f"{supplier.code} was not invited to {rfq.number}", {"supplier": ["not invited"]})
    by_sku = _requisition_lines(session, rfq)
    errors: dict[str, list[str]] = {}
    priced = []
    for i, line in enumerate(lines or []):
        target = by_sku.get(line.get("sku"))
        price = pricing.number(line.get("unit_price"), 2, f"lines[{i}].unit_price", errors, positive=False)
        if target is None:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{line.get('sku')} is not on {rfq.number}")
        elif price is not None and price < 0:
            errors.setdefault(f"lines[{i}].unit_price", []).append("must not be negative")
        elif price is not None:
            priced.append((target, price))
    if not priced and not errors:
        errors["lines"] = ["give a price for at least one line"]
    if lead_time_days is not None and (not isinstance(lead_time_days, int) or lead_time_days < 0):
        errors["lead_time_days"] = ["a whole number of days"]
    pricing.refuse_if(errors, "the quote was not recorded")
    earlier = session.scalar(select(SupplierQuote).where(SupplierQuote.rfq_id == rfq.id,
                                                         SupplierQuote.supplier_id == supplier.id))
    if earlier is not None:
        session.delete(earlier)
        session.flush()
    quote = SupplierQuote(rfq_id=rfq.id, supplier_id=supplier.id, received_on=services._today(),
                          lead_time_days=lead_time_days, valid_until=valid_until, note=note)
    for target, price in priced:
        amounts = pricing.line_amounts(target.quantity, price, target.vat_rate)
        quote.lines.append(SupplierQuoteLine(requisition_line_id=target.id, unit_price=price, net=amounts.net,
                                             vat=amounts.vat, gross=amounts.gross))
    totals = pricing.totals(quote.lines)
    quote.net_total, quote.vat_total, quote.gross_total = totals.net, totals.vat, totals.gross
    session.add(quote)
    session.flush()
    return quote


def comparison(session, rfq) -> dict:
    """The quotes side by side: per line each supplier's unit price, per supplier its totals, lead time and
    rating; `cheapest` marks the lowest net total among the suppliers that quoted every line."""
    from erp.purchasing.queries import supplier_rating

    rfq = find_rfq(session, rfq)
    requisition_lines = session.scalars(select(RequisitionLine).where(
        RequisitionLine.requisition_id == rfq.requisition_id).order_by(RequisitionLine.line_no)).all()
    products = {p.id: p for p in session.scalars(select(Product).where(
        Product.id.in_([x.product_id for x in requisition_lines])))}
    quotes = {q.supplier_id: q for q in session.scalars(select(SupplierQuote).where(SupplierQuote.rfq_id == rfq.id))}
    invited = [session.get(Supplier, x.supplier_id) for x in rfq.suppliers]
    lines = []
    for line in requisition_lines:
        prices = {s.code: next((q.unit_price for q in quotes[s.id].lines if q.requisition_line_id == line.id), None)
                  for s in invited if s.id in quotes}
        lines.append({"sku": products[line.product_id].sku, "name": products[line.product_id].name_zh,
                      "quantity": line.quantity, "quotes": prices})
    complete = {sid for sid, q in quotes.items() if len(q.lines) == len(requisition_lines)}
    best = min((quotes[sid].net_total for sid in complete), default=None)
    rows = []
    for supplier in invited:
        quote = quotes.get(supplier.id)
        rating = supplier_rating(session, supplier)
        rows.append({"code": supplier.code, "name": supplier.name_zh,
                     "total_net": quote.net_total if quote else None,
                     "total_gross": quote.gross_total if quote else None,
                     "lead_time_days": quote.lead_time_days if quote else None, "rating": rating["overall"],
                     "quoted": quote is not None,
                     "cheapest": quote is not None and supplier.id in complete and quote.net_total == best})
    return {"rfq": rfq.number, "status": rfq.status, "lines": lines, "suppliers": rows,
            "awarded": session.get(Supplier, rfq.awarded_supplier_id).code if rfq.awarded_supplier_id else None}


def award(session, rfq, supplier) -> Rfq:
    """Award the RFQ to a supplier that quoted every line."""
    rfq, supplier = find_rfq(session, rfq), find_supplier(session, supplier)
    if rfq.status != "open":
        raise InvalidInput(f"RFQ {rfq.number} is {rfq.status}", {"rfq": ["already decided"]})
    quote = quote_of(session, rfq, supplier)
    if quote is None or len(quote.lines) < len(_requisition_lines(session, rfq)):
        raise InvalidInput(f"{supplier.code} has not quoted every line of {rfq.number}",
                           {"supplier": ["no complete quote"]})
    if not is_qualified(supplier):
        raise InvalidInput(f"{supplier.code} is not a qualified supplier", {"supplier": ["not qualified"]})
    rfq.status, rfq.awarded_supplier_id = "awarded", supplier.id
    session.flush()
    return rfq


def cancel_rfq(session, rfq) -> Rfq:
    rfq = find_rfq(session, rfq)
    if rfq.status != "open":
        raise InvalidInput(f"RFQ {rfq.number} is {rfq.status}", {"rfq": ["already decided"]})
    rfq.status = "cancelled"
    session.flush()
    return rfq


def quote_of(session, rfq: Rfq, supplier: Supplier) -> SupplierQuote | None:
    return session.scalar(select(SupplierQuote).where(SupplierQuote.rfq_id == rfq.id,
                                                      SupplierQuote.supplier_id == supplier.id))


def find_rfq(session, rfq) -> Rfq:
    return services.find(session, Rfq, rfq, "RFQ")


def _requisition_lines(session, rfq: Rfq) -> dict[str, RequisitionLine]:
    rows = session.execute(select(Product.sku, RequisitionLine).join(Product, Product.id == RequisitionLine.product_id)
                           .where(RequisitionLine.requisition_id == rfq.requisition_id)).all()
    return {sku: line for sku, line in rows}


def _chosen(session, codes) -> list[Supplier]:
    errors: dict[str, list[str]] = {}
    chosen = []
    for i, code in enumerate(codes):
        try:
            supplier = find_supplier(session, code)
        except NotFound as exc:
            errors.setdefault(f"suppliers[{i}]", []).append(str(exc))
            continue
        if not is_qualified(supplier):
            errors.setdefault(f"suppliers[{i}]", []).append(f"{supplier.code} is not qualified")
        elif supplier not in chosen:
            chosen.append(supplier)
    if not errors and len(chosen) < MIN_SUPPLIERS:
        errors["suppliers"] = [f"invite at least {MIN_SUPPLIERS} qualified suppliers"]
    pricing.refuse_if(errors, "the RFQ was not created")
    return chosen


def _candidates(session, requisition) -> list[Supplier]:
    from erp.purchasing.queries import supplier_rating

    qualified = [s for s in session.scalars(select(Supplier).order_by(Supplier.code)) if is_qualified(s)]
    if len(qualified) < MIN_SUPPLIERS:
        raise InvalidInput(f"an RFQ needs at least {MIN_SUPPLIERS} qualified suppliers; {len(qualified)} exist",
                           {"suppliers": [f"fewer than {MIN_SUPPLIERS} qualified suppliers"]})
    product_ids = [x.product_id for x in requisition.lines]
    categories = set(session.scalars(select(Product.category).where(Product.id.in_(product_ids),
                                                                     Product.category.is_not(None))))
    supplied = set(session.scalars(select(PurchaseOrder.supplier_id).join(
        PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id).where(
        PurchaseOrderLine.product_id.in_(product_ids))))
    ranked = sorted(qualified, key=lambda s: (-(supplier_rating(session, s)["overall"] or Decimal(0)), s.code))
    invited = [s for s in ranked if s.id in supplied or (s.category and s.category in categories)]
    for supplier in ranked:
        if len(invited) >= MIN_SUPPLIERS:
            break
        if supplier not in invited:
            invited.append(supplier)
    return invited

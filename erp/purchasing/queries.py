"""Reading purchasing data for pages, reports and the API: suppliers with their rating, requisitions, RFQs,
purchase orders, receipts, supplier invoices, match exceptions and what we owe (payables)."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select

from erp.catalog.models import Product
from erp.inventory.models import Warehouse
from erp.purchasing.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    Requisition,
    Rfq,
    Supplier,
    SupplierContact,
    SupplierCredit,
    SupplierInvoice,
    SupplierPayment,
)
from erp.purchasing.services import find_order, find_requisition, find_supplier, is_qualified

FIVE = Decimal(5)
OPEN_PAYABLE = ("received", "matched", "exception", "accepted", "approved", "partially_paid")


def suppliers(session, text: str | None = None, qualification: str | None = None) -> list[dict]:
    query = select(Supplier).order_by(Supplier.code)
    if text:
        # literal text: % and _ typed in the search box match themselves, not anything
        query = query.where(or_(*(column.icontains(text.strip(), autoescape=True) for column in (
            Supplier.code, Supplier.name_zh, Supplier.name_en, Supplier.category))))
    if qualification:
        query = query.where(Supplier.qualification == qualification)
    return [_supplier_row(s) for s in session.scalars(query)]


def supplier_detail(session, supplier) -> dict:
    """The supplier with its contacts, rating, open purchase orders and open payables (bank account and the
    contacts' personal fields are in PERSONAL_FIELDS: mask them for roles that need not see them)."""
    found = find_supplier(session, supplier)
    contacts = session.scalars(select(SupplierContact).where(SupplierContact.supplier_id == found.id)
                               .order_by(SupplierContact.is_primary.desc(), SupplierContact.id))
    return {**_supplier_row(found), "tax_number": found.tax_number, "phone": found.phone, "address": found.address,
            "city": found.city, "province": found.province, "bank_name": found.bank_name,
            "bank_account": found.bank_account, "created_at": found.created_at,
            "contacts": [{"id": c.id, "contact_name": c.contact_name, "title": c.title, "mobile": c.mobile,
                          "email": c.email, "is_primary": c.is_primary} for c in contacts],
            "rating": supplier_rating(session, found),
            "open_orders": orders(session, status=("open", "partially_received", "received"), supplier=found),
            "open_payables": [x for x in payables(session) if x["supplier"] == found.code]}


def supplier_rating(session, supplier) -> dict:
    """delivery: the share of receipts on or before the order's expected date, 0-5; quality: accepted /
    (accepted + rejected), 0-5; overall: their mean (None for all when nothing was received yet)."""
    found = find_supplier(session, supplier)
    receipts = session.execute(select(GoodsReceipt.id, GoodsReceipt.received_on, PurchaseOrder.expected_date)
                               .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
                               .where(PurchaseOrder.supplier_id == found.id)).all()
    if not receipts:
        return {"delivery": None, "quality": None, "overall": None, "receipts": 0}
    on_time = sum(1 for _, received_on, expected in receipts if received_on <= expected)
    accepted = rejected = Decimal(0)
    for quantity, refused in session.execute(select(GoodsReceiptLine.quantity, GoodsReceiptLine.rejected)
                                             .where(GoodsReceiptLine.receipt_id.in_([r[0] for r in receipts]))):
        accepted, rejected = accepted + quantity, rejected + refused
    delivery = _score(Decimal(on_time) / len(receipts))
    quality = _score(accepted / (accepted + rejected)) if accepted + rejected else FIVE.quantize(Decimal("0.1"))
    return {"delivery": delivery, "quality": quality, "overall": _score((delivery + quality) / 2 / FIVE),
            "receipts": len(receipts)}


def best_rated_suppliers(session) -> list[Supplier]:
    """Qualified suppliers, best overall rating first (unrated ones after the rated, by code)."""
    qualified = [s for s in session.scalars(select(Supplier).order_by(Supplier.code)) if is_qualified(s)]
    return sorted(qualified, key=lambda s: -(supplier_rating(session, s)["overall"] or Decimal(-1)))


def requisitions(session, requester: str | None = None, status=None) -> list[dict]:
    query = select(Requisition).order_by(Requisition.id.desc())
    if requester:
        query = query.where(Requisition.requester == requester)
    if status:
        query = query.where(Requisition.status.in_([status] if isinstance(status, str) else list(status)))
    return [_requisition_row(r) for r in session.scalars(query)]


def requisition_detail(session, requisition) -> dict:
    found = find_requisition(session, requisition)
    names = _products(session, [x.product_id for x in found.lines])
    places = dict(session.execute(select(Warehouse.id, Warehouse.code)).all())
    return {**_requisition_row(found), "note": found.note, "created_at": found.created_at,
            "lines": [{"sku": names[x.product_id][0], "name": names[x.product_id][1], "quantity": x.quantity,
                       "estimated_unit_price": x.estimated_unit_price, "vat_rate": x.vat_rate,
                       "warehouse": places[x.warehouse_id]} for x in found.lines],
            "rfqs": [r.number for r in session.scalars(select(Rfq).where(Rfq.requisition_id == found.id))],
            "orders": [o.number for o in session.scalars(select(PurchaseOrder)
                                                         .where(PurchaseOrder.requisition_id == found.id))]}


def rfqs(session, status: str | None = None) -> list[dict]:
    query = select(Rfq, Requisition.number).join(Requisition, Requisition.id == Rfq.requisition_id)
    if status:
        query = query.where(Rfq.status == status)
    return [{"id": r.id, "rfq": r.number, "requisition": number, "status": r.status, "reply_by": r.reply_by,
             "suppliers": len(r.suppliers)} for r, number in session.execute(query.order_by(Rfq.id.desc()))]


def rfq_detail(session, rfq) -> dict:
    from erp.purchasing.rfqs import comparison

    return comparison(session, rfq)


def orders(session, status=None, supplier=None) -> list[dict]:
    query = select(PurchaseOrder, Supplier).join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
    if status:
        query = query.where(PurchaseOrder.status.in_([status] if isinstance(status, str) else list(status)))
    if supplier is not None:
        query = query.where(PurchaseOrder.supplier_id == find_supplier(session, supplier).id)
    return [_order_row(o, s) for o, s in session.execute(query.order_by(PurchaseOrder.id.desc()))]


def order_detail(session, order) -> dict:
    found = find_order(session, order)
    supplier = session.get(Supplier, found.supplier_id)
    names = _products(session, [x.product_id for x in found.lines])
    places = dict(session.execute(select(Warehouse.id, Warehouse.code)).all())
    return {**_order_row(found, supplier), "order_date": found.order_date,
            "requisition": found.requisition_id and find_requisition(session, found.requisition_id).number,
            "lines": [{"sku": names[x.product_id][0], "name": names[x.product_id][1], "warehouse":
                       places[x.warehouse_id], "ordered": x.quantity, "received": x.received, "invoiced": x.invoiced,
                       "unit_price": x.unit_price, "vat_rate": x.vat_rate, "net": x.net, "vat": x.vat,
                       "gross": x.gross} for x in found.lines],
            "receipts": receipts(session, order=found),
            "invoices": supplier_invoices(session, order=found)}


def receipts(session, order=None) -> list[dict]:
    query = select(GoodsReceipt, PurchaseOrder.number).join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
    if order is not None:
        query = query.where(GoodsReceipt.order_id == find_order(session, order).id)
    return [{"id": r.id, "receipt": r.number, "order": number, "received_on": r.received_on, "value": r.value,
             "accepted": sum((x.quantity for x in r.lines), Decimal(0)),
             "rejected": sum((x.rejected for x in r.lines), Decimal(0)), "by": r.created_by}
            for r, number in session.execute(query.order_by(GoodsReceipt.id.desc()))]


def supplier_invoices(session, status=None, order=None) -> list[dict]:
    query = select(SupplierInvoice, Supplier, PurchaseOrder.number).join(
        Supplier, Supplier.id == SupplierInvoice.supplier_id).join(
        PurchaseOrder, PurchaseOrder.id == SupplierInvoice.order_id)
    if status:
        query = query.where(SupplierInvoice.status.in_([status] if isinstance(status, str) else list(status)))
    if order is not None:
        query = query.where(SupplierInvoice.order_id == find_order(session, order).id)
    return [_invoice_row(i, s, number) for i, s, number in session.execute(query.order_by(SupplierInvoice.id.desc()))]


def supplier_invoice_detail(session, invoice) -> dict:
    from erp.purchasing.services import find_supplier_invoice

    found = find_supplier_invoice(session, invoice)
    supplier = session.get(Supplier, found.supplier_id)
    row = _invoice_row(found, supplier, session.get(PurchaseOrder, found.order_id).number)
    credits = session.scalars(select(SupplierCredit).where(SupplierCredit.supplier_invoice_id == found.id))
    paid = session.scalars(select(SupplierPayment).where(SupplierPayment.supplier_invoice_id == found.id))
    return {**row, "match": found.match,
            "credits": [{"credit": c.number, "supplier_number": c.supplier_number, "issue_date": c.issue_date,
                         "gross": c.gross, "reason": c.reason} for c in credits],
            "payments": [{"payment": p.number, "paid_on": p.paid_on, "amount": p.amount, "reference": p.reference}
                         for p in paid]}


def match_exceptions(session) -> list[dict]:
    """Invoices that failed the three-way match and wait for a decision, with the lines that failed."""
    return [{**row, "lines": [x for x in (row["match"] or {}).get("lines", []) if x.get("status") != "ok"]}
            for row in (supplier_invoice_detail(session, r["id"]) for r in supplier_invoices(session, "exception"))]


def payables(session, as_of: date | None = None) -> list[dict]:
    """Open supplier invoices, soonest due first, with the days to due (negative: overdue)."""
    from erp.finance.services import today

    as_of = as_of or today()
    rows = []
    for invoice, supplier, number in session.execute(
            select(SupplierInvoice, Supplier, PurchaseOrder.number)
            .join(Supplier, Supplier.id == SupplierInvoice.supplier_id)
            .join(PurchaseOrder, PurchaseOrder.id == SupplierInvoice.order_id)
            .where(SupplierInvoice.status.in_(OPEN_PAYABLE)).order_by(SupplierInvoice.due_date, SupplierInvoice.id)):
        if invoice.outstanding <= 0:
            continue
        days = (invoice.due_date - as_of).days
        rows.append({**_invoice_row(invoice, supplier, number), "days_to_due": days, "overdue": days < 0,
                     "days_overdue": max(-days, 0)})
    return rows


def _score(share: Decimal) -> Decimal:
    return (share * FIVE).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _supplier_row(s: Supplier) -> dict:
    return {"id": s.id, "code": s.code, "name_zh": s.name_zh, "name_en": s.name_en, "category": s.category,
            "qualification": s.qualification, "qualified_until": s.qualified_until, "qualified": is_qualified(s),
            "payment_terms_days": s.payment_terms_days, "buyer": s.buyer}


def _requisition_row(r: Requisition) -> dict:
    return {"id": r.id, "requisition": r.number, "requester": r.requester, "department": r.department,
            "source": r.source, "source_reference": r.source_reference, "needed_by": r.needed_by,
            "status": r.status, "estimated_total": r.estimated_total, "lines": len(r.lines)}


def _order_row(o: PurchaseOrder, s: Supplier) -> dict:
    return {"id": o.id, "order": o.number, "supplier": s.code, "supplier_name": s.name_zh,
            "order_date": o.order_date, "expected_date": o.expected_date, "status": o.status, "buyer": o.buyer,
            "net_total": o.net_total, "vat_total": o.vat_total, "gross_total": o.gross_total}


def _invoice_row(i: SupplierInvoice, s: Supplier, order_number: str) -> dict:
    return {"id": i.id, "bill": i.number, "supplier_number": i.supplier_number, "supplier": s.code,
            "supplier_name": s.name_zh, "order": order_number, "kind": i.kind, "issue_date": i.issue_date,
            "due_date": i.due_date, "net_total": i.net_total, "vat_total": i.vat_total, "gross_total": i.gross_total,
            "credited": i.credited, "paid": i.paid, "outstanding": i.outstanding, "status": i.status}


def _products(session, ids) -> dict[int, tuple[str, str]]:
    return {pid: (sku, name) for pid, sku, name in session.execute(
        select(Product.id, Product.sku, Product.name_zh).where(Product.id.in_(list(ids))))}


# ---------------------------------------------------------------------- for the web pages

def requisition_choices(session) -> dict:
    """What a requisition form offers: the active stocked products and the active warehouses."""
    products = session.scalars(select(Product).where(Product.active.is_(True), Product.stocked.is_(True))
                               .order_by(Product.sku))
    warehouses = session.scalars(select(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.code))
    return {"products": [{"sku": p.sku, "name_zh": p.name_zh, "name_en": p.name_en, "unit": p.unit,
                          "unit_en": p.unit_en} for p in products],
            "warehouses": [{"code": w.code, "name_zh": w.name_zh, "name_en": w.name_en} for w in warehouses]}


def requisition_sheet(session, requisition) -> dict:
    """requisition_detail with the RFQs' and orders' ids and, for a backorder, the sales order's id."""
    from erp.sales.models import SalesOrder

    detail = requisition_detail(session, requisition)
    found = find_requisition(session, requisition)
    detail["rfq_links"] = [{"id": r.id, "rfq": r.number, "status": r.status} for r in session.scalars(
        select(Rfq).where(Rfq.requisition_id == found.id).order_by(Rfq.id))]
    detail["order_links"] = [{"id": o.id, "order": o.number, "status": o.status} for o in session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.requisition_id == found.id).order_by(PurchaseOrder.id))]
    detail["sales_order_id"] = session.scalar(select(SalesOrder.id).where(
        SalesOrder.number == found.source_reference)) if found.source == "backorder" else None
    return detail


def rfq_sheet(session, rfq) -> dict:
    """The comparison of an RFQ with its id, reply-by date and requisition, and each quote's lead time, validity
    and note (to fill the form that replaces it)."""
    from erp.purchasing.models import SupplierQuote
    from erp.purchasing.rfqs import comparison, find_rfq

    found = find_rfq(session, rfq)
    requisition = find_requisition(session, found.requisition_id)
    codes = dict(session.execute(select(Supplier.id, Supplier.code)).all())
    quotes = {codes[q.supplier_id]: {"received_on": q.received_on, "lead_time_days": q.lead_time_days,
                                     "valid_until": q.valid_until, "note": q.note}
              for q in session.scalars(select(SupplierQuote).where(SupplierQuote.rfq_id == found.id))}
    return {**comparison(session, found), "id": found.id, "reply_by": found.reply_by,
            "requisition": requisition.number, "requisition_id": requisition.id, "quote_details": quotes}


def order_sheet(session, order) -> dict:
    """order_detail with each line's short-closed quantity and the order's requisition id."""
    found = find_order(session, order)
    detail = order_detail(session, found)
    for line, row in zip(found.lines, detail["lines"], strict=True):
        row["short_closed"] = line.short_closed or Decimal(0)
    detail["requisition_id"] = found.requisition_id
    return detail


def requisitions_of_orders(session, order_numbers) -> dict[str, str]:
    """{purchase order number: its requisition's number} (the business key of its procurement instance)."""
    numbers = list(order_numbers)
    if not numbers:
        return {}
    return dict(session.execute(select(PurchaseOrder.number, Requisition.number)
                                .join(Requisition, Requisition.id == PurchaseOrder.requisition_id)
                                .where(PurchaseOrder.number.in_(numbers))).tuples().all())

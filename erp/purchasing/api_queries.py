"""Reads of requisitions, suppliers, RFQs, purchase orders and supplier invoices for the JSON API: pages and
details found by their number only (never by id), a requester limited to their own requisitions when asked
(someone else's does not exist for them). Amounts and quantities are Decimal."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from core.errors import NotFound
from erp.catalog.models import Product
from erp.inventory.models import Warehouse
from erp.purchasing import queries, rfqs
from erp.purchasing.models import (
    GoodsReceipt,
    PurchaseOrder,
    Requisition,
    Rfq,
    Supplier,
    SupplierCredit,
    SupplierInvoice,
    SupplierPayment,
)

#: the keys of a stored match result (amounts as text) that are numbers
MATCH_NUMBERS = frozenset({"ordered", "received", "invoiced", "po_price", "invoice_price", "price_diff_percent",
                           "quantity_diff", "price_difference", "price_tolerance_percent",
                           "quantity_tolerance_percent"})


# ---------------------------------------------------------------------- requisitions


def requisition_page(session, *, requester: str | None, status: str | None = None, page: int = 1,
                     per_page: int = 25) -> tuple[list[dict], int]:
    """Requisitions, newest first (only `requester`'s when given), and how many there are in all."""
    query = select(Requisition)
    if requester is not None:
        query = query.where(Requisition.requester == requester)
    if status:
        query = query.where(Requisition.status == status)
    rows, total = _paged(session, query, Requisition, page, per_page)
    return [_requisition_summary(r) for r in rows], total


def requisition_detail(session, number: str, *, requester: str | None) -> dict:
    requisition = _find(session, Requisition, number, "requisition")
    if requester is not None and requisition.requester != requester:
        raise NotFound(f"no requisition {number}")
    products = _products(session, [x.product_id for x in requisition.lines])
    places = _warehouses(session)
    return {**_requisition_summary(requisition), "note": requisition.note, "created_at": requisition.created_at,
            "lines": [dict(line_no=x.line_no, sku=products[x.product_id][0], name=products[x.product_id][1],
                           quantity=x.quantity, warehouse=places[x.warehouse_id],
                           estimated_unit_price=x.estimated_unit_price, vat_rate=x.vat_rate)
                      for x in requisition.lines],
            "rfqs": list(session.scalars(select(Rfq.number).where(Rfq.requisition_id == requisition.id)
                                         .order_by(Rfq.id))),
            "orders": list(session.scalars(select(PurchaseOrder.number)
                                           .where(PurchaseOrder.requisition_id == requisition.id)
                                           .order_by(PurchaseOrder.id)))}


# ---------------------------------------------------------------------- suppliers


def supplier_page(session, *, text: str | None = None, qualification: str | None = None, page: int = 1,
                  per_page: int = 25) -> tuple[list[dict], int]:
    """Suppliers by code, matching `text` (code, names, category) and the qualification when given."""
    rows = queries.suppliers(session, text=text, qualification=qualification)
    return [_without_id(r) for r in rows[(page - 1) * per_page:page * per_page]], len(rows)


def supplier_detail(session, code: str) -> dict:
    """With contacts, rating, open orders and open payables; the personal fields (PERSONAL_FIELDS) unmasked."""
    found = session.scalar(select(Supplier).where(Supplier.code == code.strip().upper()))
    if found is None:
        raise NotFound(f"no supplier {code}")
    detail = _without_id(queries.supplier_detail(session, found))
    detail["contacts"] = [_without_id(c) for c in detail["contacts"]]
    detail["open_orders"] = [_order_row(r) for r in detail["open_orders"]]
    detail["open_payables"] = [_invoice_row(r) for r in detail["open_payables"]]
    return detail


def supplier_exists(session, code: str) -> bool:
    return session.scalar(_supplier_ids(code)) is not None


# ---------------------------------------------------------------------- RFQs


def rfq_comparison(session, number: str) -> dict:
    """The RFQ's quotes side by side (rfqs.comparison), with the requisition it asks prices for."""
    rfq = _find(session, Rfq, number, "RFQ")
    compared = rfqs.comparison(session, rfq)
    return {"number": compared.pop("rfq"), **compared, "reply_by": rfq.reply_by,
            "requisition": session.scalar(select(Requisition.number).where(Requisition.id == rfq.requisition_id))}


def find_rfq(session, number: str) -> Rfq:
    return _find(session, Rfq, number, "RFQ")


# ---------------------------------------------------------------------- purchase orders


def order_page(session, *, status: str | None = None, supplier: str | None = None, page: int = 1,
               per_page: int = 25) -> tuple[list[dict], int]:
    query = select(PurchaseOrder)
    if status:
        query = query.where(PurchaseOrder.status == status)
    if supplier:
        query = query.where(PurchaseOrder.supplier_id.in_(_supplier_ids(supplier)))
    rows, total = _paged(session, query, PurchaseOrder, page, per_page)
    suppliers = _suppliers(session, [r.supplier_id for r in rows])
    return [_order_summary(r, suppliers[r.supplier_id]) for r in rows], total


def order_detail(session, number: str) -> dict:
    """Lines with ordered, received, short-closed and invoiced quantities; receipts; supplier invoices."""
    order = _find(session, PurchaseOrder, number, "purchase order")
    supplier = session.get(Supplier, order.supplier_id)
    products = _products(session, [x.product_id for x in order.lines])
    places = _warehouses(session)
    receipts = session.scalars(select(GoodsReceipt).where(GoodsReceipt.order_id == order.id)
                               .order_by(GoodsReceipt.id))
    invoices = session.scalars(select(SupplierInvoice).where(SupplierInvoice.order_id == order.id)
                               .order_by(SupplierInvoice.id))
    return {**_order_summary(order, supplier),
            "requisition": _number_of(session, Requisition, order.requisition_id),
            "rfq": _number_of(session, Rfq, order.rfq_id),
            "lines": [dict(line_no=x.line_no, sku=products[x.product_id][0], name=products[x.product_id][1],
                           warehouse=places[x.warehouse_id], ordered=x.quantity, received=x.received,
                           short_closed=x.short_closed or Decimal(0), invoiced=x.invoiced, unit_price=x.unit_price,
                           vat_rate=x.vat_rate, net=x.net, vat=x.vat, gross=x.gross) for x in order.lines],
            "receipts": [dict(number=r.number, received_on=r.received_on, value=r.value,
                              accepted=sum((x.quantity for x in r.lines), Decimal(0)),
                              rejected=sum((x.rejected for x in r.lines), Decimal(0)), created_by=r.created_by)
                         for r in receipts],
            "supplier_invoices": [_invoice_summary(i, supplier, order.number) for i in invoices]}


# ---------------------------------------------------------------------- supplier invoices


def supplier_invoice_page(session, *, status: str | None = None, supplier: str | None = None, page: int = 1,
                          per_page: int = 25) -> tuple[list[dict], int]:
    query = select(SupplierInvoice)
    if status:
        query = query.where(SupplierInvoice.status == status)
    if supplier:
        query = query.where(SupplierInvoice.supplier_id.in_(_supplier_ids(supplier)))
    rows, total = _paged(session, query, SupplierInvoice, page, per_page)
    suppliers = _suppliers(session, [r.supplier_id for r in rows])
    orders = dict(session.execute(select(PurchaseOrder.id, PurchaseOrder.number)
                                  .where(PurchaseOrder.id.in_({r.order_id for r in rows}))).all())
    return [_invoice_summary(r, suppliers[r.supplier_id], orders[r.order_id]) for r in rows], total


def supplier_invoice_detail(session, number: str) -> dict:
    """The invoice, its lines, the last three-way match result, its credits and payments."""
    invoice = _find(session, SupplierInvoice, number, "supplier invoice")
    supplier = session.get(Supplier, invoice.supplier_id)
    order = session.get(PurchaseOrder, invoice.order_id)
    skus = {line.id: line.product_id for line in order.lines}
    products = _products(session, skus.values())
    credits = session.scalars(select(SupplierCredit).where(SupplierCredit.supplier_invoice_id == invoice.id)
                              .order_by(SupplierCredit.id))
    paid = session.scalars(select(SupplierPayment).where(SupplierPayment.supplier_invoice_id == invoice.id)
                           .order_by(SupplierPayment.id))
    return {**_invoice_summary(invoice, supplier, order.number),
            "lines": [dict(sku=products[skus[x.order_line_id]][0], quantity=x.quantity, unit_price=x.unit_price,
                           vat_rate=x.vat_rate, net=x.net, vat=x.vat, gross=x.gross) for x in invoice.lines],
            "match": _numbers(invoice.match) if invoice.match else None,
            "credits": [dict(number=c.number, supplier_number=c.supplier_number, issue_date=c.issue_date, net=c.net,
                             vat=c.vat, gross=c.gross, reason=c.reason) for c in credits],
            "payments": [dict(number=p.number, paid_on=p.paid_on, amount=p.amount, reference=p.reference)
                         for p in paid]}


# ---------------------------------------------------------------------- rows


def _requisition_summary(r: Requisition) -> dict:
    return dict(number=r.number, status=r.status, requester=r.requester, department=r.department, source=r.source,
                source_reference=r.source_reference, needed_by=r.needed_by, estimated_total=r.estimated_total)


def _order_summary(o: PurchaseOrder, s: Supplier) -> dict:
    return dict(number=o.number, status=o.status, supplier=s.code, supplier_name=s.name_zh, order_date=o.order_date,
                expected_date=o.expected_date, buyer=o.buyer, net_total=o.net_total, vat_total=o.vat_total,
                gross_total=o.gross_total)


def _invoice_summary(i: SupplierInvoice, s: Supplier, order_number: str) -> dict:
    return dict(number=i.number, supplier_number=i.supplier_number, status=i.status, supplier=s.code,
                supplier_name=s.name_zh, order=order_number, kind=i.kind, issue_date=i.issue_date,
                due_date=i.due_date, net_total=i.net_total, vat_total=i.vat_total, gross_total=i.gross_total,
                credited=i.credited, paid=i.paid, outstanding=i.outstanding)


def _order_row(row: dict) -> dict:
    """A row of queries.orders in the API's words."""
    out = {k: v for k, v in row.items() if k not in ("id", "order")}
    return {"number": row["order"], **out}


def _invoice_row(row: dict) -> dict:
    """A row of queries.payables in the API's words."""
    out = {k: v for k, v in row.items() if k not in ("id", "bill")}
    return {"number": row["bill"], **out}


def _without_id(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "id"}


def _numbers(value):
    """A stored match result with its amounts and quantities (kept as text) back as Decimal."""
    if isinstance(value, dict):
        return {k: _decimal(v) if k in MATCH_NUMBERS else _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _decimal(value):
    try:
        return Decimal(value) if isinstance(value, str) else value
    except InvalidOperation:
        return value


# ---------------------------------------------------------------------- finding


def _paged(session, query, model, page: int, per_page: int):
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(model.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def _find(session, model, number: str, label: str):
    found = session.scalar(select(model).where(model.number == number))
    if found is None:
        raise NotFound(f"no {label} {number}")
    return found


def _number_of(session, model, row_id: int | None) -> str | None:
    return session.scalar(select(model.number).where(model.id == row_id)) if row_id else None


def _supplier_ids(code: str):
    return select(Supplier.id).where(Supplier.code == code.strip().upper())


def _suppliers(session, ids) -> dict[int, Supplier]:
    return {s.id: s for s in session.scalars(select(Supplier).where(Supplier.id.in_(set(ids))))}


def _products(session, ids) -> dict[int, tuple[str, str]]:
    return {pid: (sku, name) for pid, sku, name in session.execute(
        select(Product.id, Product.sku, Product.name_zh).where(Product.id.in_(set(ids))))}


def _warehouses(session) -> dict[int, str]:
    return dict(session.execute(select(Warehouse.id, Warehouse.code)).all())


"""Reading sales: lists of quotations, orders and invoices, an order's detail, open and overdue invoices (for
催款), and a customer's credit exposure (for the credit check). Amounts are Decimal."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select

from erp.catalog.models import Product
from erp.crm.models import Contact, Customer
from erp.finance.models import Account, JournalLine
from erp.finance.services import today
from erp.sales import pricing
from erp.sales.fulfilment import find_invoice
from erp.sales.models import CreditNote, Delivery, Invoice, Payment, Quotation, SalesOrder
from erp.sales.services import find_customer, find_order, find_quotation

ZERO = Decimal("0.00")
CLOSED_ORDER = ("invoiced", "closed", "cancelled")


def quotations(session, *, status: str | None = None, customer=None, sales_rep: str | None = None,
               date_from: date | None = None, date_to: date | None = None) -> list[dict]:
    query = _filtered(session, select(Quotation), Quotation, Quotation.quote_date, status, customer, date_from,
                      date_to)
    if sales_rep:
        query = query.where(Quotation.sales_rep == sales_rep)
    return [_document(q, date=q.quote_date, valid_until=q.valid_until, sales_rep=q.sales_rep,
                      discount_percent=q.discount_percent) for q in session.scalars(query.order_by(Quotation.id))]


def orders(session, *, status: str | None = None, customer=None, date_from: date | None = None,
           date_to: date | None = None) -> list[dict]:
    query = _filtered(session, select(SalesOrder), SalesOrder, SalesOrder.order_date, status, customer, date_from,
                      date_to)
    return [_document(o, date=o.order_date, sales_rep=o.sales_rep) for o in
            session.scalars(query.order_by(SalesOrder.id))]


def invoices(session, *, status: str | None = None, customer=None, date_from: date | None = None,
             date_to: date | None = None) -> list[dict]:
    query = _filtered(session, select(Invoice), Invoice, Invoice.issue_date, status, customer, date_from, date_to)
    return [invoice_row(i) for i in session.scalars(query.order_by(Invoice.id))]


def invoice_row(invoice: Invoice, as_of: date | None = None) -> dict:
    row = _document(invoice, kind=invoice.kind, date=invoice.issue_date, due_date=invoice.due_date,
                    paid=invoice.paid, credited=invoice.credited, outstanding=invoice.outstanding)
    if as_of is not None:
        row["days_overdue"] = max((as_of - invoice.due_date).days, 0)
    return row


def order_detail(session, order) -> dict:
    """An order with its lines (ordered, reserved, delivered, invoiced), deliveries, invoices and payments."""
    order = find_order(session, order)
    skus = dict(session.execute(select(Product.id, Product.sku)
                                .where(Product.id.in_([x.product_id for x in order.lines]))).all())
    bills = session.scalars(select(Invoice).where(Invoice.order_id == order.id).order_by(Invoice.id)).all()
    bill_ids = [i.id for i in bills]
    paid = session.scalars(select(Payment).where(Payment.invoice_id.in_(bill_ids)).order_by(Payment.id)).all()
    notes = session.scalars(select(CreditNote).where(CreditNote.invoice_id.in_(bill_ids))
                            .order_by(CreditNote.id)).all()
    numbers = {i.id: i.number for i in bills}
    return {
        **_document(order, date=order.order_date, sales_rep=order.sales_rep, discount_percent=order.discount_percent),
        "lines": [dict(line_no=x.line_no, sku=skus[x.product_id], quantity=x.quantity, reserved=x.reserved,
                       delivered=x.delivered, invoiced=x.invoiced, unit_price=x.unit_price,
                       discount_percent=x.discount_percent, vat_rate=x.vat_rate, net=x.net, vat=x.vat, gross=x.gross)
                  for x in order.lines],
        "deliveries": [dict(number=d.number, date=d.delivery_date, cost_total=d.cost_total)
                       for d in session.scalars(select(Delivery).where(Delivery.order_id == order.id)
                                                .order_by(Delivery.id))],
        "invoices": [invoice_row(i) for i in bills],
        "payments": [dict(number=p.number, invoice=numbers[p.invoice_id], date=p.received_on, amount=p.amount,
                          applied=p.applied, unapplied=p.unapplied) for p in paid],
        "credit_notes": [dict(number=n.number, invoice=numbers[n.invoice_id], date=n.issue_date,
                              gross_total=n.gross_total, returned_to_stock=n.returned_to_stock) for n in notes],
    }


def open_invoices(session, customer=None) -> list[dict]:
    query = select(Invoice).where(Invoice.status != "paid").order_by(Invoice.due_date, Invoice.id)
    if customer is not None:
        query = query.where(Invoice.customer_id == find_customer(session, customer).id)
    return [invoice_row(i) for i in session.scalars(query)]


def overdue_invoices(session, as_of: date | None = None, min_days: int = 1) -> list[dict]:
    """Unpaid invoices at least `min_days` past their due date on `as_of` (催款 at 7, 15 and 30 days)."""
    as_of = as_of or today()
    query = (select(Invoice).where(Invoice.status != "paid", Invoice.due_date <= as_of)
             .order_by(Invoice.due_date, Invoice.id))
    rows = [invoice_row(i, as_of) for i in session.scalars(query)]
    return [r for r in rows if r["days_overdue"] >= max(min_days, 1)]


def credit_exposure(session, customer, as_of: date | None = None) -> dict:
    """What the customer owes (the 1122 balance of their sub-ledger) plus the gross of ordered goods not yet
    invoiced on open orders, against the credit limit; and how much of the receivable is overdue."""
    buyer = find_customer(session, customer)
    as_of = as_of or today()
    debit, credit = session.execute(
        select(func.coalesce(func.sum(JournalLine.debit), 0), func.coalesce(func.sum(JournalLine.credit), 0))
        .join(Account, Account.id == JournalLine.account_id)
        .where(Account.code == "1122", JournalLine.partner_type == "customer",
               JournalLine.partner_code == buyer.code)).one()
    receivable = (Decimal(debit) - Decimal(credit)).quantize(Decimal("0.01"))
    open_orders = ZERO
    for order in session.scalars(select(SalesOrder).where(SalesOrder.customer_id == buyer.id,
                                                          SalesOrder.status.not_in(CLOSED_ORDER))):
        for line in order.lines:
            rest = line.quantity - line.invoiced
            if rest > 0:
                open_orders += line.gross if rest == line.quantity else pricing.line_amounts(
                    rest, line.unit_price, line.vat_rate, line.discount_percent, order.discount_percent).gross
    overdue = sum((i.outstanding for i in session.scalars(
        select(Invoice).where(Invoice.customer_id == buyer.id, Invoice.status != "paid", Invoice.due_date < as_of))),
        ZERO)
    exposure = receivable + open_orders
    return dict(customer=buyer.code, credit_limit=buyer.credit_limit, open_receivable=receivable,
                open_orders=open_orders, exposure=exposure, overdue=overdue,
                available=buyer.credit_limit - exposure, within_limit=exposure <= buyer.credit_limit)


def _filtered(session, query, model, date_column, status, customer, date_from, date_to):
    if status:
        query = query.where(model.status == status)
    if customer is not None:
        query = query.where(model.customer_id == find_customer(session, customer).id)
    if date_from is not None:
        query = query.where(date_column >= date_from)
    if date_to is not None:
        query = query.where(date_column <= date_to)
    return query


def _document(document, **extra) -> dict:
    return dict(id=document.id, number=document.number, customer_id=document.customer_id, status=document.status,
                net_total=document.net_total, vat_total=document.vat_total, gross_total=document.gross_total,
                **extra)


def customer_codes(session, ids) -> dict[int, str]:
    return dict(session.execute(select(Customer.id, Customer.code).where(Customer.id.in_(set(ids)))).all())


# ---------------------------------------------------------------------- the sales pages
# Lists carry the customer's code and name; `rep` keeps only documents of the customers in that sales rep's
# charge (Customer.sales_rep), which is what a rep without sales.view_all may see.

LIST_LIMIT = 500


def quotation_list(session, *, status: str | None = None, customer_id: int | None = None, text: str | None = None,
                   rep: str | None = None) -> list[dict]:
    query = _listing(select(Quotation, Customer.code, Customer.name_zh), Quotation, rep, text)
    if status:
        query = query.where(Quotation.status == status)
    if customer_id is not None:
        query = query.where(Quotation.customer_id == customer_id)
    return [_named(_document(q, date=q.quote_date, valid_until=q.valid_until, sales_rep=q.sales_rep), code, name)
            for q, code, name in session.execute(query.order_by(Quotation.id.desc()).limit(LIST_LIMIT))]


def order_list(session, *, status: str | None = None, text: str | None = None, rep: str | None = None) -> list[dict]:
    query = _listing(select(SalesOrder, Customer.code, Customer.name_zh), SalesOrder, rep, text)
    if status:
        query = query.where(SalesOrder.status == status)
    return [_named(_document(o, date=o.order_date, sales_rep=o.sales_rep), code, name)
            for o, code, name in session.execute(query.order_by(SalesOrder.id.desc()).limit(LIST_LIMIT))]


def invoice_list(session, *, status: str | None = None, overdue: bool = False, text: str | None = None,
                 rep: str | None = None, as_of: date | None = None) -> list[dict]:
    """Invoices with their days overdue on `as_of` (0 when not yet due or paid); `overdue` keeps the unpaid
    ones past their due date."""
    as_of = as_of or today()
    query = _listing(select(Invoice, Customer.code, Customer.name_zh), Invoice, rep, text)
    if status:
        query = query.where(Invoice.status == status)
    if overdue:
        query = query.where(Invoice.status != "paid", Invoice.due_date < as_of)
    rows = []
    for invoice, code, name in session.execute(query.order_by(Invoice.id.desc()).limit(LIST_LIMIT)):
        row = _named(invoice_row(invoice, as_of), code, name)
        if invoice.status == "paid":
            row["days_overdue"] = 0
        rows.append(row)
    return rows


def payment_list(session, *, text: str | None = None, rep: str | None = None) -> list[dict]:
    query = _listing(select(Payment, Invoice.number, Customer.code, Customer.name_zh)
                     .join(Invoice, Invoice.id == Payment.invoice_id), Payment, rep, text, Invoice.number)
    return [dict(id=p.id, number=p.number, invoice_id=p.invoice_id, invoice=number, customer_code=code,
                 customer_name=name, received_on=p.received_on, amount=p.amount, applied=p.applied,
                 unapplied=p.unapplied, payer=p.payer, memo=p.memo)
            for p, number, code, name in session.execute(
                query.order_by(Payment.received_on.desc(), Payment.id.desc()).limit(LIST_LIMIT))]


def quotation_detail(session, quotation) -> dict:
    """A quotation with its lines (and their products), its customer and the order made from it, if any."""
    q = find_quotation(session, quotation)
    names = _products(session, [x.product_id for x in q.lines])
    order = session.execute(select(SalesOrder.id, SalesOrder.number).where(SalesOrder.quotation_id == q.id)).first()
    return {**_document(q, date=q.quote_date, valid_until=q.valid_until, sales_rep=q.sales_rep,
                        discount_percent=q.discount_percent, created_by=q.created_by),
            "customer": customer_summary(session, q.customer_id),
            "lines": [dict(line_no=x.line_no, **names[x.product_id], quantity=x.quantity, unit_price=x.unit_price,
                           discount_percent=x.discount_percent, vat_rate=x.vat_rate, net=x.net, vat=x.vat,
                           gross=x.gross) for x in q.lines],
            "order": dict(id=order.id, number=order.number) if order else None}


def order_sheet(session, order) -> dict:
    """order_detail() as the order's page shows it: with its customer, the quotation it came from and the
    products' names on the lines."""
    found = find_order(session, order)
    detail = order_detail(session, found)
    names = {n["sku"]: n for n in _products(session, [x.product_id for x in found.lines]).values()}
    quotation = session.get(Quotation, found.quotation_id) if found.quotation_id else None
    detail["lines"] = [{**line, **names[line["sku"]]} for line in detail["lines"]]
    detail["customer"] = customer_summary(session, found.customer_id)
    detail["quotation"] = dict(id=quotation.id, number=quotation.number) if quotation else None
    return detail


def invoice_detail(session, invoice) -> dict:
    """An invoice with its lines, its order, its customer, the payments applied to it and its credit notes."""
    found = find_invoice(session, invoice)
    names = _products(session, [x.product_id for x in found.lines])
    order = session.get(SalesOrder, found.order_id)
    return {**invoice_row(found, today()), "order": dict(id=order.id, number=order.number),
            "customer": customer_summary(session, found.customer_id),
            "lines": [dict(line_no=x.line_no, **names[x.product_id], quantity=x.quantity, unit_price=x.unit_price,
                           discount_percent=x.discount_percent, vat_rate=x.vat_rate, net=x.net, vat=x.vat,
                           gross=x.gross) for x in found.lines],
            "payments": [dict(id=p.id, number=p.number, received_on=p.received_on, amount=p.amount, applied=p.applied,
                              unapplied=p.unapplied, payer=p.payer, memo=p.memo, created_by=p.created_by)
                         for p in session.scalars(select(Payment).where(Payment.invoice_id == found.id)
                                                  .order_by(Payment.id))],
            "credit_notes": [dict(number=n.number, date=n.issue_date, gross_total=n.gross_total, reason=n.reason)
                             for n in session.scalars(select(CreditNote).where(CreditNote.invoice_id == found.id)
                                                      .order_by(CreditNote.id))]}


def customer_summary(session, customer_id: int) -> dict:
    """Code, names, sales rep and primary contact (its name and mobile are personal: mask them for display)."""
    c = session.get(Customer, customer_id)
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer_id)
                             .order_by(Contact.is_primary.desc(), Contact.id).limit(1))
    return dict(id=c.id, code=c.code, name_zh=c.name_zh, name_en=c.name_en, sales_rep=c.sales_rep,
                contact_name=contact.contact_name if contact else None, mobile=contact.mobile if contact else None)


def customers_of(session, rep: str | None = None) -> list[dict]:
    """The active customers one may quote for (a rep's own, or everyone's when `rep` is None), by code."""
    query = select(Customer.id, Customer.code, Customer.name_zh).where(Customer.active.is_(True))
    if rep is not None:
        query = query.where(Customer.sales_rep == rep)
    return [dict(id=i, code=code, name_zh=name) for i, code, name in session.execute(query.order_by(Customer.code))]


def _listing(query, model, rep, text, *also_searched):
    query = query.join(Customer, Customer.id == model.customer_id)
    if rep is not None:
        query = query.where(Customer.sales_rep == rep)
    if text:
        # literal text: % and _ typed in the search box match themselves, not anything
        query = query.where(or_(*(column.icontains(text, autoescape=True) for column in (
            model.number, Customer.code, Customer.name_zh, Customer.name_en, *also_searched))))
    return query


def _named(row: dict, code: str, name: str) -> dict:
    return {**row, "customer_code": code, "customer_name": name}


def _products(session, ids) -> dict[int, dict]:
    rows = session.execute(select(Product.id, Product.sku, Product.name_zh, Product.name_en, Product.unit,
                                  Product.unit_en).where(Product.id.in_(set(ids))))
    return {r.id: dict(sku=r.sku, name_zh=r.name_zh, name_en=r.name_en, unit=r.unit, unit_en=r.unit_en) for r in rows}

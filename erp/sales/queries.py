"""Reading sales: lists of quotations, orders and invoices, an order's detail, open and overdue invoices (for
催款), and a customer's credit exposure (for the credit check). Amounts are Decimal."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from erp.catalog.models import Product
from erp.crm.models import Customer
from erp.finance.models import Account, JournalLine
from erp.finance.services import today
from erp.sales import pricing
from erp.sales.models import CreditNote, Delivery, Invoice, Payment, Quotation, SalesOrder
from erp.sales.services import find_customer, find_order

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

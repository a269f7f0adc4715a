"""Reads of quotations, orders and invoices for the JSON API: pages and details, each limited to the customers
of one sales rep when asked (someone else's document does not exist for them). Amounts are Decimal."""
from __future__ import annotations

from sqlalchemy import func, select

from core.errors import NotFound
from erp.catalog.models import Product
from erp.crm.models import Customer
from erp.sales import queries
from erp.sales.models import Invoice, Payment, Quotation, SalesOrder


def page(session, model, *, rep: str | None, status: str | None = None, customer: str | None = None,
         page: int = 1, per_page: int = 25) -> tuple[list[dict], int]:
    """One page of quotations, orders or invoices (`model`), newest first, and how many there are in all."""
    query = _visible(select(model), model, rep)
    if status:
        query = query.where(model.status == status)
    if customer:
        query = query.where(model.customer_id.in_(select(Customer.id).where(Customer.code == customer)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(model.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    codes = queries.customer_codes(session, [r.customer_id for r in rows])
    return [{**_SUMMARY[model](r), "customer": codes[r.customer_id]} for r in rows], total


def quotation_detail(session, number: str, *, rep: str | None) -> dict:
    quotation = _find(session, Quotation, number, rep, "quotation")
    skus = _skus(session, [x.product_id for x in quotation.lines])
    return {**_quotation_summary(quotation), "customer": _code(session, quotation.customer_id),
            "price_list": quotation.price_list, "created_by": quotation.created_by,
            "lines": [dict(line_no=x.line_no, sku=skus[x.product_id], quantity=x.quantity, unit_price=x.unit_price,
                           discount_percent=x.discount_percent, vat_rate=x.vat_rate, net=x.net, vat=x.vat,
                           gross=x.gross) for x in quotation.lines]}


def order_detail(session, number: str, *, rep: str | None) -> dict:
    order = _find(session, SalesOrder, number, rep, "sales order")
    detail = queries.order_detail(session, order)
    detail.pop("id")
    detail["order_date"] = detail.pop("date")
    detail["invoices"] = [{**{k: v for k, v in row.items() if k not in ("id", "customer_id", "date")},
                           "issue_date": row["date"]} for row in detail["invoices"]]
    detail["payments"] = [{**{k: v for k, v in row.items() if k != "date"}, "received_on": row["date"]}
                          for row in detail["payments"]]
    quotation = session.scalar(select(Quotation.number).where(Quotation.id == order.quotation_id)) \
        if order.quotation_id else None
    detail["customer"] = _code(session, detail.pop("customer_id"))
    return {**detail, "quotation": quotation}


def invoice_detail(session, number: str, *, rep: str | None) -> dict:
    invoice = _find(session, Invoice, number, rep, "invoice")
    skus = _skus(session, [x.product_id for x in invoice.lines])
    paid = session.scalars(select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id))
    return {**_invoice_summary(invoice), "customer": _code(session, invoice.customer_id),
            "order": session.scalar(select(SalesOrder.number).where(SalesOrder.id == invoice.order_id)),
            "lines": [dict(line_no=x.line_no, sku=skus[x.product_id], quantity=x.quantity, unit_price=x.unit_price,
                           discount_percent=x.discount_percent, vat_rate=x.vat_rate, net=x.net, vat=x.vat,
                           gross=x.gross) for x in invoice.lines],
            "payments": [payment_row(p) for p in paid]}


def payment_row(payment: Payment) -> dict:
    return dict(number=payment.number, received_on=payment.received_on, amount=payment.amount,
                applied=payment.applied, unapplied=payment.unapplied, payer=payment.payer, memo=payment.memo)


def customer_visible(session, code: str, *, rep: str | None) -> bool:
    """Whether the customer exists and is in `rep`'s charge (any customer when rep is None)."""
    query = select(Customer.id).where(Customer.code == code)
    if rep is not None:
        query = query.where(Customer.sales_rep == rep)
    return session.scalar(query) is not None


def invoice_visible(session, number: str, *, rep: str | None) -> None:
    """NotFound unless the invoice exists and belongs to one of `rep`'s customers."""
    _find(session, Invoice, number, rep, "invoice")


def _visible(query, model, rep: str | None):
    if rep is None:
        return query
    return query.where(model.customer_id.in_(select(Customer.id).where(Customer.sales_rep == rep)))


def _find(session, model, number: str, rep: str | None, label: str):
    found = session.scalar(_visible(select(model), model, rep).where(model.number == number))
    if found is None:
        raise NotFound(f"no {label} {number}")
    return found


def _code(session, customer_id: int) -> str:
    return session.scalar(select(Customer.code).where(Customer.id == customer_id))


def _skus(session, product_ids) -> dict[int, str]:
    return dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(set(product_ids)))).all())


def _totals(document) -> dict:
    return dict(number=document.number, status=document.status, net_total=document.net_total,
                vat_total=document.vat_total, gross_total=document.gross_total)


def _quotation_summary(q: Quotation) -> dict:
    return {**_totals(q), "quote_date": q.quote_date, "valid_until": q.valid_until, "sales_rep": q.sales_rep,
            "discount_percent": q.discount_percent}


def _order_summary(o: SalesOrder) -> dict:
    return {**_totals(o), "order_date": o.order_date, "sales_rep": o.sales_rep,
            "discount_percent": o.discount_percent}


def _invoice_summary(i: Invoice) -> dict:
    return {**_totals(i), "kind": i.kind, "issue_date": i.issue_date, "due_date": i.due_date, "paid": i.paid,
            "credited": i.credited, "outstanding": i.outstanding}


_SUMMARY = {Quotation: _quotation_summary, SalesOrder: _order_summary, Invoice: _invoice_summary}

"""Paying suppliers (付款): Dr 2202 应付账款 (the supplier) / Cr 1002 银行存款. Take a session, never commit.
An order closes once it is fully received, everything received is invoiced and its invoices are paid."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core import clock
from erp.purchasing import services
from erp.purchasing.invoicing import STANDING, post
from erp.purchasing.models import PurchaseOrder, Supplier, SupplierInvoice, SupplierPayment
from erp.purchasing.services import find_supplier_invoice
from erp.sales import pricing

PAYABLE = ("approved", "partially_paid")


def pay_supplier(session, supplier_invoice, amount=None, *, paid_on: date | None = None,
                 reference: str | None = None, by: str | None = None) -> SupplierPayment:
    """Pay an approved invoice, `amount` (default: all outstanding), never more than is outstanding."""
    invoice = find_supplier_invoice(session, supplier_invoice, lock=True)
    errors: dict[str, list[str]] = {}
    if invoice.status not in PAYABLE:
        errors["invoice"] = [f"supplier invoice {invoice.number} is {invoice.status}; approve it for payment first"]
    value = invoice.outstanding if amount is None else pricing.number(amount, 2, "amount", errors)
    if value is not None and value <= 0:
        errors.setdefault("amount", []).append("nothing is outstanding")
    elif value is not None and value > invoice.outstanding:
        errors.setdefault("amount", []).append(f"only {invoice.outstanding} outstanding")
    when = paid_on or services._today()
    if when < invoice.issue_date:
        errors["paid_on"] = [f"on or after {invoice.issue_date}"]
    pricing.refuse_if(errors, "the payment was not recorded")
    supplier = session.get(Supplier, invoice.supplier_id)
    payment = SupplierPayment(number=pricing.next_number(session, SupplierPayment, "PAY", when),
                              supplier_invoice_id=invoice.id, supplier_id=supplier.id, paid_on=when, amount=value,
                              reference=(reference or "").strip() or None, created_at=clock.now(), created_by=by)
    session.add(payment)
    session.flush()
    entry = post(session, when, by, ("purchase_payment", payment.number),
                 f"支付供应商 {supplier.name_zh} 发票 {invoice.number} ({invoice.supplier_number})",
                 [("2202", value, {"partner_type": "supplier", "partner_code": supplier.code}),
                  ("1002", -value, {})])
    payment.journal_entry_id = entry.id
    invoice.paid += value
    invoice.status = "paid" if invoice.outstanding <= 0 else "partially_paid"
    close_if_done(session, invoice.order_id)
    session.flush()
    return payment


def close_if_done(session, order_id: int) -> bool:
    """Close the order when it is fully received, all it received is invoiced and every standing invoice is
    paid; True if it closed."""
    order = session.get(PurchaseOrder, order_id)
    if order.status != "received" or any(x.invoiced != x.received for x in order.lines):
        return False
    statuses = session.scalars(select(SupplierInvoice.status).where(SupplierInvoice.order_id == order.id,
                                                                    SupplierInvoice.status.in_(STANDING))).all()
    if not statuses or any(s != "paid" for s in statuses):
        return False
    order.status = "closed"
    return True


ZERO = Decimal("0.00")

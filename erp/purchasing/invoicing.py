"""Supplier invoices (供应商发票), the decisions on a failed three-way match, and supplier credits (红字发票).
Take a session, never commit.

  invoice  Dr 2241 (invoiced quantity × PO price) / Dr 222101 进项税额 (special invoices) / Dr or Cr 1405 (the
           price difference; on an ordinary invoice the VAT too, as it is part of the cost) / Cr 2202 (gross)
  credit   Dr 2202 (gross) / Cr 2241 (quantities invoiced beyond those received, when the credit covers
           them all) / Cr 1405 (the rest of the net; an ordinary invoice's VAT too) / Cr 222101 (VAT)

Rounding: a line takes off 2241 its quantity × PO price rounded to the cent, except the invoice that brings
a line's invoiced quantity to its received quantity, which takes off exactly what the receipts put on less
what earlier invoices took off, so 2241 returns to 0 for every fully invoiced receipt.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core import clock
from core.errors import InvalidInput
from erp.catalog.money import to_cents, vat_of
from erp.finance.models import JournalEntry
from erp.finance.services import post_entry, reverse_entry
from erp.identity.queries import display_name
from erp.purchasing import services
from erp.purchasing.models import (
    GoodsReceiptLine,
    PurchaseOrderLine,
    Supplier,
    SupplierCredit,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from erp.purchasing.receiving import SYSTEM, skus_of
from erp.purchasing.services import find_order, find_supplier_invoice, primary_email
from erp.sales import pricing
from notifications.config import load_mail_config
from notifications.outbox import enqueue

DECISIONS = ("accept", "dispute", "credit_note")
#: invoices whose amounts stand on the books (a disputed one was reversed)
STANDING = ("received", "matched", "exception", "accepted", "approved", "partially_paid", "paid")


def record_supplier_invoice(session, order, *, supplier_number: str, lines, issue_date: date | None = None,
                            kind: str = "special", by: str | None = None) -> SupplierInvoice:
    """Record and post the supplier's invoice for `lines` ([{sku, quantity, unit_price}] of the order);
    due after the supplier's payment terms. A supplier number already recorded, a line not on the order or
    more than was ordered is refused."""
    order = find_order(session, order, lock=True)
    supplier = session.get(Supplier, order.supplier_id)
    errors: dict[str, list[str]] = {}
    supplier_number = (supplier_number or "").strip()
    if not supplier_number:
        errors["supplier_number"] = ["required: the number printed on the supplier's invoice"]
    elif session.scalar(select(SupplierInvoice.number).where(SupplierInvoice.supplier_id == supplier.id,
                                                             SupplierInvoice.supplier_number == supplier_number)):
        errors["supplier_number"] = [f"invoice {supplier_number} of {supplier.code} is already recorded"]
    if kind not in ("special", "ordinary"):
        errors["kind"] = ["special or ordinary"]
    if order.status == "cancelled":
        errors["order"] = [f"order {order.number} is cancelled"]
    wanted = _invoice_lines(order, skus_of(session, order), lines, errors)
    pricing.refuse_if(errors, "the supplier invoice was not recorded")
    when = issue_date or services._today()
    invoice = SupplierInvoice(number=pricing.next_number(session, SupplierInvoice, "BILL", when),
                              supplier_number=supplier_number, supplier_id=supplier.id, order_id=order.id, kind=kind,
                              issue_date=when, due_date=when + timedelta(days=supplier.payment_terms_days),
                              credited=Decimal("0.00"), paid=Decimal("0.00"), status="received",
                              created_at=clock.now(), created_by=by)
    for line, qty, price in wanted:
        amounts = pricing.line_amounts(qty, price, line.vat_rate)
        cleared = _cleared(session, line, qty)
        invoice.lines.append(SupplierInvoiceLine(order_line_id=line.id, quantity=qty, unit_price=price,
                                                 vat_rate=line.vat_rate, net=amounts.net, vat=amounts.vat,
                                                 gross=amounts.gross, cleared=cleared))
        line.invoiced += qty
    totals = pricing.totals(invoice.lines)
    invoice.net_total, invoice.vat_total, invoice.gross_total = totals.net, totals.vat, totals.gross
    session.add(invoice)
    session.flush()
    cleared = sum((x.cleared for x in invoice.lines), Decimal("0.00"))
    deductible = totals.vat if kind == "special" else Decimal("0.00")
    partner = {"partner_type": "supplier", "partner_code": supplier.code}
    entry = post(session, when, by, ("purchase_invoice", invoice.number),
                 f"供应商发票 {invoice.number} ({supplier_number}) {supplier.name_zh} 订单 {order.number}",
                 [("2241", cleared, partner), ("222101", deductible, {}),
                  ("1405", totals.gross - cleared - deductible, {}),
                  ("2202", -totals.gross, {**partner, "due_date": invoice.due_date})])
    invoice.journal_entry_id = entry.id if entry else None
    session.flush()
    return invoice


def resolve_exception(session, supplier_invoice, decision: str, *, note: str | None = None,
                      by: str | None = None, config=None) -> SupplierInvoice:
    """The buyer's decision on an invoice that failed the match: accept it as it is; dispute it (its entry
    is reversed, its quantities come off the order, the supplier is told, so a corrected invoice can be
    recorded); or wait for the supplier's credit note (record_supplier_credit)."""
    invoice = find_supplier_invoice(session, supplier_invoice, lock=True)
    if decision not in DECISIONS:
        raise InvalidInput(f"the decision is one of {', '.join(DECISIONS)}", {"decision": ["unknown"]})
    if invoice.status != "exception":
        raise InvalidInput(f"supplier invoice {invoice.number} is {invoice.status}, not an exception",
                           {"invoice": ["only an exception is resolved"]})
    invoice.match = {**(invoice.match or {}), "decision": decision, "decision_note": note, "decided_by": by}
    if decision == "accept":
        invoice.status = "accepted"
    elif decision == "dispute":
        _dispute(session, invoice, note, by, config)
    session.flush()
    return invoice


def record_supplier_credit(session, supplier_invoice, *, supplier_number: str, net, vat=None,
                           reason: str | None = None, issue_date: date | None = None,
                           by: str | None = None) -> SupplierCredit:
    """The supplier's credit note against an invoice: `net` (and `vat`, default net × the invoice's VAT
    rate) come off what we owe; the invoice is then accepted."""
    invoice = find_supplier_invoice(session, supplier_invoice, lock=True)
    errors: dict[str, list[str]] = {}
    if invoice.status in ("disputed", "paid"):
        errors["invoice"] = [f"supplier invoice {invoice.number} is {invoice.status}"]
    supplier_number = (supplier_number or "").strip()
    if not supplier_number:
        errors["supplier_number"] = ["required: the number of the supplier's credit note"]
    amount = pricing.number(net, 2, "net", errors)
    rate = _single_rate(invoice)
    tax = None
    if vat is not None:
        tax = pricing.number(vat, 2, "vat", errors, positive=False)
        if tax is not None and tax < 0:
            errors["vat"] = ["must not be negative"]
    elif rate is None:
        errors["vat"] = ["the invoice has several VAT rates: give the VAT of the credit"]
    elif amount is not None:
        tax = vat_of(amount, rate)
    when = issue_date or services._today()
    if when < invoice.issue_date:
        errors["issue_date"] = [f"on or after {invoice.issue_date}"]
    if amount is not None and tax is not None and amount + tax > invoice.outstanding:
        errors["net"] = [f"the credit's gross {amount + tax} exceeds the {invoice.outstanding} outstanding"]
    pricing.refuse_if(errors, "the supplier credit was not recorded")
    supplier = session.get(Supplier, invoice.supplier_id)
    credit = SupplierCredit(number=pricing.next_number(session, SupplierCredit, "SCN", when),
                            supplier_invoice_id=invoice.id, supplier_number=supplier_number, issue_date=when,
                            net=amount, vat=tax, gross=amount + tax, reason=reason, created_at=clock.now(),
                            created_by=by)
    session.add(credit)
    session.flush()
    excess = _take_back_excess(session, invoice, amount)
    deductible = tax if invoice.kind == "special" else Decimal("0.00")
    partner = {"partner_type": "supplier", "partner_code": supplier.code}
    entry = post(session, when, by, ("purchase_credit", credit.number),
                 f"供应商红字发票 {credit.number} ({supplier_number}) 冲减 {invoice.number} {supplier.name_zh}",
                 [("2202", credit.gross, partner), ("2241", -excess, partner), ("222101", -deductible, {}),
                  ("1405", -(credit.gross - excess - deductible), {})])
    credit.journal_entry_id = entry.id if entry else None
    invoice.credited += credit.gross
    if invoice.status in ("received", "matched", "exception"):
        invoice.status = "accepted"
    session.flush()
    return credit


def approve_for_payment(session, supplier_invoice) -> SupplierInvoice:
    """A matched or accepted invoice is released for payment."""
    invoice = find_supplier_invoice(session, supplier_invoice, lock=True)
    if invoice.status not in ("matched", "accepted"):
        raise InvalidInput(f"supplier invoice {invoice.number} is {invoice.status}",
                           {"invoice": ["only a matched or accepted invoice is approved for payment"]})
    invoice.status = "approved"
    session.flush()
    return invoice


def post(session, when, by, source, description, lines) -> JournalEntry | None:
    """Post (account, signed amount, extra) triples: positive is a debit, negative a credit, 0 is left out."""
    kept = [{"account": account, **({"debit": amount} if amount > 0 else {"credit": -amount}), **extra}
            for account, amount, extra in lines if amount]
    if not kept:
        return None
    return post_entry(session, date=when, user=by or SYSTEM, source=source, description=description, lines=kept)


def _invoice_lines(order, skus, lines, errors) -> list[tuple[PurchaseOrderLine, Decimal, Decimal]]:
    by_sku = {skus[x.product_id]: x for x in order.lines}
    if not isinstance(lines, (list, tuple)) or not lines:
        errors["lines"] = ["give at least one line of {sku, quantity, unit_price}"]
        return []
    wanted, seen = [], set()
    for i, item in enumerate(lines):
        line = by_sku.get(item.get("sku"))
        qty = pricing.number(item.get("quantity"), 3, f"lines[{i}].quantity", errors)
        price = pricing.number(item.get("unit_price"), 2, f"lines[{i}].unit_price", errors, positive=False)
        if line is None:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{item.get('sku')} is not on {order.number}")
            continue
        if line.id in seen:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{item.get('sku')} is on another line")
        seen.add(line.id)
        if price is not None and price < 0:
            errors.setdefault(f"lines[{i}].unit_price", []).append("must not be negative")
        elif qty is not None and line.invoiced + qty > line.quantity:
            errors.setdefault(f"lines[{i}].quantity", []).append(
                f"only {line.quantity - line.invoiced} ordered and not yet invoiced")
        elif qty is not None and price is not None:
            wanted.append((line, qty, price))
    return wanted


def _cleared(session, line: PurchaseOrderLine, qty: Decimal) -> Decimal:
    """What `qty` more invoiced takes off 2241 (see the rounding rule above)."""
    if line.invoiced + qty != line.received:
        return to_cents(qty * line.unit_price)
    received = session.scalar(select(func.coalesce(func.sum(GoodsReceiptLine.value), 0))
                              .where(GoodsReceiptLine.order_line_id == line.id))
    return Decimal(str(received)) - _standing_cleared(session, line.id)


def _standing_cleared(session, order_line_id: int) -> Decimal:
    total = session.scalar(select(func.coalesce(func.sum(SupplierInvoiceLine.cleared), 0))
                           .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
                           .where(SupplierInvoiceLine.order_line_id == order_line_id,
                                  SupplierInvoice.status.in_(STANDING)))
    return to_cents(Decimal(str(total)))


def _take_back_excess(session, invoice: SupplierInvoice, net: Decimal) -> Decimal:
    """When a credit covers every quantity the invoice billed beyond what was received, those quantities
    come off the order's invoiced and their value off 2241; returns that value (0 otherwise)."""
    excess = []
    for x in invoice.lines:
        line = session.get(PurchaseOrderLine, x.order_line_id)
        qty = min(x.quantity, line.invoiced - line.received)
        if qty > 0:
            excess.append((x, line, qty, min(to_cents(qty * line.unit_price), x.cleared)))
    value = sum((v for *_, v in excess), Decimal("0.00"))
    if not excess or net < value:
        return Decimal("0.00")
    for invoice_line, line, qty, part in excess:
        line.invoiced -= qty
        invoice_line.cleared -= part
    return value


def _single_rate(invoice: SupplierInvoice) -> Decimal | None:
    rates = {x.vat_rate for x in invoice.lines}
    return rates.pop() if len(rates) == 1 else None


def _dispute(session, invoice: SupplierInvoice, note: str | None, by: str | None, config) -> None:
    if invoice.journal_entry_id:
        reverse_entry(session, invoice.journal_entry_id, user=by or SYSTEM,
                      date=max(services._today(), invoice.issue_date),
                      description=f"冲销有争议的供应商发票 {invoice.number} ({invoice.supplier_number})")
    for x in invoice.lines:
        session.get(PurchaseOrderLine, x.order_line_id).invoiced -= x.quantity
    invoice.status = "disputed"
    supplier = session.get(Supplier, invoice.supplier_id)
    order = find_order(session, invoice.order_id)
    address = primary_email(session, supplier)
    if address:
        config = config or load_mail_config()
        problems = [x for x in (invoice.match or {}).get("lines", []) if x.get("status") != "ok"]
        enqueue(session, "purchase_dispute", to_email=address, locale="zh_CN", config=config,
                dedupe_key=f"purchase_dispute:{invoice.number}:supplier",
                context={"bill": invoice.number, "bill_id": invoice.id, "supplier_number": invoice.supplier_number,
                         "supplier_name": supplier.name_zh, "order": order.number, "issue_date": invoice.issue_date,
                         "gross_total": invoice.gross_total, "reason": note, "lines": problems,
                         "company_name": config.company_name, "buyer_name": display_name(session, order.buyer),
                         "copy": False})

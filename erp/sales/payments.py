"""Payments received (收款) against invoices, and the import of a bank statement (银行对账单) whose memo
names the invoice paid. Take a session, never commit.

A payment posts Dr 1002 银行存款 / Cr 1122 应收账款 (the customer) for its whole amount; only up to the
invoice's outstanding amount is applied to it, the rest stays the customer's unapplied credit.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.catalog.money import to_decimal
from erp.crm.models import Customer
from erp.finance.services import post_entry, today
from erp.sales import pricing
from erp.sales.fulfilment import SYSTEM, find_invoice, set_invoice_status
from erp.sales.models import Payment

INVOICE_NUMBER = re.compile(r"INV-\d{4}-\d{5}", re.IGNORECASE)
#: the column names banks use, per field (compared without spaces, case-insensitively)
COLUMNS = {
    "date": ("交易日期", "日期", "记账日期", "date", "transactiondate", "valuedate"),
    "amount": ("金额", "收入金额", "贷方金额", "收入", "amount", "credit"),
    "payer": ("付款人", "对方户名", "付款人名称", "对方账户名称", "payer", "counterparty"),
    "memo": ("摘要", "附言", "用途", "备注", "memo", "description", "reference"),
}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


def record_payment(session, invoice, amount, *, received_on: date | None = None, payer: str | None = None,
                   memo: str | None = None, by: str | None = None) -> Payment:
    """Record money received for `invoice` (its number or id); partial and over-payments are accepted."""
    invoice = find_invoice(session, invoice, lock=True)
    errors: dict[str, list[str]] = {}
    amount = pricing.number(amount, 2, "amount", errors)
    pricing.refuse_if(errors, "the payment was not recorded")
    when = received_on or today()
    applied = min(amount, max(invoice.outstanding, Decimal("0.00")))
    code = session.scalar(select(Customer.code).where(Customer.id == invoice.customer_id))
    payment = Payment(number=pricing.next_number(session, Payment, "RC", when), invoice_id=invoice.id,
                      customer_id=invoice.customer_id, received_on=when, amount=amount, applied=applied,
                      unapplied=amount - applied, payer=_fit(payer, 200), memo=_fit(memo, 500),
                      created_at=clock.now(), created_by=by)
    session.add(payment)
    session.flush()
    entry = post_entry(session, date=when, user=by or SYSTEM, source=("sales_payment", payment.number),
                       description=f"收款 {payment.number} 发票 {invoice.number} {payer or code}", lines=[
                           {"account": "1002", "debit": amount},
                           {"account": "1122", "credit": amount, "partner_type": "customer", "partner_code": code}])
    payment.journal_entry_id = entry.id
    invoice.paid += applied
    set_invoice_status(invoice)
    session.flush()
    return payment


def _fit(text: str | None, size: int) -> str | None:
    """A bank's free text cut to what the column holds (a statement's memo may run long)."""
    return text[:size] if text else text


def invoice_status(session, invoice) -> str:
    """open | partially_paid | paid."""
    return find_invoice(session, invoice).status


def import_bank_statement(session, csv_bytes: bytes, *, by: str | None = None) -> dict:
    """Record a payment for every incoming row whose memo names a known invoice.

    The file is UTF-8 (with or without BOM) or GB18030; columns are recognised by name (交易日期/date,
    金额/amount, 付款人/payer, 摘要/memo). Returns {"matched": [{row, invoice, amount, payment, status}],
    "unmatched": [{row, reason, ...}]}; the caller delivers `payment_received` for each matched invoice."""
    rows = _read_rows(csv_bytes)
    matched, unmatched = [], []
    for row_no, fields in rows:
        raw = {k: fields.get(k, "") for k in COLUMNS}
        found = INVOICE_NUMBER.search(raw["memo"] or "")
        try:
            amount, when = _amount(raw["amount"]), _date(raw["date"])
        except ValueError as exc:
            unmatched.append({"row": row_no, "reason": str(exc), **raw})
            continue
        if amount <= 0:
            unmatched.append({"row": row_no, "reason": "not an incoming payment", **raw})
            continue
        if found is None:
            unmatched.append({"row": row_no, "reason": "no invoice number in the memo", **raw})
            continue
        number = found.group(0).upper()
        try:  # refused before anything is written: an unknown invoice or a bad amount
            payment = record_payment(session, number, amount, received_on=when, payer=raw["payer"] or None,
                                     memo=raw["memo"] or None, by=by)
        except (NotFound, InvalidInput) as exc:
            unmatched.append({"row": row_no, "reason": str(exc), "invoice": number, **raw})
            continue
        matched.append({"row": row_no, "invoice": number, "amount": amount, "payment": payment.number,
                        "status": invoice_status(session, number)})
    return {"matched": matched, "unmatched": unmatched}


def decode_statement(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) or, failing that, GB18030 (what Chinese banks' exports use)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(decode_statement(data)))
    header = next(reader, None)
    if not header:
        raise InvalidInput("the statement is empty", {"file": ["no header row"]})
    names = {_key(name): i for i, name in enumerate(header)}
    positions = {}
    for field, aliases in COLUMNS.items():
        hit = next((names[_key(a)] for a in aliases if _key(a) in names), None)
        if hit is not None:
            positions[field] = hit
    missing = [f for f in ("date", "amount", "memo") if f not in positions]
    if missing:
        raise InvalidInput(f"the statement has no column for {', '.join(missing)}",
                           {"file": [f"missing column: {f}" for f in missing]})
    rows = []
    for row_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        rows.append((row_no, {f: cells[i].strip() if i < len(cells) else "" for f, i in positions.items()}))
    return rows


def _key(name: str) -> str:
    return "".join(name.split()).lower()


def _amount(text: str) -> Decimal:
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").replace("CNY", "").strip()
    try:
        return to_decimal(cleaned, 2)
    except ValueError:
        raise ValueError(f"bad amount {text!r}") from None


def _date(text: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"bad date {text!r}")

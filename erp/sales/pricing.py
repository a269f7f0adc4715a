"""The arithmetic of sales documents, and their numbers.

The rounding rule (as on a Golden Tax invoice, one line at a time): a line's net amount is
quantity × unit price × (1 − line discount %) × (1 − document discount %), rounded half-up to the cent; its
VAT is net × rate, rounded half-up to the cent (erp.catalog.money.vat_of); its gross is net + VAT. A document's
net, VAT and gross totals are the sums of its lines, so gross = net + VAT always holds, on every document.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core.errors import InvalidInput
from erp.catalog.money import to_cents, to_decimal, vat_of

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Amounts:
    net: Decimal
    vat: Decimal
    gross: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, vat_rate: Decimal, discount_percent: Decimal = ZERO,
                 document_discount: Decimal = ZERO) -> Amounts:
    """The amounts of one line under the rule above."""
    net = to_cents(quantity * unit_price * (1 - discount_percent / HUNDRED) * (1 - document_discount / HUNDRED))
    vat = vat_of(net, vat_rate)
    return Amounts(net, vat, net + vat)


def effective_discount(line_percent: Decimal, document_percent: Decimal) -> Decimal:
    """The total discount of a line in per cent: 10 % on the line and 5 % on the document make 14.5 %."""
    kept = (1 - line_percent / HUNDRED) * (1 - document_percent / HUNDRED)
    return ((1 - kept) * HUNDRED).quantize(Decimal("0.01"))


def totals(lines) -> Amounts:
    """The sums of lines that have net, vat and gross."""
    net = sum((x.net for x in lines), ZERO)
    vat = sum((x.vat for x in lines), ZERO)
    return Amounts(net, vat, net + vat)


def percent(value, field: str, errors: dict) -> Decimal | None:
    try:
        number = to_decimal(value if value is not None else "0", 2)
    except ValueError as exc:
        errors.setdefault(field, []).append(str(exc))
        return None
    if not Decimal(0) <= number <= HUNDRED:
        errors.setdefault(field, []).append("a discount is between 0 and 100 per cent")
        return None
    return number


def number(value, places: int, field: str, errors: dict, *, positive: bool = True) -> Decimal | None:
    try:
        result = to_decimal(value, places)
    except ValueError as exc:
        errors.setdefault(field, []).append(str(exc))
        return None
    if positive and result <= 0:
        errors.setdefault(field, []).append("must be more than zero")
        return None
    return result


def refuse_if(errors: dict, message: str) -> None:
    if errors:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        raise InvalidInput(f"{message}: {details}", errors)


def next_number(session, model, prefix: str, on: date) -> str:
    """PREFIX-YYYY-00001, one more than the highest of that year; the unique constraint on `number` turns a
    concurrent duplicate into a refused transaction rather than two documents with one number."""
    stem = f"{prefix}-{on.year}-"
    last = session.scalar(select(func.max(model.number)).where(model.number.like(f"{stem}%")))
    return f"{stem}{(int(last[len(stem):]) if last else 0) + 1:05d}"

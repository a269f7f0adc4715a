"""Money and VAT arithmetic in Decimal (never float), rounded half-up to the cent (分) as invoices are."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
#: the VAT rates in use: 13% goods, 9% transport/agricultural, 6% services, 0% exempt or export
VAT_RATES = (Decimal("0.13"), Decimal("0.09"), Decimal("0.06"), Decimal("0.00"))
DEFAULT_VAT_RATE = Decimal("0.13")


def to_decimal(value, places: int) -> Decimal:
    """`value` (Decimal, int or numeric text) as a Decimal; ValueError for floats, non-numbers, NaN, infinity
    or more than `places` decimals (silently rounding a price or a quantity would hide an input mistake)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("give the number as text or Decimal, not as a float")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if number != number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        raise ValueError(f"at most {places} decimal places")
    return number


def to_cents(amount: Decimal) -> Decimal:
    _require_decimal(amount)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_of(amount: Decimal, rate: Decimal) -> Decimal:
    """The VAT (税额) on a net amount, rounded to the cent."""
    _require_decimal(amount, rate)
    return to_cents(amount * rate)


def with_vat(amount: Decimal, rate: Decimal) -> Decimal:
    """The gross amount (价税合计): the net rounded to the cent plus the VAT on it, so gross = net + tax."""
    net = to_cents(amount)
    return net + vat_of(net, rate)


def _require_decimal(*values) -> None:
    for value in values:
        if not isinstance(value, Decimal):
            raise TypeError(f"money arithmetic takes Decimal, not {type(value).__name__}")

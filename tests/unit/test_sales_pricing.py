"""The rounding rule of sales documents: per line, half-up to the cent, totals are sums of lines."""
from __future__ import annotations

from decimal import Decimal

from erp.sales.pricing import Amounts, effective_discount, line_amounts, totals

M = Decimal


def test_a_line_rounds_net_and_vat_half_up_to_the_cent():
    # 3 × 3.335 = 10.005 → 10.01; VAT 13 % of 10.01 = 1.3013 → 1.30
    assert line_amounts(M("3"), M("3.335"), M("0.13")) == Amounts(M("10.01"), M("1.30"), M("11.31"))
    # 0.5 × 0.05 VAT 9 %: net 0.03 (0.025 half-up), VAT 0.0027 → 0.00
    assert line_amounts(M("0.5"), M("0.05"), M("0.09")) == Amounts(M("0.03"), M("0.00"), M("0.03"))


def test_the_line_and_document_discounts_multiply():
    amounts = line_amounts(M("10"), M("99.99"), M("0.13"), M("10"), M("5"))
    assert amounts.net == M("854.91")  # 999.90 × 0.9 × 0.95 = 854.9145
    assert amounts.vat == M("111.14") and amounts.gross == M("966.05")
    assert effective_discount(M("10"), M("5")) == M("14.50")
    assert effective_discount(M("0"), M("0")) == M("0.00")


def test_totals_are_the_sums_of_the_rounded_lines_not_a_rounding_of_the_sum():
    lines = [line_amounts(M("1"), M("0.05"), M("0.13")) for _ in range(3)]  # VAT 0.0065 → 0.01 each
    assert totals(lines) == Amounts(M("0.15"), M("0.03"), M("0.18"))


def test_a_full_discount_gives_zero_amounts():
    assert line_amounts(M("2"), M("50"), M("0.06"), M("100")) == Amounts(M("0.00"), M("0.00"), M("0.00"))

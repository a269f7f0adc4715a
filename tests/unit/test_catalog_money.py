"""VAT and money arithmetic: Decimal only, half-up to the cent."""
from __future__ import annotations

from decimal import Decimal

import pytest

from erp.catalog.money import to_cents, to_decimal, vat_of, with_vat

D = Decimal


@pytest.mark.parametrize("net, rate, gross", [
    (D("100.00"), D("0.13"), D("113.00")),
    (D("0.05"), D("0.13"), D("0.06")),      # 0.0065 of tax rounds half-up to 0.01
    (D("0.03"), D("0.13"), D("0.03")),      # 0.0039 rounds down
    (D("10.50"), D("0.09"), D("11.45")),    # 0.945 → 0.95
    (D("33.33"), D("0.06"), D("35.33")),    # 1.9998 → 2.00
    (D("99.99"), D("0.00"), D("99.99")),
])
def test_with_vat_adds_the_tax_rounded_half_up_to_the_cent(net, rate, gross):
    assert with_vat(net, rate) == gross
    assert with_vat(net, rate) == to_cents(net) + vat_of(net, rate)


def test_half_a_cent_rounds_up_not_to_even():
    assert to_cents(D("0.125")) == D("0.13") and to_cents(D("0.135")) == D("0.14")
    assert vat_of(D("0.50"), D("0.09")) == D("0.05")  # 0.045 → 0.05 (banker's rounding would give 0.04)


def test_the_net_is_rounded_before_the_tax_so_net_plus_tax_is_the_gross():
    net = D("3") * D("3.335")  # 10.005: a price times a quantity
    assert with_vat(net, D("0.13")) == D("10.01") + D("1.30")


@pytest.mark.parametrize("bad", [0.1, 1.0])
def test_money_arithmetic_refuses_floats(bad):
    with pytest.raises(TypeError):
        with_vat(bad, D("0.13"))
    with pytest.raises(TypeError):
        vat_of(D("1"), bad)


@pytest.mark.parametrize("value, places, expected", [("12.5", 2, D("12.5")), (3, 3, D(3)), (D("0.125"), 3, D("0.125"))])
def test_to_decimal_reads_text_ints_and_decimals(value, places, expected):
    assert to_decimal(value, places) == expected


@pytest.mark.parametrize("value, places", [(1.5, 2), ("abc", 2), ("1.234", 2), ("NaN", 2), ("Infinity", 3), (True, 2)])
def test_to_decimal_refuses_floats_non_numbers_and_too_many_decimals(value, places):
    with pytest.raises(ValueError):
        to_decimal(value, places)

"""Products and price lists: creation, the refusals with their per-field errors, and price_of."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.catalog.models import PriceList, Product
from erp.catalog.queries import price_of, product_by_sku, products
from erp.catalog.services import create_price_list, create_product, set_price, update_product
from tests.stock_data import product

D = Decimal


def test_a_product_keeps_its_names_unit_and_the_default_vat_rate(tx):
    with tx() as session:
        product(session, "TEA-500", name_zh="龙井茶 500克", name_en="Longjing tea 500 g", unit="盒", unit_en="box",
                category="tea", barcode="6901234567892")
    with tx(readonly=True) as session:
        row = product_by_sku(session, "TEA-500")
        assert (row.name_zh, row.unit, row.unit_en, row.category) == ("龙井茶 500克", "盒", "box", "tea")
        assert row.vat_rate == D("0.13") and row.active and row.barcode == "6901234567892"


def test_a_duplicate_sku_an_unknown_vat_rate_and_missing_names_are_refused_field_by_field(tx):
    with tx() as session:
        product(session, "TEA-500")
    with pytest.raises(InvalidInput) as refused:
        with tx() as session:
            create_product(session, sku="TEA-500", name_zh="", name_en="Tea", unit="盒", unit_en="box",
                           vat_rate="0.17")
    assert set(refused.value.errors) == {"sku", "name_zh", "vat_rate"}
    assert "already exists" in refused.value.errors["sku"][0]
    assert "unknown VAT rate 0.17" in refused.value.errors["vat_rate"][0]
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 1


@pytest.mark.parametrize("rate", ["0.13", "0.09", "0.06", "0", D("0.00")])
def test_every_chinese_vat_rate_is_accepted(tx, rate):
    with tx() as session:
        assert product(session, "X", vat_rate=rate).vat_rate == D(rate)


def test_update_changes_fields_and_refuses_unknown_ones_and_bad_rates(tx):
    with tx() as session:
        product(session, "TEA-500")
        update_product(session, "TEA-500", vat_rate="0.09", active=False, category="farm")
    with tx(readonly=True) as session:
        row = product_by_sku(session, "TEA-500")
        assert (row.vat_rate, row.active, row.category) == (D("0.09"), False, "farm")
        assert products(session) == [] and [p.sku for p in products(session, active_only=False)] == ["TEA-500"]
    with pytest.raises(InvalidInput) as refused:
        with tx() as session:
            update_product(session, "TEA-500", sku="NEW", colour="red")
    assert set(refused.value.errors) == {"sku", "colour"}
    with pytest.raises(InvalidInput, match="vat_rate"):
        with tx() as session:
            update_product(session, "TEA-500", vat_rate=0.13)  # a float is refused, not rounded
    with pytest.raises(NotFound):
        with tx() as session:
            update_product(session, "NOPE", active=True)


def test_a_negative_price_an_unknown_list_and_an_unknown_sku_are_refused(tx):
    with tx() as session:
        product(session, "TEA-500")
        create_price_list(session, name="标准价 Standard", is_default=True)
    with pytest.raises(InvalidInput) as refused:
        with tx() as session:
            set_price(session, "标准价 Standard", "TEA-500", "-1.00", min_quantity=0)
    assert set(refused.value.errors) == {"unit_price", "min_quantity"}
    with pytest.raises(InvalidInput) as refused:
        with tx() as session:
            set_price(session, "Other", "NOPE", "1.005")
    assert set(refused.value.errors) == {"price_list", "sku", "unit_price"}


def test_price_list_checks_its_name_currency_and_dates_and_one_default_at_a_time(tx):
    with pytest.raises(InvalidInput) as refused:
        with tx() as session:
            create_price_list(session, name=" ", currency="USD", valid_from=date(2027, 2, 1),
                              valid_to=date(2027, 1, 1))
    assert set(refused.value.errors) == {"name", "currency", "valid_to"}
    with tx() as session:
        create_price_list(session, name="A", is_default=True)
        create_price_list(session, name="B", is_default=True)
    with tx(readonly=True) as session:
        assert session.scalars(select(PriceList.name).where(PriceList.is_default)).all() == ["B"]


@pytest.fixture
def priced(tx):
    with tx() as session:
        product(session, "TEA-500")
        create_price_list(session, name="2027", valid_from=date(2027, 1, 1), valid_to=date(2027, 12, 31),
                          is_default=True)
        set_price(session, "2027", "TEA-500", "100.00")
        set_price(session, "2027", "TEA-500", "95.00", min_quantity=10)
        set_price(session, "2027", "TEA-500", "90.00", min_quantity=100)
        create_price_list(session, name="经销商 Dealer")
        set_price(session, "经销商 Dealer", "TEA-500", "80.00")


@pytest.mark.parametrize("qty, price", [(1, "100.00"), ("9.999", "100.00"), (10, "95.00"), (99, "95.00"),
                                        (100, "90.00"), (5000, "90.00")])
def test_the_volume_price_with_the_highest_minimum_not_above_the_quantity_applies(priced, tx, qty, price):
    with tx(readonly=True) as session:
        assert price_of(session, "TEA-500", qty, on=date(2027, 6, 1)) == D(price)


def test_a_named_list_wins_over_the_default(priced, tx):
    with tx(readonly=True) as session:
        assert price_of(session, "TEA-500", 500, price_list="经销商 Dealer", on=date(2027, 6, 1)) == D("80.00")


def test_setting_a_price_again_replaces_it(priced, tx):
    with tx() as session:
        set_price(session, "2027", "TEA-500", "99.50")
        assert price_of(session, "TEA-500", 1, on=date(2027, 6, 1)) == D("99.50")


@pytest.mark.parametrize("day", [date(2026, 12, 31), date(2028, 1, 1)])
def test_outside_its_validity_a_list_gives_no_price(priced, tx, day):
    with tx(readonly=True) as session:
        with pytest.raises(NotFound, match="no default price list valid"):
            price_of(session, "TEA-500", 1, on=day)
        assert price_of(session, "TEA-500", 1, on=day.replace(year=2027)) == D("100.00")


def test_today_is_the_day_in_beijing(priced, tx):
    # 16:30 UTC on 31 December 2026 is already 1 January 2027, 00:30 in Beijing
    with clock.frozen(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)), tx(readonly=True) as session:
        assert price_of(session, "TEA-500", 1) == D("100.00")
    with clock.frozen(datetime(2026, 12, 31, 15, 30, tzinfo=UTC)), tx(readonly=True) as session:
        with pytest.raises(NotFound):
            price_of(session, "TEA-500", 1)


def test_no_price_below_the_lowest_minimum_and_bad_quantities_are_refused(tx):
    with tx() as session:
        product(session, "BOX")
        create_price_list(session, name="Bulk", is_default=True)
        set_price(session, "Bulk", "BOX", "5.00", min_quantity=50)
    with tx(readonly=True) as session:
        with pytest.raises(NotFound, match="no price for BOX"):
            price_of(session, "BOX", 49)
        for bad in (0, "-1", "x"):
            with pytest.raises(InvalidInput):
                price_of(session, "BOX", bad)
        with pytest.raises(NotFound):
            price_of(session, "NOPE", 1)

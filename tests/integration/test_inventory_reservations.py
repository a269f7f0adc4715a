"""Reservations for orders: all lines or none with the shortages reported, release, and partial delivery."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidInput
from erp.inventory.levels import InsufficientStock
from erp.inventory.queries import available, moves_of, stock
from erp.inventory.reservations import consume, release, remaining, reserve
from erp.inventory.services import adjust, issue, receive
from tests.stock_data import assert_stock_consistent, product, snapshot, warehouse

D = Decimal
ORDER = ("sales_order", 42)


@pytest.fixture
def shop(tx):
    with tx() as session:
        for sku in ("SCREW", "NUT", "BOLT"):
            product(session, sku)
        warehouse(session, "BJ")
        warehouse(session, "SH", name_zh="上海仓", name_en="Shanghai")
        receive(session, "SCREW", "BJ", 10, unit_cost="1.00")
        receive(session, "SCREW", "SH", 4, unit_cost="1.00")
        receive(session, "NUT", "BJ", 5, unit_cost="0.50")


def test_all_lines_are_reserved_and_taken_out_of_available_stock(shop, tx):
    with tx() as session:
        result = reserve(session, ORDER, [{"sku": "SCREW", "quantity": 8}, {"sku": "NUT", "quantity": "2.5"}], "BJ")
    assert result.reserved and result.shortages == []
    assert result.lines == [{"sku": "SCREW", "warehouse": "BJ", "quantity": 8},
                            {"sku": "NUT", "warehouse": "BJ", "quantity": D("2.5")}]
    with tx(readonly=True) as session:
        [screw_bj] = stock(session, "SCREW", "BJ")
        assert (screw_bj.on_hand, screw_bj.reserved, screw_bj.available) == (10, 8, 2)
        assert remaining(session, ORDER) == [{"sku": "SCREW", "quantity": 8}, {"sku": "NUT", "quantity": D("2.5")}]
        assert_stock_consistent(session)


def test_one_short_line_reserves_nothing_and_reports_every_shortage(shop, tx):
    with tx() as session:
        before = snapshot(session)
        result = reserve(session, ORDER, [{"sku": "SCREW", "quantity": 11}, {"sku": "NUT", "quantity": 1},
                                          {"sku": "BOLT", "quantity": 2}], warehouse="BJ")
        assert snapshot(session) == before
    assert not result.reserved and result.lines == []
    assert result.shortages == [{"sku": "SCREW", "requested": 11, "available": 10, "short": 1},
                                {"sku": "BOLT", "requested": 2, "available": 0, "short": 2}]
    assert result.as_data()["reserved"] is False


def test_without_a_warehouse_a_line_is_taken_from_the_fullest_warehouses_first(shop, tx):
    with tx() as session:
        result = reserve(session, ORDER, [("SCREW", 9), ("SCREW", 3)])  # repeated lines are added up
    assert result.lines == [{"sku": "SCREW", "warehouse": "BJ", "quantity": 10},
                            {"sku": "SCREW", "warehouse": "SH", "quantity": 2}]
    with tx() as session:
        second = reserve(session, ("sales_order", 43), [("SCREW", 3)])
        assert second.shortages == [{"sku": "SCREW", "requested": 3, "available": 2, "short": 1}]
        assert available(session, "SCREW") == 2


def test_reserved_stock_cannot_be_issued_transferred_or_counted_away(shop, tx):
    with tx() as session:
        reserve(session, ORDER, [("NUT", 4)], "BJ")
    with tx() as session:
        before = snapshot(session)
        with pytest.raises(InsufficientStock, match="only 1 of NUT free"):
            issue(session, "NUT", "BJ", 2)
        with pytest.raises(InsufficientStock, match="below the 4 reserved"):
            adjust(session, "NUT", "BJ", 3, "count")
        assert snapshot(session) == before
        adjust(session, "NUT", "BJ", 4, "two lost, the reserved ones are there")


def test_release_gives_back_what_is_still_held_and_twice_is_harmless(shop, tx):
    with tx() as session:
        reserve(session, ORDER, [("SCREW", 12)])
        consume(session, ORDER, [("SCREW", 10)])  # all of BJ's share
        released = release(session, ORDER)
        assert released == [{"sku": "SCREW", "warehouse": "SH", "quantity": 2}]
        assert release(session, ORDER) == [] and remaining(session, ORDER) == []
        assert available(session, "SCREW", "SH") == 4
        assert_stock_consistent(session)


def test_a_delivery_may_be_partial_and_issues_the_stock_at_average_cost(shop, tx):
    with tx() as session:
        reserve(session, "sales_order:42", [("SCREW", 12), ("NUT", 5)])
    with tx() as session:
        first = consume(session, ORDER, [{"sku": "SCREW", "quantity": 11}, {"sku": "NUT", "quantity": 2}], by="chen")
    assert first.delivered == [{"sku": "SCREW", "warehouse": "BJ", "quantity": 10},
                               {"sku": "SCREW", "warehouse": "SH", "quantity": 1},
                               {"sku": "NUT", "warehouse": "BJ", "quantity": 2}]
    assert first.remaining == [{"sku": "SCREW", "quantity": 1}, {"sku": "NUT", "quantity": 3}]
    with tx() as session:
        assert [(r.on_hand, r.reserved) for r in stock(session, "SCREW")] == [(0, 0), (3, 1)]
        [latest, *_] = moves_of(session, "SCREW")
        assert (latest["kind"], latest["reference"], latest["by"], latest["unit_cost"]) == (
            "issue", ("sales_order", "42"), "chen", D("1"))
        last = consume(session, ORDER, [("SCREW", 1), ("NUT", 3)])
        assert last.remaining == []
        assert_stock_consistent(session)


def test_delivering_more_than_is_reserved_is_refused_with_nothing_written(shop, tx):
    with tx() as session:
        reserve(session, ORDER, [("SCREW", 2), ("NUT", 1)], "BJ")
    with tx() as session:
        before = snapshot(session)
        with pytest.raises(InsufficientStock) as refused:
            consume(session, ORDER, [("SCREW", 2), ("NUT", 2), ("BOLT", 1)])
        assert refused.value.errors == {"lines[1].quantity": ["only 1 of NUT reserved for sales_order 42"],
                                        "lines[2].quantity": ["only 0 of BOLT reserved for sales_order 42"]}
        with pytest.raises(InvalidInput) as refused:
            consume(session, ORDER, [("GHOST", 1), {"sku": "NUT"}, "junk"])
        assert set(refused.value.errors) == {"lines[0].sku", "lines[1].quantity", "lines[2]"}
        for bad in ([], None):
            with pytest.raises(InvalidInput, match="at least one line"):
                reserve(session, ORDER, bad)
        with pytest.raises(InvalidInput, match="bad reference"):
            reserve(session, "no-colon", [("SCREW", 1)])
        with pytest.raises(InvalidInput, match="no warehouse with code XX"):
            reserve(session, ORDER, [("SCREW", 1)], "XX")
        assert snapshot(session) == before

"""Receipts, issues, transfers and count adjustments; every refusal writes nothing; the database's CHECK
constraints hold even against code that bypasses the services."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidInput
from erp.inventory.levels import InsufficientStock
from erp.inventory.models import StockLevel
from erp.inventory.queries import available, below_reorder_point, moves_of, stock, stock_value
from erp.inventory.services import adjust, create_warehouse, issue, receive, set_reorder_point, transfer
from tests.stock_data import assert_stock_consistent, product, snapshot, warehouse

D = Decimal


@pytest.fixture
def shop(tx):
    with tx() as session:
        product(session, "SCREW")
        product(session, "NUT", name_zh="螺母", name_en="Nut")
        warehouse(session, "BJ")
        warehouse(session, "SH", name_zh="上海仓", name_en="Shanghai")


def level(session, sku="SCREW", code="BJ"):
    [row] = stock(session, sku, code)
    return row


def test_a_receipt_puts_stock_on_hand_and_records_the_move(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", "10.5", unit_cost="2.00", reference=("purchase_order", 7), by="wang",
                note="first delivery")
    with tx(readonly=True) as session:
        row = level(session)
        assert (row.on_hand, row.reserved, row.available, row.average_cost) == (D("10.5"), 0, D("10.5"), D("2"))
        [move] = moves_of(session, "SCREW")
        assert (move["kind"], move["from"], move["to"], move["quantity"], move["unit_cost"]) == (
            "receipt", None, "BJ", D("10.5"), D("2"))
        assert (move["reference"], move["by"], move["note"]) == (("purchase_order", "7"), "wang", "first delivery")
        assert_stock_consistent(session)


def test_receipts_keep_a_moving_average_cost_and_the_stock_value_follows(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", 10, unit_cost="2.00")
        receive(session, "SCREW", "BJ", 30, unit_cost="3.00")     # (20 + 90) / 40 = 2.75
        issue(session, "SCREW", "BJ", 20)                          # an issue leaves the average alone
        receive(session, "SCREW", "BJ", 5, unit_cost="1.00")      # (20 × 2.75 + 5) / 25 = 2.40
        receive(session, "SCREW", "BJ", 3)                          # no cost given: valued at the average
        receive(session, "NUT", "SH", 3, unit_cost="0.333")
    with tx(readonly=True) as session:
        assert level(session).average_cost == D("2.40") and level(session).on_hand == 28
        assert level(session).value == D("67.20")
        assert [m["unit_cost"] for m in moves_of(session, "SCREW")] == [D("2.4"), D("1"), D("2.75"), D("3"), D("2")]
        assert stock_value(session) == D("68.20") and stock_value(session, "SH") == D("1.00")


def test_an_average_cost_that_does_not_divide_evenly_rounds_half_up_to_four_places(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", 3, unit_cost="1.00")
        receive(session, "SCREW", "BJ", 3, unit_cost="1.0001")   # 1.00005 → 1.0001
        assert level(session).average_cost == D("1.0001")


def test_issue_takes_only_free_stock(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", 5)
        issue(session, "SCREW", "BJ", 2, reference="sales_order:9")
    with tx() as session:
        before = snapshot(session)
        with pytest.raises(InsufficientStock, match="only 3 of SCREW free in BJ") as refused:
            issue(session, "SCREW", "BJ", 4)
        assert refused.value.errors == {"quantity": ["only 3 of SCREW free in BJ"]}
        with pytest.raises(InsufficientStock):
            issue(session, "SCREW", "SH", 1)  # nothing ever held there
        assert snapshot(session) == before
    with tx(readonly=True) as session:
        assert available(session, "SCREW") == 3
        assert moves_of(session, "SCREW")[0]["reference"] == ("sales_order", "9")


@pytest.mark.parametrize("operation, fields", [
    (lambda s: receive(s, "NOPE", "XX", 0), {"sku", "warehouse", "quantity"}),
    (lambda s: receive(s, "SCREW", "BJ", "-1", unit_cost="-2"), {"quantity", "unit_cost"}),
    (lambda s: receive(s, "SCREW", "BJ", "1.0001"), {"quantity"}),
    (lambda s: issue(s, "SCREW", "BJ", "abc"), {"quantity"}),
    (lambda s: transfer(s, "SCREW", "BJ", "BJ", 1), {"to_warehouse"}),
    (lambda s: transfer(s, "SCREW", "XX", "YY", 1), {"from_warehouse", "to_warehouse"}),
    (lambda s: adjust(s, "SCREW", "BJ", -1, ""), {"counted", "reason"}),
])
def test_bad_input_is_refused_field_by_field_with_nothing_written(shop, tx, operation, fields):
    with tx() as session:
        receive(session, "SCREW", "BJ", 5)
    with tx() as session:
        before = snapshot(session)
        with pytest.raises(InvalidInput) as refused:
            operation(session)
        assert set(refused.value.errors) == fields
        assert snapshot(session) == before


def test_a_transfer_moves_free_stock_at_the_source_average_cost(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", 10, unit_cost="4.00")
        receive(session, "SCREW", "SH", 10, unit_cost="2.00")
        transfer(session, "SCREW", "BJ", "SH", 6, by="li")
    with tx() as session:
        assert (level(session, code="BJ").on_hand, level(session, code="SH").on_hand) == (4, 16)
        assert level(session, code="SH").average_cost == D("2.75")  # (20 + 24) / 16
        transfer(session, "SCREW", "SH", "BJ", 16)
        assert level(session, code="SH").on_hand == 0 and level(session, code="BJ").average_cost == D("3.0")
        before = snapshot(session)
        with pytest.raises(InsufficientStock, match="only 0"):
            transfer(session, "SCREW", "SH", "BJ", 1)
        with pytest.raises(InsufficientStock, match="only 0 of NUT"):
            transfer(session, "NUT", "SH", "BJ", 1)
        assert snapshot(session) == before
        assert_stock_consistent(session)


def test_a_count_adjustment_records_the_difference_with_its_reason(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", 10, unit_cost="2.00")
        lost = adjust(session, "SCREW", "BJ", 7, "盘亏 three broken", by="zhao")
        found = adjust(session, "SCREW", "BJ", "7.5", "盘盈 found half a box")
        assert adjust(session, "SCREW", "BJ", "7.5", "count agrees") is None
        created = adjust(session, "NUT", "SH", 4, "first count")
    assert (lost.kind, lost.quantity, lost.from_warehouse_id, lost.to_warehouse_id) == (
        "adjustment", 3, lost.from_warehouse_id, None)
    assert (found.quantity, found.note, found.unit_cost) == (D("0.5"), "盘盈 found half a box", D("2"))
    assert created.quantity == 4
    with tx(readonly=True) as session:
        assert level(session).on_hand == D("7.5") and level(session, "NUT", "SH").on_hand == 4
        assert_stock_consistent(session)


def test_products_below_their_reorder_point_are_listed_with_what_to_order(shop, tx):
    with tx() as session:
        receive(session, "SCREW", "BJ", 50)
        receive(session, "NUT", "BJ", 100)
        set_reorder_point(session, "SCREW", "BJ", 40, 200)
        set_reorder_point(session, "NUT", "BJ", 20, 500)
        set_reorder_point(session, "NUT", "SH", 5, 50)            # nothing there at all
        create_warehouse(session, code="GZ", name_zh="广州仓", name_en="Guangzhou")
        set_reorder_point(session, "SCREW", "GZ", 0, 10)          # minimum 0: never below
    with tx(readonly=True) as session:
        assert [(r.sku, r.warehouse) for r in below_reorder_point(session)] == [("NUT", "SH")]
    with tx() as session:
        issue(session, "SCREW", "BJ", 11)
        set_reorder_point(session, "NUT", "SH", 5, 80)            # changes the existing point
    with tx(readonly=True) as session:
        rows = below_reorder_point(session)
        assert [(r.sku, r.warehouse, r.available, r.minimum, r.reorder_quantity) for r in rows] == [
            ("NUT", "SH", 0, 5, 80), ("SCREW", "BJ", 39, 40, 200)]
    with pytest.raises(InvalidInput) as refused:
        with tx() as session:
            set_reorder_point(session, "SCREW", "BJ", -1, 0)
    assert set(refused.value.errors) == {"minimum", "reorder_quantity"}


@pytest.mark.parametrize("values", [dict(on_hand=-1, reserved=0), dict(on_hand=1, reserved=2),
                                    dict(on_hand=1, reserved=-1)])
def test_the_database_itself_refuses_negative_stock_and_over_reservation(shop, tx, values):
    with tx() as session:
        receive(session, "SCREW", "BJ", 1)
    with pytest.raises(IntegrityError):
        with tx() as session:
            session.execute(update(StockLevel).values(**values))


def test_a_service_is_never_kept_in_stock(tx, shop):
    with tx() as session:
        product(session, "INSTALL", name_zh="安装服务", name_en="Installation", stocked=False)
    with tx() as session:
        with pytest.raises(InvalidInput) as refused:
            receive(session, "INSTALL", "BJ", 5, unit_cost="10.00")
        assert "service" in str(refused.value.errors["sku"])
        with pytest.raises(InvalidInput):
            set_reorder_point(session, "INSTALL", "BJ", 1, 5)

"""Small factories and checks for catalogue and inventory tests."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from erp.catalog.services import create_product
from erp.inventory.models import StockLevel, StockMove, StockReservation
from erp.inventory.queries import sum_of_moves
from erp.inventory.services import create_warehouse


def product(session, sku="SCREW-M4", **fields):
    defaults = dict(name_zh="螺丝 M4", name_en="Screw M4", unit="个", unit_en="piece")
    return create_product(session, sku=sku, **{**defaults, **fields})


def warehouse(session, code="BJ-01", **fields):
    defaults = dict(name_zh="北京一号仓", name_en="Beijing warehouse 1", address="北京市朝阳区")
    return create_warehouse(session, code=code, **{**defaults, **fields})


def snapshot(session) -> tuple:
    """Everything a stock operation could write, to prove a refusal wrote nothing."""
    session.flush()
    levels = sorted((lv.product_id, lv.warehouse_id, lv.on_hand, lv.reserved, lv.average_cost)
                    for lv in session.scalars(select(StockLevel).execution_options(populate_existing=True)))
    moves = session.scalars(select(StockMove.id).order_by(StockMove.id)).all()
    reservations = sorted((r.id, r.status, r.consumed) for r in session.scalars(
        select(StockReservation).execution_options(populate_existing=True)))
    return levels, moves, reservations


def assert_stock_consistent(session, product_ids=None) -> None:
    """No level negative, reserved ≤ on hand, on hand = Σ moves, reserved = Σ open reservations."""
    held = defaultdict(Decimal)
    for r in session.scalars(select(StockReservation).where(StockReservation.status == "active")):
        held[r.product_id, r.warehouse_id] += r.quantity - r.consumed
    query = select(StockLevel).execution_options(populate_existing=True)
    if product_ids is not None:
        query = query.where(StockLevel.product_id.in_(product_ids))
    for level in session.scalars(query):
        where = (level.product_id, level.warehouse_id)
        assert level.on_hand >= 0 and level.reserved >= 0, where
        assert level.reserved <= level.on_hand, where
        assert level.on_hand == sum_of_moves(session, *where), where
        assert level.reserved == held[where], where

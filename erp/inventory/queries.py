"""Reading stock: levels with what is available, the moves of a product, what needs reordering, and the
value of the stock at its moving average cost."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from erp.catalog.models import Product
from erp.catalog.money import to_cents
from erp.inventory.models import ReorderPoint, StockLevel, StockMove, Warehouse


@dataclass(frozen=True)
class StockRow:
    sku: str
    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    average_cost: Decimal
    value: Decimal  # on hand at average cost, to the cent


@dataclass(frozen=True)
class ReorderRow:
    sku: str
    warehouse: str
    available: Decimal
    minimum: Decimal
    reorder_quantity: Decimal


def stock(session, sku: str | None = None, warehouse: str | None = None) -> list[StockRow]:
    query = (select(StockLevel, Product.sku, Warehouse.code)
             .join(Product, Product.id == StockLevel.product_id)
             .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
             .order_by(Product.sku, Warehouse.code))
    if sku is not None:
        query = query.where(Product.sku == sku)
    if warehouse is not None:
        query = query.where(Warehouse.code == warehouse)
    return [StockRow(sku=code, warehouse=place, on_hand=level.on_hand, reserved=level.reserved,
                     available=level.on_hand - level.reserved, average_cost=level.average_cost,
                     value=to_cents(level.on_hand * level.average_cost))
            for level, code, place in session.execute(query)]


def available(session, sku: str, warehouse: str | None = None) -> Decimal:
    """Free stock of `sku` (on hand − reserved), in one warehouse or all."""
    return sum((row.available for row in stock(session, sku, warehouse)), Decimal(0))


def moves_of(session, sku: str, warehouse: str | None = None, limit: int = 200) -> list[dict]:
    """The latest moves of a product, newest first, optionally only those touching one warehouse."""
    source, target = aliased(Warehouse), aliased(Warehouse)
    query = (select(StockMove, source.code, target.code)
             .join(Product, Product.id == StockMove.product_id)
             .outerjoin(source, source.id == StockMove.from_warehouse_id)
             .outerjoin(target, target.id == StockMove.to_warehouse_id)
             .where(Product.sku == sku).order_by(StockMove.at.desc(), StockMove.id.desc()).limit(limit))
    if warehouse is not None:
        query = query.where((source.code == warehouse) | (target.code == warehouse))
    return [{"id": move.id, "kind": move.kind, "from": out, "to": into, "quantity": move.quantity,
             "unit_cost": move.unit_cost, "reference": (move.reference_type, move.reference_id)
             if move.reference_type else None, "at": move.at, "by": move.by_user, "note": move.note}
            for move, out, into in session.execute(query)]


def below_reorder_point(session) -> list[ReorderRow]:
    """Products whose available stock in a warehouse is below its reorder point (none held counts as 0)."""
    free = func.coalesce(StockLevel.on_hand - StockLevel.reserved, 0)
    query = (select(Product.sku, Warehouse.code, free, ReorderPoint.minimum, ReorderPoint.reorder_quantity)
             .select_from(ReorderPoint)
             .join(Product, Product.id == ReorderPoint.product_id)
             .join(Warehouse, Warehouse.id == ReorderPoint.warehouse_id)
             .outerjoin(StockLevel, and_(StockLevel.product_id == ReorderPoint.product_id,
                                         StockLevel.warehouse_id == ReorderPoint.warehouse_id))
             .where(free < ReorderPoint.minimum)
             .order_by(Product.sku, Warehouse.code))
    return [ReorderRow(sku, code, Decimal(str(free_qty)).quantize(Decimal("0.001")), minimum, quantity)
            for sku, code, free_qty, minimum, quantity in session.execute(query)]


def stock_value(session, warehouse: str | None = None) -> Decimal:
    """Σ on hand × average cost, to the cent (summed per level, then rounded once)."""
    query = select(StockLevel.on_hand, StockLevel.average_cost)
    if warehouse is not None:
        query = query.join(Warehouse, Warehouse.id == StockLevel.warehouse_id).where(Warehouse.code == warehouse)
    total = sum((on_hand * cost for on_hand, cost in session.execute(query)), Decimal(0))
    return to_cents(total)


def sum_of_moves(session, product_id: int, warehouse_id: int) -> Decimal:
    """On hand as the moves tell it (into the warehouse minus out of it): must equal the level's on_hand."""
    into = select(func.coalesce(func.sum(StockMove.quantity), 0)).where(
        StockMove.product_id == product_id, StockMove.to_warehouse_id == warehouse_id)
    out = select(func.coalesce(func.sum(StockMove.quantity), 0)).where(
        StockMove.product_id == product_id, StockMove.from_warehouse_id == warehouse_id)
    return Decimal(str(session.scalar(into))) - Decimal(str(session.scalar(out)))

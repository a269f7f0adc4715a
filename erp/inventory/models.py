"""Warehouses, stock levels, stock moves, reservations and reorder points."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime
from erp.catalog import models as catalog_models  # noqa: F401  (the product table our foreign keys name)

MOVE_KINDS = ("receipt", "issue", "transfer", "adjustment")
RESERVATION_STATUSES = ("active", "consumed", "released")


class Warehouse(Base):
    __tablename__ = "warehouse"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class StockLevel(Base):
    """How much of a product a warehouse holds, and how much of it is promised (reserved) to orders.
    Changed only together with a StockMove (on_hand) or a StockReservation (reserved)."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_nonnegative"),
        CheckConstraint("reserved >= 0", name="reserved_nonnegative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    on_hand: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    #: moving average unit cost (移动加权平均), net of VAT; recomputed on every valued receipt
    average_cost: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))


class StockMove(Base):
    """One append-only stock movement. A receipt has only `to_warehouse`, an issue only `from_warehouse`,
    a transfer both; an adjustment has `to_warehouse` for a gain and `from_warehouse` for a loss."""

    __tablename__ = "stock_move"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("kind IN ('receipt', 'issue', 'transfer', 'adjustment')", name="kind_known"),
        CheckConstraint("from_warehouse_id IS NOT NULL OR to_warehouse_id IS NOT NULL", name="has_warehouse"),
        Index("ix_stock_move_product_at", "product_id", "at"),
        Index("ix_stock_move_reference", "reference_type", "reference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    from_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    to_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    #: net unit cost the goods moved at (the purchase price on a receipt, the average cost otherwise)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    #: what caused the move, e.g. ("sales_order", "42") or ("purchase_order", "PO-7")
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by_user: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class StockReservation(Base):
    """Stock promised to a reference (a sales order); `consumed` grows with each delivery from it."""

    __tablename__ = "stock_reservation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("consumed >= 0 AND consumed <= quantity", name="consumed_within_quantity"),
        CheckConstraint("status IN ('active', 'consumed', 'released')", name="status_known"),
        Index("ix_stock_reservation_reference", "reference_type", "reference_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    consumed: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    reference_type: Mapped[str] = mapped_column(String(40))
    reference_id: Mapped[str] = mapped_column(String(64))
    #: active (still holds quantity − consumed), consumed (all delivered), released (the rest given back)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReorderPoint(Base):
    """再订货点: when available stock falls below `minimum`, purchasing should order `reorder_quantity`."""

    __tablename__ = "reorder_point"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint("minimum >= 0", name="minimum_nonnegative"),
        CheckConstraint("reorder_quantity > 0", name="reorder_quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    minimum: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    reorder_quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))

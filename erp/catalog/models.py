"""Products, price lists and their items (prices exclude VAT: 不含税单价)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Numeric, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("vat_rate IN (0.13, 0.09, 0.06, 0)", name="vat_rate_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the stock-keeping unit, the product's key everywhere (orders, diagrams, imports)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    #: the unit as the Chinese UI shows it (个, 箱, 千克) and its English label (piece, box, kg)
    unit: Mapped[str] = mapped_column(String(20))
    unit_en: Mapped[str] = mapped_column(String(20))
    #: 增值税税率: 0.13 (goods), 0.09, 0.06 or 0.00
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.13"))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    #: an inactive product stays in history but is no longer sold or bought
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    barcode: Mapped[str | None] = mapped_column(String(64))
    #: kept in stock (goods); False for services, which are sold and delivered without stock or cost of sales
    stocked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class PriceList(Base):
    __tablename__ = "price_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    #: the first and last day (Beijing time) the list applies; None: open-ended
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: the list used when an order names none (at most one list is the default)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PriceListItem(Base):
    """One price of a product on a list; several rows with rising minimum quantities make volume prices."""

    __tablename__ = "price_list_item"
    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id", "min_quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price_nonnegative"),
        CheckConstraint("min_quantity > 0", name="min_quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    #: this price applies from this quantity up (until a row with a higher minimum)
    min_quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(1))
    #: per unit, excluding VAT
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 2))

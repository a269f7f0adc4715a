"""Reading the catalogue: products and the unit price that applies to a quantity on a day."""
from __future__ import annotations

from datetime import date, timedelta, timezone
from decimal import Decimal

from sqlalchemy import or_, select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.catalog.models import PriceList, PriceListItem, Product
from erp.catalog.money import to_decimal

BEIJING = timezone(timedelta(hours=8))  # China keeps one zone and no daylight saving


def today() -> date:
    """The business day in Beijing (a price list valid 'from 1 January' starts at midnight there)."""
    return clock.now().astimezone(BEIJING).date()


def product_by_sku(session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with SKU {sku}")
    return product


def products(session, *, active_only: bool = True, category: str | None = None) -> list[Product]:
    query = select(Product).order_by(Product.sku)
    if active_only:
        query = query.where(Product.active.is_(True))
    if category:
        query = query.where(Product.category == category)
    return list(session.scalars(query))


def price_of(session, sku: str, qty, price_list: str | None = None, on: date | None = None) -> Decimal:
    """The net unit price of `qty` units of `sku` on day `on` (default: today in Beijing): from the list
    named `price_list`, else from the default list; the row with the highest minimum quantity not above
    `qty` wins (volume price). NotFound when no valid list or no price applies."""
    try:
        quantity = to_decimal(qty, 3)
    except ValueError as exc:
        raise InvalidInput(f"bad quantity: {exc}", {"qty": [str(exc)]}) from None
    if quantity <= 0:
        raise InvalidInput("the quantity must be more than zero", {"qty": ["must be more than zero"]})
    on = on or today()
    product = product_by_sku(session, sku)
    list_row = _valid_list(session, price_list, on)
    price = session.scalar(
        select(PriceListItem.unit_price)
        .where(PriceListItem.price_list_id == list_row.id, PriceListItem.product_id == product.id,
               PriceListItem.min_quantity <= quantity)
        .order_by(PriceListItem.min_quantity.desc()).limit(1))
    if price is None:
        raise NotFound(f"price list {list_row.name} has no price for {sku} at quantity {quantity}")
    return price


def _valid_list(session, name: str | None, on: date) -> PriceList:
    query = select(PriceList).where(or_(PriceList.valid_from.is_(None), PriceList.valid_from <= on),
                                    or_(PriceList.valid_to.is_(None), PriceList.valid_to >= on))
    query = query.where(PriceList.name == name) if name else query.where(PriceList.is_default.is_(True))
    list_row = session.scalar(query)
    if list_row is None:
        raise NotFound(f"no {'price list ' + name if name else 'default price list'} valid on {on.isoformat()}")
    return list_row

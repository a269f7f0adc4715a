"""Creating and changing products, price lists and prices (take a session, never commit)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from core.errors import InvalidInput, NotFound
from erp.catalog.models import PriceList, PriceListItem, Product
from erp.catalog.money import DEFAULT_VAT_RATE, VAT_RATES, to_decimal

PRODUCT_FIELDS = ("name_zh", "name_en", "unit", "unit_en", "vat_rate", "category", "active", "barcode", "stocked")
REQUIRED_TEXT = ("sku", "name_zh", "name_en", "unit", "unit_en")


def create_product(session, *, sku: str, name_zh: str, name_en: str, unit: str, unit_en: str,
                   vat_rate=DEFAULT_VAT_RATE, category: str | None = None, barcode: str | None = None,
                   active: bool = True, stocked: bool = True) -> Product:
    """A product; `stocked=False` for a service (sold and delivered without stock)."""
    fields = dict(sku=sku, name_zh=name_zh, name_en=name_en, unit=unit, unit_en=unit_en, vat_rate=vat_rate,
                  category=category, barcode=barcode, active=active, stocked=stocked)
    errors: dict[str, list[str]] = {}
    clean = _clean_product(fields, errors)
    if clean.get("sku") and product_exists(session, clean["sku"]):
        errors.setdefault("sku", []).append(f"SKU {clean['sku']} already exists")
    _raise_if(errors, "the product was not saved")
    product = Product(**clean)
    session.add(product)
    session.flush()
    return product


def update_product(session, sku: str, /, **fields) -> Product:
    """Change any of PRODUCT_FIELDS; the SKU itself never changes (orders and diagrams refer to it)."""
    product = _product(session, sku)
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise InvalidInput("the product was not saved", {name: ["not a product field"] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    clean = _clean_product(fields, errors)
    _raise_if(errors, "the product was not saved")
    for name, value in clean.items():
        setattr(product, name, value)
    session.flush()
    return product


def create_price_list(session, *, name: str, currency: str = "CNY", valid_from: date | None = None,
                      valid_to: date | None = None, is_default: bool = False) -> PriceList:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["required"]
    elif session.scalar(select(PriceList.id).where(PriceList.name == name)) is not None:
        errors["name"] = [f"a price list named {name} already exists"]
    if currency != "CNY":
        errors["currency"] = ["only CNY is supported"]
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = ["ends before it starts"]
    _raise_if(errors, "the price list was not saved")
    if is_default:
        session.execute(update(PriceList).values(is_default=False))
    price_list = PriceList(name=name, currency=currency, valid_from=valid_from, valid_to=valid_to,
                           is_default=is_default)
    session.add(price_list)
    session.flush()
    return price_list


def set_price(session, price_list: str, sku: str, unit_price, min_quantity=1) -> PriceListItem:
    """Set the net unit price of `sku` on the list named `price_list` from `min_quantity` up (a volume
    price when above 1); an existing price for the same minimum is replaced."""
    errors: dict[str, list[str]] = {}
    price = _number(unit_price, 2, "unit_price", errors)
    if price is not None and price < 0:
        errors["unit_price"] = ["must not be negative"]
    minimum = _number(min_quantity, 3, "min_quantity", errors)
    if minimum is not None and minimum <= 0:
        errors["min_quantity"] = ["must be more than zero"]
    list_row = session.scalar(select(PriceList).where(PriceList.name == price_list))
    if list_row is None:
        errors["price_list"] = [f"no price list named {price_list}"]
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        errors["sku"] = [f"no product with SKU {sku}"]
    _raise_if(errors, "the price was not saved")
    item = session.scalar(select(PriceListItem).where(
        PriceListItem.price_list_id == list_row.id, PriceListItem.product_id == product.id,
        PriceListItem.min_quantity == minimum))
    if item is None:
        item = PriceListItem(price_list_id=list_row.id, product_id=product.id, min_quantity=minimum)
        session.add(item)
    item.unit_price = price
    session.flush()
    return item


def product_exists(session, sku: str) -> bool:
    return session.scalar(select(Product.id).where(Product.sku == sku)) is not None


def _product(session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with SKU {sku}")
    return product


def _clean_product(fields: dict, errors: dict[str, list[str]]) -> dict:
    clean = {}
    for name, value in fields.items():
        if name in REQUIRED_TEXT:
            value = (value or "").strip()
            if not value:
                errors.setdefault(name, []).append("required")
        elif name in ("category", "barcode"):
            value = (value or "").strip() or None
        elif name == "vat_rate":
            value = _vat_rate(value, errors)
        elif name in ("active", "stocked"):
            value = bool(value)
        clean[name] = value
    return clean


def _vat_rate(value, errors) -> Decimal | None:
    rate = _number(value, 2, "vat_rate", errors)
    if rate is not None and rate not in VAT_RATES:
        errors["vat_rate"] = [f"unknown VAT rate {value}: use one of {', '.join(str(r) for r in VAT_RATES)}"]
        return None
    return rate if rate is None else rate.quantize(Decimal("0.01"))


def _number(value, places: int, field: str, errors) -> Decimal | None:
    try:
        return to_decimal(value, places)
    except ValueError as exc:
        errors.setdefault(field, []).append(str(exc))
        return None


def _raise_if(errors: dict[str, list[str]], message: str) -> None:
    if errors:
        raise InvalidInput(f"{message}: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()), errors)

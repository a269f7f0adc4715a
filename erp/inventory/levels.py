"""The building blocks every stock change goes through: reading inputs, locking a level row, and writing the
move that explains a change of on-hand stock. Used by services.py and reservations.py only."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from core import clock
from core.errors import InvalidInput
from erp.catalog.models import Product
from erp.catalog.money import to_decimal
from erp.inventory.models import StockLevel, StockMove, Warehouse

COST_PLACES = Decimal("0.0001")
Reference = tuple[str, str]


class InsufficientStock(InvalidInput):
    """Refused because the warehouse does not hold enough free (unreserved) stock."""


def as_reference(value) -> Reference:
    """("sales_order", 42), {"type": "sales_order", "id": 42} or "sales_order:42" → ("sales_order", "42")."""
    if isinstance(value, dict):
        value = (value.get("type"), value.get("id"))
    elif isinstance(value, str) and ":" in value:
        value = tuple(value.split(":", 1))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(v is not None and str(v).strip() for v in value):
        return str(value[0]).strip(), str(value[1]).strip()
    raise InvalidInput(f"bad reference {value!r}", {"reference": ['give ("type", id), e.g. ("sales_order", 42)']})


def quantity(value, field: str, errors: dict, *, allow_zero: bool = False) -> Decimal | None:
    """A quantity with at most 3 decimals, more than zero (or zero too); None and an error if not."""
    try:
        number = to_decimal(float_free(value), 3)
    except ValueError as exc:
        errors.setdefault(field, []).append(str(exc))
        return None
    if number < 0 or (number == 0 and not allow_zero):
        errors.setdefault(field, []).append("must not be negative" if allow_zero else "must be more than zero")
        return None
    return number


def show(qty: Decimal) -> str:
    """3.000 → "3", 2.500 → "2.5" (for messages)."""
    return format(qty.normalize(), "f")


def float_free(value):
    """Task data from forms and JSON may carry 2.5 as a float; its shortest text is what the user typed."""
    return repr(value) if isinstance(value, float) else value


def product(session, sku, errors: dict, field: str = "sku") -> Product | None:
    row = session.scalar(select(Product).where(Product.sku == str(sku))) if sku else None
    if row is None:
        errors.setdefault(field, []).append(f"no product with SKU {sku}")
    elif not row.stocked:
        errors.setdefault(field, []).append(f"{sku} is a service: it is not kept in stock")
        return None
    return row


def warehouse(session, code, errors: dict, field: str = "warehouse") -> Warehouse | None:
    row = session.scalar(select(Warehouse).where(Warehouse.code == str(code))) if code else None
    if row is None:
        errors.setdefault(field, []).append(f"no warehouse with code {code}")
    return row


def refuse_if(errors: dict, message: str, error=InvalidInput) -> None:
    if errors:
        raise error(f"{message}: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()), errors)


def ensure_level(session, product_id: int, warehouse_id: int) -> None:
    """Create the (empty) level row if missing; safe when two transactions try at once."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(StockLevel).values(
        product_id=product_id, warehouse_id=warehouse_id, on_hand=0, reserved=0, average_cost=0,
    ).on_conflict_do_nothing(index_elements=["product_id", "warehouse_id"]))


def locked_level(session, product_id: int, warehouse_id: int, *, create: bool) -> StockLevel | None:
    """The level row locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite already holds the
    database write lock since BEGIN IMMEDIATE), re-read so no stale value from the session survives."""
    if create:
        ensure_level(session, product_id, warehouse_id)
    found = locked_levels(session, [product_id], [warehouse_id])
    return found[0] if found else None


def locked_levels(session, product_ids, warehouse_ids=None) -> list[StockLevel]:
    """The level rows of these products (in these warehouses), locked in id order: every function locks
    several rows in that one order, so two transactions never wait for each other in a circle."""
    query = select(StockLevel).where(StockLevel.product_id.in_(sorted(set(product_ids))))
    if warehouse_ids is not None:
        query = query.where(StockLevel.warehouse_id.in_(sorted(set(warehouse_ids))))
    return list(session.scalars(query.order_by(StockLevel.id).with_for_update()
                                .execution_options(populate_existing=True)))


def available(level: StockLevel | None) -> Decimal:
    return Decimal(0) if level is None else level.on_hand - level.reserved


def add_valued(level: StockLevel, qty: Decimal, unit_cost: Decimal | None) -> Decimal:
    """Put `qty` on hand, re-averaging the unit cost when the goods come with one; returns their cost."""
    if unit_cost is None:
        unit_cost = level.average_cost
    elif level.on_hand + qty > 0:
        total = level.on_hand * level.average_cost + qty * unit_cost
        level.average_cost = (total / (level.on_hand + qty)).quantize(COST_PLACES, rounding=ROUND_HALF_UP)
    level.on_hand += qty
    return unit_cost


def write_move(session, kind: str, product_id: int, qty: Decimal, *, source: StockLevel | None = None,
               target: StockLevel | None = None, unit_cost: Decimal | None = None,
               reference: Reference | None = None, by: str | None = None, note: str | None = None) -> StockMove:
    move = StockMove(kind=kind, product_id=product_id, quantity=qty, unit_cost=unit_cost,
                     from_warehouse_id=source.warehouse_id if source else None,
                     to_warehouse_id=target.warehouse_id if target else None,
                     reference_type=reference[0] if reference else None,
                     reference_id=reference[1] if reference else None,
                     at=clock.now(), by_user=by, note=note)
    session.add(move)
    session.flush()
    return move

"""Warehouses, reorder points and the stock operations: receipt (入库), issue (出库), transfer (调拨) and
count adjustment (盘点调整). Each takes a session, never commits, checks everything before writing (a
refusal writes nothing) and locks the level rows it changes. Reservations are in reservations.py."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from erp.catalog.money import to_decimal
from erp.inventory import levels
from erp.inventory.levels import InsufficientStock, as_reference, refuse_if
from erp.inventory.models import ReorderPoint, StockMove, Warehouse


def create_warehouse(session, *, code: str, name_zh: str, name_en: str, address: str | None = None) -> Warehouse:
    errors: dict[str, list[str]] = {}
    fields = {"code": (code or "").strip(), "name_zh": (name_zh or "").strip(), "name_en": (name_en or "").strip()}
    for name, value in fields.items():
        if not value:
            errors[name] = ["required"]
    if fields["code"] and session.scalar(select(Warehouse.id).where(Warehouse.code == fields["code"])):
        errors["code"] = [f"warehouse {fields['code']} already exists"]
    refuse_if(errors, "the warehouse was not saved")
    row = Warehouse(**fields, address=(address or "").strip() or None)
    session.add(row)
    session.flush()
    return row


def set_reorder_point(session, sku: str, warehouse: str, minimum, reorder_quantity) -> ReorderPoint:
    errors: dict[str, list[str]] = {}
    product = levels.product(session, sku, errors)
    place = levels.warehouse(session, warehouse, errors)
    low = levels.quantity(minimum, "minimum", errors, allow_zero=True)
    order = levels.quantity(reorder_quantity, "reorder_quantity", errors)
    refuse_if(errors, "the reorder point was not saved")
    row = session.scalar(select(ReorderPoint).where(ReorderPoint.product_id == product.id,
                                                    ReorderPoint.warehouse_id == place.id))
    if row is None:
        row = ReorderPoint(product_id=product.id, warehouse_id=place.id)
        session.add(row)
    row.minimum, row.reorder_quantity = low, order
    session.flush()
    return row


def receive(session, sku: str, warehouse: str, quantity, *, unit_cost=None, reference=None,
            by: str | None = None, note: str | None = None) -> StockMove:
    """Goods in; with a net `unit_cost` the level's moving average cost is recomputed."""
    errors: dict[str, list[str]] = {}
    product = levels.product(session, sku, errors)
    place = levels.warehouse(session, warehouse, errors)
    qty = levels.quantity(quantity, "quantity", errors)
    cost = _unit_cost(unit_cost, errors)
    reference = as_reference(reference) if reference is not None else None
    refuse_if(errors, "nothing was received")
    level = levels.locked_level(session, product.id, place.id, create=True)
    cost = levels.add_valued(level, qty, cost)
    return levels.write_move(session, "receipt", product.id, qty, target=level, unit_cost=cost,
                             reference=reference, by=by, note=note)


def issue(session, sku: str, warehouse: str, quantity, *, reference=None, by: str | None = None,
          note: str | None = None) -> StockMove:
    """Goods out of free stock (on hand minus reserved); deliveries against a reservation use consume()."""
    errors: dict[str, list[str]] = {}
    product = levels.product(session, sku, errors)
    place = levels.warehouse(session, warehouse, errors)
    qty = levels.quantity(quantity, "quantity", errors)
    reference = as_reference(reference) if reference is not None else None
    refuse_if(errors, "nothing was issued")
    level = levels.locked_level(session, product.id, place.id, create=False)
    _require_free(level, qty, sku, warehouse, "nothing was issued")
    level.on_hand -= qty
    return levels.write_move(session, "issue", product.id, qty, source=level, unit_cost=level.average_cost,
                             reference=reference, by=by, note=note)


def transfer(session, sku: str, from_warehouse: str, to_warehouse: str, quantity, *, reference=None,
             by: str | None = None, note: str | None = None) -> StockMove:
    """Free stock moved between warehouses at the source's average cost."""
    errors: dict[str, list[str]] = {}
    product = levels.product(session, sku, errors)
    source = levels.warehouse(session, from_warehouse, errors, "from_warehouse")
    target = levels.warehouse(session, to_warehouse, errors, "to_warehouse")
    qty = levels.quantity(quantity, "quantity", errors)
    if source is not None and source is target:
        errors["to_warehouse"] = ["is the same warehouse as the source"]
    reference = as_reference(reference) if reference is not None else None
    refuse_if(errors, "nothing was transferred")
    locked = {lv.warehouse_id: lv for lv in levels.locked_levels(session, [product.id], [source.id, target.id])}
    _require_free(locked.get(source.id), qty, sku, from_warehouse, "nothing was transferred")
    if target.id not in locked:
        levels.ensure_level(session, product.id, target.id)
        locked[target.id] = levels.locked_level(session, product.id, target.id, create=False)
    out, into = locked[source.id], locked[target.id]
    out.on_hand -= qty
    cost = levels.add_valued(into, qty, out.average_cost)
    return levels.write_move(session, "transfer", product.id, qty, source=out, target=into, unit_cost=cost,
                             reference=reference, by=by, note=note)


def adjust(session, sku: str, warehouse: str, counted, reason: str, *, by: str | None = None) -> StockMove | None:
    """A stock count correction: on hand becomes `counted`, the difference is an adjustment move with the
    reason as its note (None when the count agrees). A count below the reserved quantity is refused: the
    reservations must be released first, so no order is promised stock that is not there."""
    errors: dict[str, list[str]] = {}
    product = levels.product(session, sku, errors)
    place = levels.warehouse(session, warehouse, errors)
    count = levels.quantity(counted, "counted", errors, allow_zero=True)
    if not (reason or "").strip():
        errors["reason"] = ["required: say why the count differs"]
    refuse_if(errors, "the count was not recorded")
    level = levels.locked_level(session, product.id, place.id, create=False)
    if level is not None and count < level.reserved:
        refuse_if({"counted": [f"below the {levels.show(level.reserved)} reserved for orders; release them first"]},
                  "the count was not recorded", InsufficientStock)
    difference = count - (level.on_hand if level is not None else 0)
    if difference == 0:
        return None
    level = level or levels.locked_level(session, product.id, place.id, create=True)
    if difference > 0:
        cost = levels.add_valued(level, difference, None)
        return levels.write_move(session, "adjustment", product.id, difference, target=level, unit_cost=cost,
                                 by=by, note=reason.strip())
    level.on_hand += difference
    return levels.write_move(session, "adjustment", product.id, -difference, source=level,
                             unit_cost=level.average_cost, by=by, note=reason.strip())


def _unit_cost(value, errors) -> Decimal | None:
    if value is None:
        return None
    try:
        cost = to_decimal(levels.float_free(value), 4)
    except ValueError as exc:
        errors["unit_cost"] = [str(exc)]
        return None
    if cost < 0:
        errors["unit_cost"] = ["must not be negative"]
    return cost


def _require_free(level, qty: Decimal, sku: str, warehouse: str, message: str) -> None:
    free = levels.available(level)
    if qty > free:
        refuse_if({"quantity": [f"only {levels.show(free)} of {sku} free in {warehouse}"]}, message, InsufficientStock)

"""Reservations (库存预留) for an order: reserve all lines or none and report the shortages (so the order
process can backorder: 缺货订单), release what is still held, and consume it on delivery (出库), partly or
wholly. Take a session, never commit; level rows are locked before they are read for a decision."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from sqlalchemy import select

from core import clock
from erp.catalog.models import Product
from erp.inventory import levels
from erp.inventory.levels import InsufficientStock, as_reference, refuse_if
from erp.inventory.models import StockReservation, Warehouse


@dataclass
class ReservationResult:
    """reserved: every line was reserved; else nothing was and `shortages` says what is missing."""

    reserved: bool
    lines: list[dict] = field(default_factory=list)  # {sku, warehouse, quantity}
    shortages: list[dict] = field(default_factory=list)  # {sku, requested, available, short}

    def as_data(self) -> dict:
        return asdict(self)


@dataclass
class DeliveryResult:
    delivered: list[dict]  # {sku, warehouse, quantity}
    remaining: list[dict]  # {sku, quantity}: still reserved for the reference after this delivery

    def as_data(self) -> dict:
        return asdict(self)


def reserve(session, reference, lines, warehouse: str | None = None) -> ReservationResult:
    """Reserve `lines` ([{sku, quantity}], repeated SKUs added up) for `reference`, from `warehouse` or, when
    None, from the warehouses with the most free stock first (a line may then be split between them)."""
    reference = as_reference(reference)
    errors: dict[str, list[str]] = {}
    wanted = _lines(session, lines, errors)
    place = levels.warehouse(session, warehouse, errors) if warehouse is not None else None
    refuse_if(errors, "nothing was reserved")
    by_product = defaultdict(list)
    for level in levels.locked_levels(session, [p.id for p in wanted]):
        if place is None or level.warehouse_id == place.id:
            by_product[level.product_id].append(level)
    shortages = []
    for product, qty in wanted.items():
        free = sum((levels.available(lv) for lv in by_product[product.id]), Decimal(0))
        if free < qty:
            shortages.append({"sku": product.sku, "requested": qty, "available": free, "short": qty - free})
    if shortages:
        return ReservationResult(reserved=False, shortages=shortages)
    codes = _warehouse_codes(session)
    result = ReservationResult(reserved=True)
    now = clock.now()
    for product, qty in wanted.items():
        for level in sorted(by_product[product.id], key=lambda lv: (-levels.available(lv), codes[lv.warehouse_id])):
            take = min(qty, levels.available(level))
            if take <= 0:
                break
            level.reserved += take
            qty -= take
            session.add(StockReservation(product_id=product.id, warehouse_id=level.warehouse_id, quantity=take,
                                         consumed=Decimal(0), reference_type=reference[0],
                                         reference_id=reference[1], status="active", created_at=now))
            result.lines.append({"sku": product.sku, "warehouse": codes[level.warehouse_id], "quantity": take})
    session.flush()
    return result


def release(session, reference) -> list[dict]:
    """Give back everything still reserved for `reference` (nothing to release is not an error)."""
    reference = as_reference(reference)
    released = []
    reservations = _active(session, reference)
    codes, skus = _warehouse_codes(session), _skus(session, [r.product_id for r in reservations])
    locked = _lock_levels_of(session, reservations)
    for reservation in reservations:
        rest = reservation.quantity - reservation.consumed
        level = locked[reservation.product_id, reservation.warehouse_id]
        level.reserved -= rest
        reservation.status, reservation.closed_at = "released", clock.now()
        released.append({"sku": skus[reservation.product_id], "warehouse": codes[reservation.warehouse_id],
                         "quantity": rest})
    session.flush()
    return released


def consume(session, reference, lines, *, by: str | None = None) -> DeliveryResult:
    """Deliver `lines` from what `reference` has reserved: the stock is issued (one issue move per
    warehouse) and the reservation shrinks; more than is reserved is refused, with nothing written."""
    reference = as_reference(reference)
    errors: dict[str, list[str]] = {}
    wanted = _lines(session, lines, errors)
    refuse_if(errors, "nothing was delivered")
    reservations = _active(session, reference)
    held = defaultdict(Decimal)
    for reservation in reservations:
        held[reservation.product_id] += reservation.quantity - reservation.consumed
    for index, (product, qty) in enumerate(wanted.items()):
        if qty > held[product.id]:
            errors.setdefault(f"lines[{index}].quantity", []).append(
                f"only {levels.show(held[product.id])} of {product.sku} reserved for {reference[0]} {reference[1]}")
    refuse_if(errors, "nothing was delivered", InsufficientStock)
    codes, delivered, now = _warehouse_codes(session), [], clock.now()
    locked = _lock_levels_of(session, reservations)
    for product, qty in wanted.items():
        for reservation in (r for r in reservations if r.product_id == product.id):
            take = min(qty, reservation.quantity - reservation.consumed)
            if take <= 0:
                continue
            level = locked[product.id, reservation.warehouse_id]
            level.on_hand -= take
            level.reserved -= take
            reservation.consumed += take
            if reservation.consumed == reservation.quantity:
                reservation.status, reservation.closed_at = "consumed", now
            levels.write_move(session, "issue", product.id, take, source=level, unit_cost=level.average_cost,
                              reference=reference, by=by, note="delivery")
            delivered.append({"sku": product.sku, "warehouse": codes[reservation.warehouse_id], "quantity": take})
            qty -= take
    return DeliveryResult(delivered=delivered, remaining=remaining(session, reference))


def remaining(session, reference) -> list[dict]:
    """What is still reserved for `reference`, per SKU."""
    totals = defaultdict(Decimal)
    for reservation in _active(session, as_reference(reference), lock=False):
        totals[reservation.product_id] += reservation.quantity - reservation.consumed
    skus = _skus(session, totals)
    return [{"sku": skus[pid], "quantity": qty} for pid, qty in totals.items()]


def _lines(session, lines, errors) -> dict[Product, Decimal]:
    """[{sku, quantity}] or [(sku, quantity)] → {product: total quantity}, in the order first named."""
    wanted: dict[Product, Decimal] = {}
    if not isinstance(lines, (list, tuple)) or not lines:
        errors["lines"] = ["give at least one line of {sku, quantity}"]
        return wanted
    for index, line in enumerate(lines):
        if isinstance(line, dict):
            sku, qty = line.get("sku"), line.get("quantity")
        elif isinstance(line, (list, tuple)) and len(line) == 2:
            sku, qty = line
        else:
            errors[f"lines[{index}]"] = ["give {sku, quantity}"]
            continue
        product = levels.product(session, sku, errors, f"lines[{index}].sku")
        qty = levels.quantity(qty, f"lines[{index}].quantity", errors)
        if product is not None and qty is not None:
            wanted[product] = wanted.get(product, Decimal(0)) + qty
    return wanted


def _active(session, reference, lock: bool = True) -> list[StockReservation]:
    query = (select(StockReservation)
             .where(StockReservation.reference_type == reference[0], StockReservation.reference_id == reference[1],
                    StockReservation.status == "active")
             .order_by(StockReservation.id).execution_options(populate_existing=True))
    return list(session.scalars(query.with_for_update() if lock else query))


def _lock_levels_of(session, reservations) -> dict[tuple[int, int], object]:
    rows = levels.locked_levels(session, [r.product_id for r in reservations], [r.warehouse_id for r in reservations])
    return {(lv.product_id, lv.warehouse_id): lv for lv in rows}


def _warehouse_codes(session) -> dict[int, str]:
    return dict(session.execute(select(Warehouse.id, Warehouse.code)).all())


def _skus(session, product_ids) -> dict[int, str]:
    return dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(set(product_ids)))).all())

"""Service-task operators of the inventory, for diagrams: reserve stock for an order, release it, deliver."""
from __future__ import annotations

from engine.operators import OperatorContext
from erp.inventory import reservations


def reserve_stock(ctx: OperatorContext, reference, lines, warehouse=None) -> dict:
    """{"reserved": bool, "lines": [...], "shortages": [{sku, requested, available, short}]}: a shortage is
    an outcome for the diagram's gateway (backorder), not an error."""
    return reservations.reserve(ctx.session, reference, lines, warehouse).as_data()


def release_reservation(ctx: OperatorContext, reference) -> dict:
    return {"released": reservations.release(ctx.session, reference)}


def deliver(ctx: OperatorContext, reference, lines) -> dict:
    """{"delivered": [{sku, warehouse, quantity}], "remaining": [{sku, quantity}]} (partial deliveries allowed)."""
    return reservations.consume(ctx.session, reference, lines, by=ctx.actor).as_data()


def register(registry) -> None:
    registry.register("inventory.reserve_stock", reserve_stock)
    registry.register("inventory.release_reservation", release_reservation)
    registry.register("inventory.deliver", deliver)

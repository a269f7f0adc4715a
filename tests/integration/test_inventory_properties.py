"""Whatever sequence of stock operations arrives, valid or not, every level stays non-negative, reserved
never exceeds on hand, on hand equals the sum of its moves and reserved the sum of open reservations."""
from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ErpError
from erp.inventory.reservations import consume, release, remaining, reserve
from erp.inventory.services import adjust, issue, receive, transfer
from tests.stock_data import assert_stock_consistent, product, warehouse

_examples = itertools.count()
# mostly small valid quantities (so reservations and deliveries often succeed), some zero/negative/fractional
quantities = st.one_of(st.integers(1, 4), st.integers(1, 4), st.integers(-2, 12),
                       st.decimals(min_value=0, max_value=8, places=1)).map(str)
products = st.sampled_from(["A", "B"])
warehouses = st.sampled_from(["W1", "W2"])
orders = st.sampled_from(["1", "2"])
lines = st.lists(st.tuples(products, st.one_of(st.integers(1, 2).map(str), quantities)), min_size=1, max_size=2)
deliveries = st.lists(st.tuples(products, st.one_of(st.sampled_from(["1", "0.5"]), quantities)), min_size=1, max_size=2)
operations = st.one_of(
    st.tuples(st.just("reserve"), orders, lines, st.one_of(st.none(), warehouses)),
    st.tuples(st.just("consume"), orders, deliveries),
    st.tuples(st.just("deliver_part"), orders, st.sampled_from(["0.5", "1", "0.333"])),
    st.tuples(st.just("receive"), products, warehouses, quantities, st.sampled_from([None, "1.50", "3.25"])),
    st.tuples(st.just("issue"), products, warehouses, quantities),
    st.tuples(st.just("transfer"), products, warehouses, warehouses, quantities),
    st.tuples(st.just("adjust"), products, warehouses, quantities),
    st.tuples(st.just("release"), orders),
)


def _apply(session, op, name):
    """`name` maps the example's short names to this example's own products and warehouses."""
    kind, *args = op
    if kind == "receive":
        sku, code, qty, cost = args
        receive(session, name(sku), name(code), qty, unit_cost=cost)
    elif kind == "issue":
        issue(session, name(args[0]), name(args[1]), args[2])
    elif kind == "transfer":
        transfer(session, name(args[0]), name(args[1]), name(args[2]), args[3])
    elif kind == "adjust":
        adjust(session, name(args[0]), name(args[1]), args[2], "stock count")
    elif kind == "reserve":
        return reserve(session, ("sales_order", name(args[0])), [(name(s), q) for s, q in args[1]],
                       name(args[2]) if args[2] else None).reserved
    elif kind == "deliver_part":  # a partial delivery of what the order still has reserved
        held = remaining(session, ("sales_order", name(args[0])))
        part = [(line["sku"], (line["quantity"] * Decimal(args[1])).quantize(Decimal("0.001"))) for line in held]
        return consume(session, ("sales_order", name(args[0])), part or [(name("A"), "1")])
    elif kind == "release":
        release(session, ("sales_order", name(args[0])))
    else:
        return consume(session, ("sales_order", name(args[0])), [(name(s), q) for s, q in args[1]])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operations, min_size=10, max_size=30))
def test_no_sequence_of_operations_breaks_the_stock_invariants(database, ops):
    tag = f"E{next(_examples)}-"  # examples share the test's database: each gets its own products

    def name(short):
        return tag + short

    with database.transaction() as session:
        ids = [product(session, name(sku)).id for sku in ("A", "B")]
        for code in ("W1", "W2"):
            warehouse(session, name(code))
            for sku in ("A", "B"):  # some stock to start with, so most operations have something to work on
                receive(session, name(sku), name(code), 6, unit_cost="2.00")
    for op in ops:
        with database.transaction() as session:
            try:
                _apply(session, op, name)
            except ErpError:
                pass  # a refusal; the transaction still commits, so a half-done refusal would show below
    with database.transaction(readonly=True) as session:
        assert_stock_consistent(session, ids)


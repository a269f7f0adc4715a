"""Two orders racing for the last unit from two real connections: exactly one gets it. On PostgreSQL the
level row lock makes the second reservation wait for the first to commit and then see it; on SQLite the
second transaction cannot begin until the first has committed."""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from erp.inventory.models import StockReservation
from erp.inventory.queries import stock
from erp.inventory.reservations import reserve
from erp.inventory.services import receive
from tests.stock_data import assert_stock_consistent, product, warehouse


def _one_unit(tx):
    with tx() as session:
        product(session, "LAST")
        warehouse(session, "BJ")
        receive(session, "LAST", "BJ", 1)


def test_the_second_reservation_waits_for_the_first_and_then_finds_nothing_left(database, tx):
    _one_unit(tx)
    first_holds_lock, second_started = threading.Event(), threading.Event()
    results, errors = {}, []

    def first():
        try:
            with database.transaction() as session:
                results["first"] = reserve(session, ("sales_order", 1), [("LAST", 1)])
                first_holds_lock.set()
                second_started.wait(5)
                time.sleep(0.5)  # the second is now blocked on the row lock (PostgreSQL) or on BEGIN (SQLite)
                results["first_committing_at"] = time.monotonic()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_holds_lock.set()

    def second():
        try:
            first_holds_lock.wait(5)
            second_started.set()
            with database.transaction() as session:
                results["second"] = reserve(session, ("sales_order", 2), [("LAST", 1)])
                results["second_decided_at"] = time.monotonic()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results["first"].reserved
    assert not results["second"].reserved
    assert results["second"].shortages == [{"sku": "LAST", "requested": 1, "available": 0, "short": 1}]
    assert results["second_decided_at"] >= results["first_committing_at"]  # it really waited
    with database.transaction(readonly=True) as session:
        [row] = stock(session, "LAST")
        assert (row.on_hand, row.reserved) == (1, 1)
        assert session.scalar(select(func.count()).select_from(StockReservation)) == 1
        assert_stock_consistent(session)


def test_many_orders_at_once_never_reserve_more_than_is_on_hand(database, tx):
    with tx() as session:
        product(session, "HOT")
        warehouse(session, "BJ")
        receive(session, "HOT", "BJ", 3)
    start = threading.Barrier(6)
    outcomes, errors = [], []

    def order(n):
        try:
            start.wait(5)
            with database.transaction() as session:
                outcomes.append(reserve(session, ("sales_order", n), [("HOT", 1)]).reserved)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=order, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(outcomes) == [False, False, False, True, True, True]
    with database.transaction(readonly=True) as session:
        assert stock(session, "HOT")[0].reserved == 3
        assert_stock_consistent(session)

"""Messages through the subscription table, message starts, and timers fired from their indexed due time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from engine import queries
from engine.errors import MessageNotDelivered
from engine.models import MessageSubscription, ProcessInstance

T0 = datetime(2026, 5, 6, 8, 0, tzinfo=UTC)


def _start(engine, tx, key, data=None):
    with tx() as session:
        return engine.start(session, key, data or {}).id


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


def test_a_message_reaches_only_the_instance_with_matching_correlation(deploy, engine, tx):
    deploy("payment.bpmn")
    first = _start(engine, tx, "await_payment", {"order_id": 1001})
    second = _start(engine, tx, "await_payment", {"order_id": 1002})
    assert _show(engine, tx, first)["subscriptions"] == [
        {"message": "payment_received", "correlation": "order_id=1001", "element_id": "paid"}]
    with tx() as session:
        result = engine.deliver_message(session, "payment_received", {"order_id": "1002"},
                                        {"paid_amount": Decimal("88.80")}, user="bank")
    assert result["delivered_to"] == [second] and result["started"] == []
    assert _show(engine, tx, first)["status"] == "running"
    shown = _show(engine, tx, second)
    assert shown["status"] == "completed" and shown["data"]["booked"] == "88.80"
    received = next(h for h in shown["history"] if h["kind"] == "message_received")
    assert received["actor"] == "bank" and received["data"]["payload"] == {"paid_amount": "88.80"}
    with tx(readonly=True) as session:
        assert session.scalars(select(MessageSubscription.instance_id)).all() == [first]


def test_a_message_nobody_waits_for_is_reported_not_dropped(deploy, engine, tx):
    deploy("payment.bpmn")
    _start(engine, tx, "await_payment", {"order_id": 7})
    with pytest.raises(MessageNotDelivered, match="payment_received.*order_id=8"):
        with tx() as session:
            engine.deliver_message(session, "payment_received", {"order_id": 8}, {"paid_amount": 1})
    with pytest.raises(MessageNotDelivered, match="no_such_message"):
        with tx() as session:
            engine.deliver_message(session, "no_such_message")


def test_a_message_to_a_suspended_instance_is_refused_and_kept_waiting(deploy, engine, tx):
    deploy("payment.bpmn")
    instance_id = _start(engine, tx, "await_payment", {"order_id": 5})
    with tx() as session:
        engine.suspend(session, instance_id)
    with pytest.raises(MessageNotDelivered, match="suspended"):
        with tx() as session:
            engine.deliver_message(session, "payment_received", {"order_id": 5}, {"paid_amount": 1})
    with tx() as session:
        engine.resume(session, instance_id)
        engine.deliver_message(session, "payment_received", {"order_id": 5}, {"paid_amount": 1})
    assert _show(engine, tx, instance_id)["status"] == "completed"


def test_a_message_start_event_starts_its_process(deploy, engine, tx):
    deploy("order_placed.bpmn")
    with tx() as session:
        result = engine.deliver_message(session, "order_placed", {}, {"order_no": "SO-9", "total": 120})
    [instance_id] = result["started"]
    shown = _show(engine, tx, instance_id)
    assert shown["tasks"][0]["element_id"] == "review_order"
    assert shown["data"]["order_no"] == "SO-9"


def test_a_message_thrown_by_one_instance_is_routed_to_the_waiting_one(deploy, engine, tx):
    deploy("payment.bpmn", "notify_payment.bpmn")
    waiting = _start(engine, tx, "await_payment", {"order_id": 42})
    sender = _start(engine, tx, "notify_payment", {"order_id": 42, "paid_amount": "10.5"})
    assert _show(engine, tx, sender)["status"] == "completed"
    shown = _show(engine, tx, waiting)
    assert shown["status"] == "completed" and shown["data"]["booked"] == "10.5"


def test_timers_fire_once_when_due_and_their_due_time_is_indexed(deploy, engine, tx):
    deploy("timers.bpmn")
    with clock.frozen(T0):
        instance_id = _start(engine, tx, "timers")
    with tx(readonly=True) as session:
        row = session.get(ProcessInstance, instance_id)
        assert row.next_timer_at == T0 + timedelta(minutes=10)
        [timer] = queries.timer_list(engine, session)
    assert timer["element_id"] == "wait" and timer["kind"] == "Duration"
    with tx() as session:
        assert engine.fire_due_timers(session, T0 + timedelta(minutes=9)) == []
    with tx() as session:
        assert engine.fire_due_timers(session, T0 + timedelta(minutes=10, seconds=1)) == [instance_id]
    with tx() as session:
        assert engine.fire_due_timers(session, T0 + timedelta(minutes=10, seconds=2)) == []
    shown = _show(engine, tx, instance_id)
    assert [t["element_id"] for t in shown["tasks"]] == ["answer"]
    # without a dueDate property the task is due when its boundary timer fires
    assert shown["tasks"][0]["due_at"] == (T0 + timedelta(minutes=10, seconds=1, hours=1)).isoformat()
    assert ("timer_fired", "wait") in [(h["kind"], h["element_id"]) for h in shown["history"]]
    # the boundary timer on "answer" is due one hour after the task became ready
    with tx(readonly=True) as session:
        due = session.get(ProcessInstance, instance_id).next_timer_at
    assert due == T0 + timedelta(minutes=10, seconds=1, hours=1)


def test_a_timer_fires_when_the_scheduler_runs_exactly_at_its_due_time(deploy, engine, tx):
    deploy("timers.bpmn")
    with clock.frozen(T0):
        instance_id = _start(engine, tx, "timers")
    with tx() as session:
        assert engine.fire_due_timers(session, T0 + timedelta(minutes=10)) == [instance_id]
    shown = _show(engine, tx, instance_id)
    assert [t["element_id"] for t in shown["tasks"]] == ["answer"]
    assert [h["kind"] for h in shown["history"]].count("timer_fired") == 1


def test_an_interrupting_boundary_timer_cancels_the_task_and_takes_its_path(deploy, engine, tx):
    deploy("timers.bpmn")
    with clock.frozen(T0):
        instance_id = _start(engine, tx, "timers")
    with tx() as session:
        engine.fire_due_timers(session, T0 + timedelta(minutes=11))
    [answer] = _show(engine, tx, instance_id)["tasks"]
    with tx() as session:
        engine.fire_due_timers(session, T0 + timedelta(hours=2))
    shown = _show(engine, tx, instance_id)
    assert [t["element_id"] for t in shown["tasks"]] == ["escalate"]
    with tx(readonly=True) as session:
        assert queries.tasks(session, instance_id=instance_id, status="cancelled")[0]["id"] == answer["id"]
    assert shown["next_timer_at"] is None


def test_suspended_instances_keep_their_timers_until_resumed(deploy, engine, tx):
    deploy("timers.bpmn")
    with clock.frozen(T0):
        instance_id = _start(engine, tx, "timers")
    with tx() as session:
        engine.suspend(session, instance_id)
    with tx() as session:
        assert engine.fire_due_timers(session, T0 + timedelta(hours=1)) == []
    with tx() as session:
        engine.resume(session, instance_id)
    with tx() as session:
        assert engine.fire_due_timers(session, T0 + timedelta(hours=1)) == [instance_id]


def test_a_non_interrupting_cycle_timer_fires_each_occurrence_and_then_stops(deploy, engine, tx):
    deploy("reminders.bpmn")
    with clock.frozen(T0):
        instance_id = _start(engine, tx, "reminders")
    for hour in (1, 2, 3):
        with tx() as session:
            assert engine.fire_due_timers(session, T0 + timedelta(hours=hour, seconds=1)) == [instance_id]
    shown = _show(engine, tx, instance_id)
    fired = [h for h in shown["history"] if h["kind"] == "timer_fired"]
    reminded = [h for h in shown["history"] if h["element_id"] == "remind"]
    assert len(fired) == 3 and len(reminded) == 3
    assert shown["next_timer_at"] is None and [t["element_id"] for t in shown["tasks"]] == ["answer"]
    with tx() as session:
        [task] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, task["id"], {}, "someone")
    assert _show(engine, tx, instance_id)["status"] == "completed"


def test_concurrent_timer_runs_fire_each_due_instance_once(deploy, engine, tx, database):
    """Two schedulers at once: on PostgreSQL rows are claimed with SKIP LOCKED, on SQLite writers queue."""
    import threading

    deploy("timers.bpmn")
    with clock.frozen(T0):
        ids = [_start(engine, tx, "timers") for _ in range(6)]
    fired: list[int] = []
    errors = []

    def scheduler():
        try:
            with database.transaction() as session:
                fired.extend(engine.fire_due_timers(session, T0 + timedelta(minutes=11)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sorted(fired) == ids
    for instance_id in ids:
        shown = _show(engine, tx, instance_id)
        assert [h["kind"] for h in shown["history"]].count("timer_fired") == 1

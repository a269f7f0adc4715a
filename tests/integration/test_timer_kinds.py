"""Timer kinds the worker must handle: a timer start event, and an event-based gateway racing a message
against a timer given in working days on the Chinese calendar."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.calendar import BEIJING, seed_from_chinesecalendar
from engine import queries
from engine.errors import MessageNotDelivered
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.wiring import calendar_cache, script_globals
from forms import FormCatalog
from tests.conftest import FIXTURES

EVE_OF_NATIONAL_DAY = datetime(2026, 9, 30, 9, 0, tzinfo=BEIJING)
NEXT_WORKING_DAY = datetime(2026, 10, 8, 9, 0, tzinfo=BEIJING)  # 1-7 October 2026 are holidays


@pytest.fixture
def engine(operators, tx, database):
    with tx() as session:
        seed_from_chinesecalendar(session, [2026])
    calendar_cache.clear()
    yield Engine(operators, FormCatalog(FIXTURES / "forms"), groups_of=groups_of, script_globals=script_globals())
    calendar_cache.clear()


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


def test_a_timer_start_event_holds_the_instance_until_its_date(deploy, engine, tx):
    deploy("timer_start.bpmn", engine_=engine)
    start_at = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    with clock.frozen(start_at - timedelta(days=3)), tx() as session:
        instance_id = engine.start(session, "timer_start", {"start_at": start_at.isoformat()}).id
    shown = _show(engine, tx, instance_id)
    assert shown["tasks"] == [] and shown["next_timer_at"] == start_at.isoformat()
    with tx() as session:
        assert engine.fire_due_timers(session, start_at - timedelta(seconds=1)) == []
        assert engine.fire_due_timers(session, start_at + timedelta(seconds=1)) == [instance_id]
    assert [t["element_id"] for t in _show(engine, tx, instance_id)["tasks"]] == ["work"]


def test_the_message_wins_the_race_and_the_timer_is_withdrawn(deploy, engine, tx):
    deploy("event_gateway.bpmn", engine_=engine)
    with clock.frozen(EVE_OF_NATIONAL_DAY), tx() as session:
        instance_id = engine.start(session, "event_gateway", {"ticket": "T-1"}).id
    shown = _show(engine, tx, instance_id)
    assert shown["next_timer_at"] == NEXT_WORKING_DAY.astimezone(UTC).isoformat()  # one working day later
    with clock.frozen(EVE_OF_NATIONAL_DAY + timedelta(days=2)), tx() as session:  # during the holiday
        engine.deliver_message(session, "reply_received", {"ticket": "T-1"}, {"answer": "好的"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["next_timer_at"] is None
    with tx() as session:
        assert engine.fire_due_timers(session, NEXT_WORKING_DAY + timedelta(hours=1)) == []


def test_the_timer_wins_the_race_and_the_message_is_no_longer_awaited(deploy, engine, tx):
    deploy("event_gateway.bpmn", engine_=engine)
    with clock.frozen(EVE_OF_NATIONAL_DAY), tx() as session:
        instance_id = engine.start(session, "event_gateway", {"ticket": "T-2"}).id
    with tx() as session:
        assert engine.fire_due_timers(session, NEXT_WORKING_DAY - timedelta(minutes=1)) == []
        assert engine.fire_due_timers(session, NEXT_WORKING_DAY + timedelta(minutes=1)) == [instance_id]
    shown = _show(engine, tx, instance_id)
    assert [t["element_id"] for t in shown["tasks"]] == ["chase"] and shown["subscriptions"] == []
    with pytest.raises(MessageNotDelivered):
        with clock.frozen(NEXT_WORKING_DAY + timedelta(hours=2)), tx() as session:
            engine.deliver_message(session, "reply_received", {"ticket": "T-2"}, {})


def test_a_process_with_a_cycle_timer_start_is_started_on_its_schedule(deploy, engine, tx, database):
    from sqlalchemy import select

    from engine.models import TimerStart
    from erp.worker import Worker

    first = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # Mondays 09:00 in Beijing, three times
    deploy("weekly_report.bpmn", engine_=engine)
    worker = Worker(database, engine)
    assert worker.next_due() == first
    with tx() as session:
        assert engine.start_scheduled_processes(session, first - timedelta(minutes=1)) == []
        [week1] = engine.start_scheduled_processes(session, first + timedelta(seconds=5))
        assert engine.start_scheduled_processes(session, first + timedelta(minutes=5)) == []
    shown = _show(engine, tx, week1)
    assert [t["element_id"] for t in shown["tasks"]] == ["write"]
    assert shown["started_by"] == "scheduler" and "timer start" in shown["history"][0]["message"]
    # the worker was down for two weeks: one start for the missed time, the missed occurrence skipped
    with tx() as session:
        assert len(engine.start_scheduled_processes(session, first + timedelta(days=15))) == 1
        assert session.scalars(select(TimerStart)).all() == []  # R3: done (one of the three was missed)


def test_a_new_version_replaces_the_schedule_of_the_old_one(deploy, engine, tx):
    from sqlalchemy import select

    from engine.models import TimerStart

    deploy("weekly_report.bpmn", engine_=engine)
    changed = (FIXTURES / "bpmn" / "weekly_report.bpmn").read_bytes().replace(b"R3/", b"R/")
    with tx() as session:
        [v2] = engine.deploy(session, {"weekly_report.bpmn": changed})
        [row] = session.scalars(select(TimerStart)).all()
    assert (row.definition_id, row.remaining, row.every_seconds) == (v2.definition_id, -1, 7 * 24 * 3600)


def test_a_timer_start_that_cannot_be_scheduled_is_refused_at_deploy(deploy, engine, tx):
    from engine.errors import DeploymentFailed

    broken = (FIXTURES / "bpmn" / "weekly_report.bpmn").read_bytes().replace(
        b'"R3/2026-06-01T01:00:00+00:00/P7D"', b'"every monday"')
    with pytest.raises(DeploymentFailed) as failed:
        with tx() as session:
            engine.deploy(session, {"weekly_report.bpmn": broken})
    [problem] = failed.value.problems
    assert problem.element_id == "every_week" and problem.line == 4 and "cannot be scheduled" in problem.message

"""Firing due timers from the indexed next-due column (the scheduler calls this)."""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import select

from core import clock
from engine.models import ProcessInstance, TimerStart
from engine.projection import timers
from engine.stepping import ACTIVE, Step
from engine.store import INSTANCE_COLUMNS, record_from

_JUST_AFTER = timedelta(microseconds=1)


class Timers:
    """The Engine's timer half (a mixin: `self` is the Engine)."""

    def fire_due_timers(self, session, now: datetime | None = None, limit: int = 100) -> list[int]:
        """Fire the timers due at `now` (default: the clock) and run their instances on; returns their ids.
        On PostgreSQL due instances are claimed with FOR UPDATE SKIP LOCKED, so workers never share one."""
        at = now or clock.now()
        query = (select(*INSTANCE_COLUMNS).where(ProcessInstance.next_timer_at <= at,
                                                 ProcessInstance.status.in_(ACTIVE))
                 .order_by(ProcessInstance.next_timer_at).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        fired = []
        with clock.frozen(at):
            for row in session.execute(query).all():  # the claimed rows are the instances themselves
                instance = record_from(row)
                workflow = self._workflow(session, instance)
                step = Step(session, instance, workflow, None)
                due = [t for t in timers(workflow) if t["due_at"] is not None and t["due_at"] <= at]
                # SpiffWorkflow fires a timer once its due time is strictly past: one due exactly at `at` fires now
                with clock.frozen(at + _JUST_AFTER):
                    workflow.refresh_timers()
                for timer in due:  # a cycle timer keeps waiting after it fires, so judge by due time
                    step.event("timer_fired", task=workflow.get_task_from_id(UUID(timer["spiff_task_id"])),
                               actor="scheduler", data={"due_at": timer["due_at"]})
                _skip_missed_cycles(step, workflow, at)
                self._run(step)
                self._save(step)
                fired.append(instance.id)
        return fired

    def start_scheduled_processes(self, session, now: datetime | None = None, limit: int = 20) -> list[int]:
        """Start an instance of each process whose timer start event is due; returns the new instances' ids.
        Schedule rows are claimed with SKIP LOCKED on PostgreSQL, so each occurrence starts one instance."""
        at = now or clock.now()
        query = (select(TimerStart).where(TimerStart.next_at <= at).order_by(TimerStart.next_at).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        started = []
        with clock.frozen(at):
            for row in session.scalars(query).all():
                instance = self.start(session, row.process_key, {}, user="scheduler",
                                      definition_id=row.definition_id, scheduled=True)
                started.append(instance.id)
                if not _advance_schedule(row, at):
                    session.delete(row)
            session.flush()
        return started


def _advance_schedule(row: TimerStart, at: datetime) -> bool:
    """Move a schedule past `at` (missed cycles are skipped, not started in a burst); False when it is done."""
    if row.remaining > 0:
        row.remaining -= 1
    if row.remaining == 0 or not row.every_seconds:
        return False
    next_at = row.next_at + timedelta(seconds=row.every_seconds)
    if next_at <= at:
        missed = int((at - next_at).total_seconds() // row.every_seconds) + 1
        if row.remaining > 0:
            missed = min(missed, row.remaining)
            row.remaining -= missed
        next_at += timedelta(seconds=row.every_seconds * missed)
    row.next_at = next_at
    return row.remaining != 0


def _skip_missed_cycles(step: Step, workflow, at: datetime) -> None:
    """After downtime a cycle timer fires once for the time it missed, not once per missed occurrence:
    the occurrences that also lie in the past are skipped (and counted against R<n>) and written to the
    history, and the cycle continues with its first occurrence after `at`."""
    for task in workflow.event_manager.tasks.values():
        value = task.internal_data.get("event_value")
        if not isinstance(value, dict) or value.get("cycles", 0) == 0 or not value.get("duration"):
            continue
        next_at = datetime.fromisoformat(value["next"])
        if next_at > at:
            continue
        missed = int((at - next_at).total_seconds() // value["duration"]) + 1
        if value["cycles"] > 0:
            missed = min(missed, value["cycles"])
            value["cycles"] -= missed
        value["next"] = (next_at + timedelta(seconds=value["duration"] * missed)).isoformat()
        step.event("timer_skipped", task=task, actor="scheduler",
                   data={"missed": missed, "next": value["next"] if value["cycles"] else None})


def timer_start_schedule(spec, script_engine, now: datetime) -> list[dict]:
    """The schedule of each timer start event of a process: when it first starts an instance, how many
    times, how often. An expression that reads instance data (a NameError without any) is no schedule: such a
    process is started explicitly and then waits for its date. Any other failure is a ValueError."""
    rows = []
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if not isinstance(task_spec, StartEvent) or not isinstance(definition, TimerEventDefinition):
            continue
        try:
            value = script_engine.environment.evaluate(definition.expression, {})
        except NameError:
            continue
        except Exception as exc:
            raise _schedule_error(task_spec, definition, exc) from exc
        try:
            rows.append({"element_id": task_spec.bpmn_id or task_spec.name, **_first_start(definition, value, now)})
        except Exception as exc:
            raise _schedule_error(task_spec, definition, exc) from exc
    return rows


def _first_start(definition, value, now: datetime) -> dict:
    if isinstance(definition, CycleTimerEventDefinition):
        cycles, first, period = TimerEventDefinition.parse_iso_recurring_interval(value)
        return {"next_at": first, "remaining": cycles, "every_seconds": period.total_seconds()}
    if isinstance(definition, DurationTimerEventDefinition):
        delay = TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(value), now)
        return {"next_at": now + delay, "remaining": 1, "every_seconds": None}
    return {"next_at": TimerEventDefinition.get_datetime(value), "remaining": 1, "every_seconds": None}


def _schedule_error(task_spec, definition, exc) -> ValueError:
    error = ValueError(f"timer start {definition.expression!r} cannot be scheduled: {exc}")
    error.element_id = task_spec.bpmn_id
    return error


def prime_start_cycles(workflow, at: datetime) -> None:
    """Before a scheduled instance first runs: its cycle timer start event fires once, for the occurrence
    that is due now. Left alone, SpiffWorkflow would fire it once per occurrence since the cycle's anchor date
    (a weekly review anchored 40 weeks ago would start 40 rounds in one instance); the schedule row, not the
    instance, carries the recurrence."""
    for task in workflow.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if not (isinstance(task.task_spec, StartEvent) and isinstance(definition, CycleTimerEventDefinition)):
            continue
        value = workflow.script_engine.evaluate(task, definition.expression)
        cycles, first, period = TimerEventDefinition.parse_iso_recurring_interval(value)
        seconds = period.total_seconds()
        elapsed = int((at - first).total_seconds() // seconds) if seconds and at > first else 0
        latest = first + timedelta(seconds=seconds * elapsed)
        task._set_internal_data(event_value={"cycles": 1, "next": (min(latest, at - timedelta(microseconds=1)))
                                             .isoformat(), "duration": seconds})


def pass_start_timers(workflow, at: datetime) -> None:
    """An instance started by its schedule goes straight past the timer start event that scheduled it."""
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if not (isinstance(task.task_spec, StartEvent) and isinstance(definition, TimerEventDefinition)):
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            task.internal_data.pop("event_value", None)
            task._set_internal_data(event_fired=True)
        else:
            task._set_internal_data(event_value=(at - timedelta(seconds=1)).isoformat())
        task.task_spec._update(task)

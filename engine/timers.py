"""Firing due timers from the indexed next-due column (the scheduler calls this)."""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from core import clock
from engine.models import ProcessInstance
from engine.projection import timers
from engine.stepping import ACTIVE, Step
from engine.store import INSTANCE_COLUMNS, record_from


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
                workflow.refresh_timers()
                for timer in due:  # a cycle timer keeps waiting after it fires, so judge by due time
                    step.event("timer_fired", task=workflow.get_task_from_id(UUID(timer["spiff_task_id"])),
                               actor="scheduler", data={"due_at": timer["due_at"]})
                _skip_missed_cycles(step, workflow, at)
                self._run(step)
                self._save(step)
                fired.append(instance.id)
        return fired


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

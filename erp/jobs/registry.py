"""The registry of periodic jobs: code registers them with a default schedule, the database keeps the
schedule in force and every run. A run claims its minute slot with a unique row first, so of several workers
exactly one runs each slot; the job itself then runs in its own transaction and its outcome is recorded."""
from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import clock
from core.errors import InvalidInput, NotFound
from erp.jobs.models import JobRun, ScheduledJob

log = logging.getLogger(__name__)
JobFunction = Callable[..., object]  # fn(session, now) -> a short result (dict or text) for the run record


@dataclass(frozen=True)
class JobSpec:
    name: str
    schedule: str
    description: str
    fn: JobFunction


def check_schedule(schedule: str) -> str:
    from erp.worker import cron_trigger  # APScheduler stays in the worker module

    try:
        cron_trigger(schedule)
    except ValueError as exc:
        raise InvalidInput(f"{schedule!r} is not a crontab schedule (minute hour day month weekday): {exc}") from None
    return schedule


class PeriodicJobs:
    def __init__(self, database, worker_name: str | None = None):
        self.database = database
        self.worker_name = worker_name
        self._jobs: dict[str, JobSpec] = {}
        self._synced = False

    def register(self, name: str, schedule: str, description: str = ""):
        """Decorator: @jobs.register("risk.alerts", "*/15 * * * *", "评估风险预警 Evaluate risk alerts")."""
        def add(fn: JobFunction) -> JobFunction:
            if name in self._jobs:
                raise ValueError(f"periodic job {name!r} is already registered")
            self._jobs[name] = JobSpec(name, check_schedule(schedule), description, fn)
            return fn
        return add

    def sync(self) -> None:
        """Make sure every registered job has its row; an administrator's schedule or switch is kept."""
        try:
            self._sync()
        except IntegrityError:  # another worker inserted the same rows at the same moment
            self._sync()

    def _sync(self) -> None:
        with self.database.transaction() as session:
            known = {j.name: j for j in session.scalars(select(ScheduledJob))}
            for spec in self._jobs.values():
                row = known.get(spec.name)
                if row is None:
                    session.add(ScheduledJob(name=spec.name, description=spec.description, schedule=spec.schedule,
                                             default_schedule=spec.schedule, enabled=True))
                elif row.default_schedule != spec.schedule:
                    if row.schedule == row.default_schedule:
                        row.schedule = spec.schedule
                    row.default_schedule, row.description = spec.schedule, spec.description
        self._synced = True

    def all(self) -> list[JobSpec]:
        """The enabled jobs with the schedules in force."""
        self.sync()
        with self.database.transaction(readonly=True) as session:
            rows = {j.name: j for j in session.scalars(select(ScheduledJob))}
        return [JobSpec(s.name, rows[s.name].schedule, s.description, s.fn)
                for s in self._jobs.values() if rows[s.name].enabled]

    def run(self, name: str, slot: datetime | None = None) -> str:
        """Run one job for its slot (default: this minute); 'skipped' if another worker has the slot."""
        spec = self._jobs.get(name)
        if spec is None:
            raise NotFound(f"no periodic job {name!r}")
        if not self._synced:
            self.sync()
        now = clock.now()
        slot = (slot or now).replace(second=0, microsecond=0)
        try:
            with self.database.transaction() as session:
                run = JobRun(job_name=name, slot=slot, started_at=now, status="running", worker=self.worker_name)
                session.add(run)
                session.flush()
                run_id = run.id
        except IntegrityError:
            return "skipped"
        status, detail = "ok", None
        try:
            with self.database.transaction() as session:
                result = spec.fn(session, now)
            detail = result if isinstance(result, str) or result is None else json.dumps(result, default=str)
        except Exception as exc:
            status, detail = "failed", "".join(traceback.format_exception(exc))[-4000:]
            log.exception("periodic job %s failed", name)
        with self.database.transaction() as session:
            run = session.get(JobRun, run_id)
            run.status, run.detail, run.finished_at = status, detail, clock.now()
        return status

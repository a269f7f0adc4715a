"""Administrators' changes to periodic jobs (take a session, never commit)."""
from __future__ import annotations

from core import clock
from core.errors import NotFound
from erp.jobs.models import ScheduledJob
from erp.jobs.registry import check_schedule


def change_job(session, name: str, *, enabled: bool | None = None, schedule: str | None = None,
               user: str | None = None) -> ScheduledJob:
    job = session.get(ScheduledJob, name)
    if job is None:
        raise NotFound(f"no periodic job {name!r} (start a worker once so the registered jobs are known)")
    if enabled is not None:
        job.enabled = enabled
    if schedule is not None:
        job.schedule = check_schedule(schedule)
    job.updated_at, job.updated_by = clock.now(), user
    return job

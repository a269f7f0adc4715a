"""Reads about periodic jobs for administrators."""
from __future__ import annotations

from sqlalchemy import select

from engine.values import jsonable
from erp.jobs.models import JobRun, ScheduledJob


def jobs(session) -> list[dict]:
    return [{"name": j.name, "schedule": j.schedule, "default_schedule": j.default_schedule, "enabled": j.enabled,
             "description": j.description} for j in session.scalars(select(ScheduledJob).order_by(ScheduledJob.name))]


def runs(session, job_name: str | None = None, limit: int = 50) -> list[dict]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_name:
        query = query.where(JobRun.job_name == job_name)
    return [{"id": r.id, "job": r.job_name, "slot": jsonable(r.slot), "status": r.status,
             "started_at": jsonable(r.started_at), "finished_at": jsonable(r.finished_at), "worker": r.worker,
             "detail": r.detail} for r in session.scalars(query)]

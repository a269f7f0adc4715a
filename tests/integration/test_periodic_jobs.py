"""Periodic jobs as data: registered in code, visible and changeable by administrators, each slot run once."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import clock
from core.errors import InvalidInput
from erp.identity.models import User
from erp.identity.services import ensure_user
from erp.jobs import queries
from erp.jobs.models import JobRun
from erp.jobs.registry import PeriodicJobs
from erp.jobs.services import change_job

T0 = datetime(2026, 7, 1, 0, 0, 30, tzinfo=UTC)


@pytest.fixture
def jobs(database):
    registry = PeriodicJobs(database, worker_name="test")

    @registry.register("demo.count_users", "*/5 * * * *", "统计用户 Count users")
    def count_users(session, now):
        ensure_user(session, f"seen-{now:%H%M}")
        return {"users": len(session.scalars(select(User.id)).all())}

    @registry.register("demo.broken", "0 8 * * *", "总是失败 Always fails")
    def broken(session, now):
        ensure_user(session, "never-committed")
        raise RuntimeError("the report service is down")

    return registry


def test_registered_jobs_are_listed_with_their_schedules(jobs, tx):
    assert [j.name for j in jobs.all()] == ["demo.count_users", "demo.broken"]
    with tx(readonly=True) as session:
        listed = queries.jobs(session)
    assert [(j["name"], j["schedule"], j["enabled"]) for j in listed] == [
        ("demo.broken", "0 8 * * *", True), ("demo.count_users", "*/5 * * * *", True)]


def test_a_run_is_recorded_with_its_outcome_and_a_failure_rolls_back_its_work(jobs, tx):
    with clock.frozen(T0):
        assert jobs.run("demo.count_users") == "ok"
        assert jobs.run("demo.broken") == "failed"
    with tx(readonly=True) as session:
        runs = {r["job"]: r for r in queries.runs(session)}
        users = set(session.scalars(select(User.username)))
    assert runs["demo.count_users"]["status"] == "ok" and '"users": 1' in runs["demo.count_users"]["detail"]
    assert runs["demo.broken"]["status"] == "failed" and "report service is down" in runs["demo.broken"]["detail"]
    assert runs["demo.broken"]["finished_at"] is not None
    assert users == {"seen-0000"}


def test_each_slot_runs_once_however_many_workers_try(jobs, tx, database):
    outcomes = []
    with clock.frozen(T0):
        threads = [threading.Thread(target=lambda: outcomes.append(jobs.run("demo.count_users")))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(outcomes) == ["ok", "skipped", "skipped", "skipped"]
    with tx(readonly=True) as session:
        assert len(session.scalars(select(JobRun.id)).all()) == 1


def test_an_administrator_changes_a_schedule_or_switches_a_job_off(jobs, tx):
    jobs.sync()
    with tx() as session:
        change_job(session, "demo.count_users", schedule="30 7 * * 1-5", user="admin")
        change_job(session, "demo.broken", enabled=False, user="admin")
    assert [(j.name, j.schedule) for j in jobs.all()] == [("demo.count_users", "30 7 * * 1-5")]
    jobs.sync()  # a restart keeps the administrator's choices
    with tx(readonly=True) as session:
        listed = {j["name"]: j for j in queries.jobs(session)}
    assert listed["demo.count_users"]["schedule"] == "30 7 * * 1-5" and not listed["demo.broken"]["enabled"]
    with pytest.raises(InvalidInput, match="not a crontab schedule"):
        with tx() as session:
            change_job(session, "demo.count_users", schedule="every day")

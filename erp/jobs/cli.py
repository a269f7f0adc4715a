"""`erp jobs`: the periodic jobs, their schedules and runs."""
from __future__ import annotations

import json

import click

from core import db


@click.group("jobs")
def jobs_cli():
    """Periodic jobs: list, runs, run now, enable/disable, change the schedule."""


def _registry():
    from erp.wiring import periodic_jobs

    return periodic_jobs(db.get_database())


@jobs_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_jobs(as_json):
    from erp.jobs import queries

    _registry().sync()
    with db.transaction(readonly=True) as session:
        rows = queries.jobs(session)
    if as_json:
        click.echo(json.dumps({"jobs": rows}, ensure_ascii=False, indent=2))
        return
    for j in rows:
        state = "on " if j["enabled"] else "off"
        click.echo(f"{state} {j['name']:<32} {j['schedule']:<16} {j['description'] or ''}")


@jobs_cli.command("runs")
@click.option("--job", "job_name")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_runs(job_name, limit, as_json):
    from erp.jobs import queries

    with db.transaction(readonly=True) as session:
        rows = queries.runs(session, job_name, limit)
    if as_json:
        click.echo(json.dumps({"runs": rows}, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"#{r['id']:<6} {r['job']:<32} {r['slot']}  {r['status']:<8} {(r['detail'] or '')[:80]}")


@jobs_cli.command("run")
@click.argument("name")
def run_now(name):
    """Run a job now (once for this minute across all workers)."""
    click.echo(f"{name}: {_registry().run(name)}")


@jobs_cli.command("set")
@click.argument("name")
@click.option("--schedule", help='crontab, e.g. "0 8 * * 1-5" (company time zone)')
@click.option("--enable/--disable", "enabled", default=None)
@click.option("--user")
def set_job(name, schedule, enabled, user):
    from erp.jobs.services import change_job

    _registry().sync()
    with db.transaction() as session:
        job = change_job(session, name, schedule=schedule, enabled=enabled, user=user)
        click.echo(f"{job.name}: {job.schedule} {'enabled' if job.enabled else 'disabled'}")

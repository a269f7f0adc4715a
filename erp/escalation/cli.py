"""`erp escalation`: the reminder and escalation policies."""
from __future__ import annotations

import json

import click
from sqlalchemy import select

from core import db


@click.group("escalation")
def escalation_cli():
    """Reminder and escalation policies (default, per process, per task)."""


@escalation_cli.command("set")
@click.option("--process", "process_key", help="the process key (default: every process)")
@click.option("--task", "element_id", help="the user task's element id (needs --process)")
@click.option("--remind-before", type=int, help="minutes before the due time (0: no reminder)")
@click.option("--raise-priority", type=int, help="priority added when overdue")
@click.option("--notify-manager/--no-notify-manager", default=None)
@click.option("--reassign-to", help="hand overdue tasks to this user")
@click.option("--repeat-after", type=int, help="escalate again after this many minutes while overdue")
@click.option("--max-level", type=int)
@click.option("--enable/--disable", "enabled", default=None)
@click.option("--user")
def set_policy_cmd(process_key, element_id, user, **options):
    from erp.escalation.services import set_policy

    names = {"remind_before": "remind_before_minutes", "raise_priority": "raise_priority_by",
             "repeat_after": "repeat_after_minutes"}
    fields = {names.get(k, k): v for k, v in options.items() if v is not None}
    with db.transaction() as session:
        row = set_policy(session, process_key=process_key, element_id=element_id, user=user, **fields)
        click.echo(f"policy {row.process_key or '*'}/{row.element_id or '*'} saved")


@escalation_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_policies(as_json):
    from erp.escalation.models import EscalationPolicy
    from erp.escalation.services import DEFAULT, POLICY_FIELDS

    with db.transaction(readonly=True) as session:
        rows = [{"process": r.process_key, "task": r.element_id, **{f: getattr(r, f) for f in POLICY_FIELDS}}
                for r in session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.id))]
    if as_json:
        click.echo(json.dumps({"default": DEFAULT, "policies": rows}, ensure_ascii=False, indent=2))
        return
    click.echo(f"built-in default: {DEFAULT}")
    for r in rows:
        click.echo(f"{r['process'] or '*'}/{r['task'] or '*'}: " + ", ".join(
            f"{k}={v}" for k, v in r.items() if k not in ("process", "task")))

"""`erp notifications`: a user's notification switches, and the outbox."""
from __future__ import annotations

import json

import click
from sqlalchemy import func, select

from core import db


@click.group("notifications")
def notifications_cli():
    """Which mails a user receives; what waits in the outbox."""


@notifications_cli.command("prefs")
@click.argument("username")
@click.option("--on", "turn_on", multiple=True, help="a kind to receive (e.g. daily_digest)")
@click.option("--off", "turn_off", multiple=True, help="a kind to stop (e.g. task_due_soon)")
@click.option("--json", "as_json", is_flag=True)
def prefs(username, turn_on, turn_off, as_json):
    from notifications.outbox import preferences, set_preference

    with db.transaction() as session:
        for kind in turn_on:
            set_preference(session, username, kind, True)
        for kind in turn_off:
            set_preference(session, username, kind, False)
        current = preferences(session, username)
    if as_json:
        click.echo(json.dumps({"user": username, "preferences": current}, ensure_ascii=False))
    else:
        for kind, enabled in current.items():
            click.echo(f"{'on ' if enabled else 'off'} {kind}")


@notifications_cli.command("outbox")
def outbox():
    """Counts of outbox messages by status."""
    from notifications.models import OutboxMessage

    with db.transaction(readonly=True) as session:
        rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    for status, count in sorted(rows):
        click.echo(f"{status:<8} {count}")

"""The `erp` command line: deploy, start, work on tasks, send messages, administer instances.

Each command is one transaction. With --json a command prints one JSON document; errors then come as
{"error": ..., "errors": {...}} on stdout with a non-zero exit code.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal

import click

from core import db
from core.errors import ErpError, InvalidInput
from core.settings import load_settings

EXIT_ERROR = 1


def _engine():
    from erp.wiring import engine

    return engine()


def _parse_data(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--data is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput("--data must be a JSON object")
    return value


def _emit(as_json: bool, value, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        click.echo(text)


class _Cli(click.Group):
    """Turns expected errors into a clear message and an exit code instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ErpError as exc:
            as_json = "--json" in sys.argv
            errors = getattr(exc, "errors", None) or {}
            problems = [str(p) for p in getattr(exc, "problems", [])]
            if as_json:
                click.echo(json.dumps({"error": str(exc).split("\n")[0], "type": type(exc).__name__,
                                       "errors": errors, "problems": problems}, ensure_ascii=False, indent=2))
            else:
                click.echo(f"error: {exc}", err=True)
                for field, messages in errors.items():
                    for message in messages:
                        click.echo(f"  {field or '(form)'}: {message}", err=True)
            ctx.exit(EXIT_ERROR)


json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document")
user_option = click.option("--user", "user", help="the user acting")


@click.group(cls=_Cli)
def main():
    """BPMN-driven ERP: processes, tasks and messages from the command line."""
    db.configure(load_settings().database_url)
    from erp.audit.changes import begin_acting, command_line_user, end_acting

    acting = begin_acting(command_line_user())  # who the audit log names for this command's changes
    click.get_current_context().call_on_close(lambda: end_acting(acting))


@main.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade():
    """Migrate the database to the latest schema (creates it if missing)."""
    from core.migrate import upgrade

    upgrade(load_settings().database_url)
    click.echo("database is up to date")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@user_option
@click.option("--comment", help="why this version")
@json_option
def deploy(paths, user, comment, as_json):
    """Deploy BPMN/DMN files (default: all of bpmn/). All or nothing."""
    from engine.deploy import read_paths

    sources = read_paths(paths or [load_settings().bpmn_dir])
    with db.transaction() as session:
        results = _engine().deploy(session, sources, user=user, comment=comment)
    lines = [f"{r.key} v{r.version} {'deployed' if r.new else 'unchanged'}" for r in results]
    _emit(as_json, {"deployed": [r.as_dict() for r in results]}, "\n".join(lines))


@main.command()
@json_option
def definitions(as_json):
    """List deployed process definitions and their versions."""
    from engine import queries

    with db.transaction(readonly=True) as session:
        rows = queries.definitions(session)
    _emit(as_json, {"definitions": rows},
          "\n".join(f"{r['key']:<32} v{r['version']:<4} {r['name'] or ''}  {r['deployed_at']}" for r in rows)
          or "no definitions deployed")


@main.command()
@click.argument("key")
@click.option("--data", help="start data as a JSON object")
@click.option("--business-key", help="e.g. the order number")
@click.option("--version", type=int, help="a specific version (default: latest)")
@user_option
@json_option
def start(key, data, business_key, version, user, as_json):
    """Start a process instance and run it to its first wait state."""
    from engine import queries

    engine = _engine()
    with db.transaction() as session:
        instance = engine.start(session, key, _parse_data(data), business_key=business_key, user=user,
                                version=version)
        shown = queries.show(engine, session, instance.id)
    _emit(as_json, shown, _instance_text(shown))


@main.command()
@click.option("--status", help="running, incident, suspended, completed or terminated")
@click.option("--key", help="process key")
@click.option("--business-key")
@click.option("--limit", default=100, show_default=True)
@json_option
def instances(status, key, business_key, limit, as_json):
    """List process instances, newest first."""
    from engine import queries

    with db.transaction(readonly=True) as session:
        rows = queries.instances(session, status=status, key=key, business_key=business_key, limit=limit)
    _emit(as_json, {"instances": rows}, "\n".join(
        f"#{r['id']:<6} {r['key']:<28} v{r['version']:<3} {r['status']:<10} {r['business_key'] or '':<16} "
        f"{r['started_at']}" for r in rows) or "no instances")


@main.command()
@click.argument("instance_id", type=int)
@json_option
def show(instance_id, as_json):
    """Show an instance: status, waiting tasks, timers, incidents, history, data."""
    from engine import queries

    engine = _engine()
    with db.transaction(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    _emit(as_json, shown, _instance_text(shown, full=True))


def _instance_text(s: dict, full: bool = False) -> str:
    lines = [f"instance #{s['id']}  {s['key']} v{s['version']}  status: {s['status']}"
             + (f"  business key: {s['business_key']}" if s["business_key"] else "")]
    for t in s["tasks"]:
        who = t["assignee"] or ", ".join(t["candidate_users"] + t["candidate_groups"]) or "anyone"
        lines.append(f"  task #{t['id']} {t['name']} [{t['element_id']}] for {who}"
                     + (f" form {t['form_key']}" if t["form_key"] else "")
                     + (f" due {t['due_at']}" if t["due_at"] else ""))
    for t in s["timers"]:
        lines.append(f"  timer {t['element_id']} ({t['kind']}) due {t['due_at']}")
    for sub in s["subscriptions"]:
        lines.append(f"  waiting for message {sub['message']} {sub['correlation']}")
    for i in s["incidents"]:
        if i["open"]:
            lines.append(f"  INCIDENT #{i['id']} at {i['element_id']}: {i['error_type']}: {i['message']}")
    if full:
        lines.append("  history:")
        for h in s["history"]:
            lines.append(f"    {h['at']}  {h['kind']:<18} {h['element_id'] or '':<24} {h['actor'] or ''}"
                         + (f"  {h['message']}" if h["message"] else ""))
        lines.append("  data: " + json.dumps(s["data"], ensure_ascii=False))
    return "\n".join(lines)


@main.command()
@user_option
@click.option("--all", "all_users", is_flag=True, help="every open task, not only the user's")
@click.option("--instance", "instance_id", type=int)
@json_option
def tasks(user, all_users, instance_id, as_json):
    """List open tasks (for --user: assigned or offered to them and their groups)."""
    from engine import queries
    from erp.identity.queries import groups_of

    with db.transaction(readonly=True) as session:
        groups = groups_of(session, user) if user else set()
        rows = queries.tasks(session, user=None if all_users else user, groups=groups, instance_id=instance_id)
    _emit(as_json, {"tasks": rows}, "\n".join(
        f"#{t['id']:<6} {t['name'] or t['element_id']:<28} instance #{t['instance_id']:<6} "
        f"{t['assignee'] or 'unclaimed':<12} {','.join(t['candidate_groups'])}" for t in rows) or "no tasks")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", "user", required=True)
@json_option
def claim(task_id, user, as_json):
    """Claim an open task for a user."""
    from engine.queries import task_dict

    with db.transaction() as session:
        task = _engine().claim(session, task_id, user)
        result = task_dict(task)
    _emit(as_json, result, f"task #{task_id} claimed by {user}")


@main.command()
@click.argument("task_id", type=int)
@click.option("--user", "user", required=True)
@json_option
def unclaim(task_id, user, as_json):
    """Give a claimed task back to its group."""
    from engine.queries import task_dict

    with db.transaction() as session:
        result = task_dict(_engine().unclaim(session, task_id, user))
    _emit(as_json, result, f"task #{task_id} released by {user}")


@main.command()
@click.argument("task_id", type=int)
@click.option("--data", help="the form data as a JSON object")
@click.option("--user", "user", required=True)
@json_option
def complete(task_id, data, user, as_json):
    """Complete a task with its form data; the instance runs to its next wait state."""
    from engine import queries

    engine = _engine()
    with db.transaction() as session:
        instance = engine.complete(session, task_id, _parse_data(data), user)
        shown = queries.show(engine, session, instance.id)
    _emit(as_json, shown, f"task #{task_id} completed\n" + _instance_text(shown))


@main.command()
@click.argument("name")
@click.option("--correlation", multiple=True, help="key=value, repeatable")
@click.option("--data", help="the message payload as a JSON object")
@user_option
@json_option
def message(name, correlation, data, user, as_json):
    """Deliver a message to the instances waiting for it (or start the processes it starts)."""
    values = {}
    for item in correlation:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--correlation {item!r} is not key=value")
        values[key] = value
    with db.transaction() as session:
        result = _engine().deliver_message(session, name, values, _parse_data(data), user=user)
    _emit(as_json, result, f"message {name}: delivered to {result['delivered_to'] or 'none'}"
                           f", started {result['started'] or 'none'}")


@main.command()
@click.option("--fire", is_flag=True, help="fire the timers that are due now")
@json_option
def timers(fire, as_json):
    """List waiting timers (the worker fires them; --fire fires the due ones once, now)."""
    from engine import queries

    engine = _engine()
    if fire:
        with db.transaction() as session:
            fired = engine.fire_due_timers(session)
        _emit(as_json, {"fired": fired}, f"fired timers of instances {fired or 'none'}")
        return
    with db.transaction(readonly=True) as session:
        rows = queries.timer_list(engine, session)
    _emit(as_json, {"timers": rows}, "\n".join(
        f"instance #{t['instance_id']:<6} {t['key']:<24} {t['element_id']:<24} {t['kind']:<10} due {t['due_at']}"
        for t in rows) or "no timers")


def _admin(action: str):
    @click.argument("instance_id", type=int)
    @user_option
    @json_option
    def command(instance_id, user, as_json, **kwargs):
        with db.transaction() as session:
            instance = getattr(_engine(), action)(session, instance_id, user=user, **kwargs)
            status = instance.status
        _emit(as_json, {"id": instance_id, "status": status}, f"instance #{instance_id}: {status}")

    return command


main.command("retry", help="Run an instance's failed step again after an incident.")(_admin("retry"))
main.command("suspend", help="Suspend an instance: no task, timer or message moves it.")(_admin("suspend"))
main.command("resume", help="Resume a suspended instance.")(_admin("resume"))
main.command("terminate", help="End an instance now, cancelling its open work.")(
    click.option("--reason")(_admin("terminate")))


@main.group("user")
def user_group():
    """Users and their groups (BPMN lanes name groups)."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "display_name")
@click.option("--email")
@click.option("--group", "groups", multiple=True)
def user_add(username, display_name, email, groups):
    """Add a user (or add groups to one) without a password."""
    from erp.identity.services import ensure_user

    with db.transaction() as session:
        ensure_user(session, username, display_name, email=email, groups=list(groups))
    click.echo(f"user {username} in groups {', '.join(groups) or 'none'}")


@user_group.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="employee, manager, analyst or administrator (repeatable)")
@click.option("--group", "groups", multiple=True, help="a group (BPMN lane) the user belongs to (repeatable)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name")
@click.option("--email")
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), default=None)
@click.option("--manager")
def user_create(username, roles, groups, password, display_name, email, locale, manager):
    """Create a user who can log in (or reset an existing user's roles and password)."""
    from erp.audit.services import record
    from erp.identity.passwords import check_new_password
    from erp.identity.services import ensure_user, user_by_name, user_fields

    with db.transaction() as session:
        existing = user_by_name(session, username)
        before = user_fields(session, existing) if existing else None
        check_new_password(password, username=username, current_hash=existing.password_hash if existing else None)
        user = ensure_user(session, username, display_name, email=email, groups=list(groups), roles=list(roles),
                           password=password, locale=locale, manager=manager)
        record(session, "user.update" if existing else "user.create", actor="cli", target_type="user",
               target_id=username, before=before, after=user_fields(session, user), detail="erp user create")
    click.echo(f"user {username}: roles {', '.join(roles)}; groups {', '.join(groups) or 'none'}")


@user_group.command("list")
@json_option
def user_list(as_json):
    from erp.identity.queries import users

    with db.transaction(readonly=True) as session:
        rows = users(session)
    _emit(as_json, {"users": rows}, "\n".join(
        f"{u['username']:<16} {u['display_name']:<12} {','.join(u['roles']):<24} {','.join(u['groups'])}"
        for u in rows) or "no users")


@main.command()
@click.argument("username")
@click.option("--name", help="what the token is for (shown to administrators)")
def token(username, name):
    """Print a new API token for USERNAME (send it as `Authorization: Bearer <token>`)."""
    from erp.audit.services import record
    from erp.identity.services import create_token, get_user

    with db.transaction() as session:
        user = get_user(session, username)
        if not user.active:
            raise InvalidInput(f"user {username} is deactivated")
        plain = create_token(session, user, name)
        record(session, "token.create", actor="cli", target_type="user", target_id=username, detail=name)
    click.echo(plain)


@main.command()
def demo():
    """Load the zh-CN demo data (users, deployed processes, instances in flight). Safe to run twice."""
    from erp.demo import load_demo

    with db.transaction() as session:
        summary = load_demo(session, _engine())
    click.echo(summary)


@main.command()
@click.option("--once", is_flag=True, help="do what is due now, then exit")
@click.option("--batch", default=20, show_default=True, help="timers fired per transaction")
@click.option("--max-sleep", default=30.0, show_default=True, help="longest sleep between checks (s)")
@click.option("--poll", default=1.0, show_default=True, help="SQLite: how often to re-read the next due time (s)")
def worker(once, batch, max_sleep, poll):
    """Fire BPMN timers when due, send mail, escalate overdue tasks, run periodic jobs."""
    import faulthandler
    import logging
    import signal

    from erp.wiring import build_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every task state change
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run of every job
    the_worker = build_worker(db.get_database(), batch=batch, max_sleep=max_sleep, poll=poll)
    if once:
        click.echo(json.dumps(the_worker.run_once()))
        return
    signal.signal(signal.SIGTERM, lambda *_: the_worker._stopping.set())
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID` prints every thread's stack
    the_worker.run_forever()


@main.group()
def bench():
    """Benchmarks (print figures; not tests)."""


@bench.command("engine")
@click.option("--rounds", default=300, show_default=True, help="iterations per measured figure")
@click.option("--postgres-url", envvar="ERP_BENCH_POSTGRES_URL",
              default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
def bench_engine(rounds, postgres_url):
    """Engine throughput, persistence overhead, rework-loop flatness and SQL statements per step."""
    from bench.engine import run

    run(rounds=rounds, postgres_url=postgres_url, out=click.echo)


@bench.command("timers")
@click.option("--timers", "count", default=10_000, show_default=True, help="timers spread over --spread seconds")
@click.option("--spread", default=120.0, show_default=True)
@click.option("--quick", default=100, show_default=True, help="5-second timers started midway")
@click.option("--postgres-url", envvar="ERP_BENCH_POSTGRES_URL",
              default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
def bench_timers(count, spread, quick, postgres_url):
    """Timer lateness (p50, p99, max) and the worker's idle CPU."""
    from bench.timers import run

    run(timers=count, spread=spread, quick=quick, postgres_url=postgres_url, out=click.echo)


@bench.command("inbox")
@click.option("--tasks", default=100_000, show_default=True, help="open tasks (synthetic rows)")
@click.option("--users", default=10_000, show_default=True, help="users (and users/10 groups)")
@click.option("--requests", default=200, show_default=True, help="requests per inbox endpoint")
@click.option("--http-seconds", default=10.0, show_default=True, help="seconds of starts over HTTP")
@click.option("--postgres-url", envvar="ERP_BENCH_POSTGRES_URL",
              default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
def bench_inbox(tasks, users, requests, http_seconds, postgres_url):
    """Inbox page and tasks API server time (p50/p95) on a large task table; starts and completions over HTTP."""
    from bench.inbox import run

    run(tasks=tasks, users=users, requests=requests, http_seconds=http_seconds, postgres_url=postgres_url,
        out=click.echo)


@bench.command("o2c")
@click.option("--orders", default=200, show_default=True, help="orders run from quotation to payment")
@click.option("--postgres-url", envvar="ERP_BENCH_POSTGRES_URL",
              default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
def bench_o2c(orders, postgres_url):
    """Order-to-cash end to end: orders per second, time and SQL statements per step, slowdown with history."""
    from bench.order_to_cash import run

    run(orders=orders, postgres_url=postgres_url, out=click.echo)


@bench.command("import")
@click.option("--rows", default=100_000, show_default=True, help="legacy customer rows staged and imported")
@click.option("--postgres-url", envvar="ERP_BENCH_POSTGRES_URL",
              default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
def bench_import(rows, postgres_url):
    """Data migration: customer rows staged (full validation) and imported per second, against a bulk insert."""
    from bench.migration import run

    run(rows=rows, postgres_url=postgres_url, out=click.echo)


def _register_commands() -> None:
    from erp.calendar_cli import calendar
    from erp.escalation.cli import escalation_cli
    from erp.finance.cli import ledger_cli
    from erp.jobs.cli import jobs_cli
    from erp.migration.cli import export_template, import_command, import_runs
    from erp.notify_cli import notifications_cli
    from erp.operations.cli import commands as operations_commands

    for command in (calendar, escalation_cli, jobs_cli, ledger_cli, notifications_cli, import_command, export_template,
                    import_runs, *operations_commands):
        main.add_command(command)


_register_commands()

if __name__ == "__main__":
    main()

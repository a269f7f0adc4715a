"""`erp backup` and `erp restore` on SQLite and PostgreSQL: a restored database holds exactly what was backed up
(diagrams, instances, tasks, timers, message subscriptions, the outbox, history) and carries on exactly as the
original would have; restores refuse newer schemas, databases holding data (unless forced), the other kind
of database, and missing or damaged files, with a clear message."""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select, text

from core import clock, db
from core.migrate import alembic_config, upgrade
from engine.models import HumanTask, ProcessInstance
from engine.runtime import Engine
from erp import cli
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.operations.backup import backup, read_manifest
from erp.schema import all_models
from erp.worker import Worker
from forms import FormCatalog
from notifications.config import MailConfig
from notifications.outbox import enqueue
from notifications.sender import send_due
from tests import mail_server
from tests.conftest import FIXTURES, PG_URL, _empty

smtp_server = mail_server.smtp_server  # the fixture, used by name

T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
#: columns whose values are new random ids each time the engine runs (SpiffWorkflow's task UUIDs, and the
#: state that holds them) or wall-clock readings of the mail sender; every other column must come out the same
RANDOM_COLUMNS = {"state", "spiff_task_id", "sent_at", "claimed_until"}


# ---------------------------------------------------------------------- helpers


@pytest.fixture
def erp(monkeypatch, database, database_url):
    """erp("backup", path) runs the command line on the test database; returns click's result."""
    monkeypatch.setenv("ERP_DATABASE_URL", database_url)

    def run(*args):
        try:
            return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)
        finally:
            configured, db._default = db._default, database  # the command configured a database of its own
            if configured is not database:
                configured.dispose()

    return run


@pytest.fixture
def mail_config(smtp_server):
    return MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url="http://erp.test",
                      default_sender="ERP <erp@erp.test>")


def fresh_engine() -> Engine:
    """An engine as a newly started process builds it: nothing cached from before the restore."""
    return Engine(None, FormCatalog(FIXTURES / "forms"), groups_of=groups_of, script_cpu_seconds=1.0)


def everything(database, *, skip=("audit_log",)) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (the audit log gains the restore's own entry)."""
    all_models()
    with database.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*(t.primary_key.columns or t.columns)))]
                for t in db.Base.metadata.sorted_tables if t.name not in skip}


def outcome(database) -> dict[str, list[dict]]:
    """What the engine, the worker and the mail sender made of the data (without the random columns)."""
    tables = {t.name: t for t in db.Base.metadata.sorted_tables}
    with database.engine.connect() as conn:
        return {name: [{c: v for c, v in row._mapping.items() if c not in RANDOM_COLUMNS}
                       for row in conn.execute(select(tables[name]).order_by(tables[name].c.id))]
                for name in ("process_instance", "human_task", "message_subscription", "history_event",
                             "outbox_message")}


def wipe(database, database_url) -> None:
    """Drop everything: the SQLite file goes, the PostgreSQL database is dropped and created empty."""
    database.engine.dispose()
    if database.is_sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(database.engine.url.database + suffix).unlink(missing_ok=True)
        return
    name = database.engine.url.database
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def head_revision(database_url) -> str:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def instances_in_flight(deploy, engine, tx, database) -> dict[str, int]:
    """Two instances at a user task guarded by a timer, one still waiting for its first timer, one waiting for
    a message, and a mail in the outbox."""
    deploy("timers.bpmn", "payment.bpmn")
    with tx() as session:
        ensure_user(session, "wangfang", "王芳", email="wangfang@example.cn")
    with clock.frozen(T0), tx() as session:
        first, second = (engine.start(session, "timers", {}, business_key=f"T-{n}").id for n in (1, 2))
    with clock.frozen(T0 + timedelta(minutes=11)):
        assert Worker(database, engine).fire_due_timers() == 2  # both now at "answer", guarded for an hour
    with clock.frozen(T0 + timedelta(minutes=20)), tx() as session:
        third = engine.start(session, "timers", {}, business_key="T-3").id
        payment = engine.start(session, "await_payment", {"order_id": 4711}, business_key="SO-4711").id
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == first)).all()
        enqueue(session, "task_assigned", to_user="wangfang", dedupe_key=f"task_assigned:{task.id}:wangfang",
                context={"task_id": task.id, "task_name": task.name, "process_name": "Timers",
                         "business_key": "T-1", "due_at": None},
                config=MailConfig(base_url="http://erp.test", default_sender="ERP <erp@erp.test>"))
    return {"first": first, "second": second, "third": third, "payment": payment}


def carry_on(engine, database, mail_config, ids) -> None:
    """What happens next: wangfang answers the first, the payment arrives, and two hours after the start the
    worker runs once (the second's boundary timer, the third's first timer, the outbox)."""
    with clock.frozen(T0 + timedelta(minutes=40)), database.transaction() as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == ids["first"],
                                                         HumanTask.status == "open")).all()
        engine.complete(session, task.id, {"answer": "已处理"}, "wangfang")
        engine.deliver_message(session, "payment_received", {"order_id": "4711"},
                               {"paid_amount": Decimal("1130.00")}, user="bank")
    worker = Worker(database, engine, outbox_sender=lambda: send_due(database, mail_config))
    with clock.frozen(T0 + timedelta(hours=2)):
        assert worker.run_once() == {"timers": 2, "mail": {"sent": 1, "retried": 0, "failed": 0}}


# ---------------------------------------------------------------------- the round trip


def test_a_restored_database_carries_on_exactly_as_the_original_would_have(
        erp, deploy, engine, tx, database, database_url, mail_config, smtp_server, tmp_path):
    ids = instances_in_flight(deploy, engine, tx, database)
    before = everything(database)
    archive = tmp_path / "erp-backup.zip"
    result = erp("backup", archive)
    assert result.exit_code == 0, result.output
    manifest = read_manifest(archive)
    assert manifest.database == ("sqlite" if database.is_sqlite else "postgresql")
    assert manifest.revision == head_revision(database_url)
    assert datetime.fromisoformat(manifest.created_at).tzinfo is not None
    assert {t: manifest.tables[t] for t in ("process_definition", "process_instance", "human_task",
                                            "message_subscription", "outbox_message")} == {
        "process_definition": 2, "process_instance": 4, "human_task": 2, "message_subscription": 1,
        "outbox_message": 1}
    assert manifest.tables["history_event"] == len(before["history_event"])
    assert archive.stat().st_mode & 0o077 == 0  # personal data: nobody but the system's user may read it

    carry_on(engine, database, mail_config, ids)  # the original, as it would have gone on
    expected, expected_mail = outcome(database), smtp_server.message_ids()

    wipe(database, database_url)
    result = erp("restore", archive)
    assert result.exit_code == 0, result.output
    database.engine.dispose()
    assert everything(database) == before  # every row of every table, as it was backed up
    with tx(readonly=True) as session:
        waiting = {i.business_key: i.next_timer_at for i in session.scalars(select(ProcessInstance))}
        restore_entry = session.execute(text(
            "SELECT actor, detail FROM audit_log WHERE action = 'database.restore'")).one()
    assert waiting == {"T-1": T0 + timedelta(minutes=71), "T-2": T0 + timedelta(minutes=71),
                       "T-3": T0 + timedelta(minutes=30), "SO-4711": None}
    assert restore_entry.actor == "cli" and manifest.created_at in restore_entry.detail

    smtp_server.messages.clear()
    carry_on(fresh_engine(), database, mail_config, ids)  # the restored copy, in a new process
    assert outcome(database) == expected
    assert smtp_server.message_ids() == expected_mail  # the same mail, sent once
    statuses = {r["business_key"]: r["status"] for r in expected["process_instance"]}
    assert statuses == {"T-1": "completed", "T-2": "running", "T-3": "running", "SO-4711": "completed"}
    open_tasks = {(r["instance_id"], r["element_id"]) for r in expected["human_task"] if r["status"] == "open"}
    assert open_tasks == {(ids["second"], "escalate"), (ids["third"], "answer")}


def test_a_backup_taken_during_an_open_write_holds_only_committed_work(deploy, engine, tx, database, database_url,
                                                                       tmp_path):
    deploy("timers.bpmn")
    with tx() as session:
        engine.start(session, "timers", {}, business_key="committed")
    with tx() as session:  # a writer is in the middle of its transaction while the backup runs
        engine.start(session, "timers", {}, business_key="uncommitted")
        manifest = backup(database_url, tmp_path / "during.zip")
    assert manifest.tables["process_instance"] == 1
    with zipfile.ZipFile(tmp_path / "during.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["tables"]["process_instance"] == 1


# ---------------------------------------------------------------------- what a restore refuses


def test_a_database_holding_data_is_replaced_only_with_force(erp, deploy, engine, tx, database, tmp_path):
    deploy("timers.bpmn")
    with tx() as session:
        kept = engine.start(session, "timers", {}, business_key="backed-up").id
    archive = tmp_path / "b.zip"
    assert erp("backup", archive).exit_code == 0
    with tx() as session:
        engine.start(session, "timers", {}, business_key="after-the-backup")
        # what a newer schema might have added: a restore leaves none of it behind
        session.execute(text("CREATE TABLE left_over (id integer)"))
        session.execute(text("CREATE VIEW open_work AS SELECT id FROM human_task WHERE status = 'open'"))

    refused = erp("restore", archive)
    assert refused.exit_code == 1 and "holds data" in refused.output and "--force" in refused.output
    with tx(readonly=True) as session:
        assert len(session.scalars(select(ProcessInstance)).all()) == 2  # untouched

    forced = erp("restore", archive, "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["replaced_data"] is True
    database.engine.dispose()
    with tx(readonly=True) as session:
        assert session.scalars(select(ProcessInstance.business_key)).all() == ["backed-up"]
    assert {"left_over", "open_work"}.isdisjoint(inspect(database.engine).get_table_names()
                                                 + inspect(database.engine).get_view_names())
    with clock.frozen(clock.now() + timedelta(minutes=11)):
        assert Worker(database, fresh_engine()).fire_due_timers() == 1
    with tx(readonly=True) as session:
        assert session.scalars(select(HumanTask.instance_id)).all() == [kept]


def test_a_postgresql_restore_that_fails_midway_puts_the_database_back_as_it_was(
        erp, deploy, engine, tx, database, monkeypatch, tmp_path):
    """pg_restore runs after the old objects are dropped and committed: when it fails (here on a dump cut
    short, found only while loading), the database is put back from a dump taken just before."""
    if database.is_sqlite:
        pytest.skip("SQLite's restore writes the file through the backup API, all or nothing")
    from erp.operations import postgres

    deploy("timers.bpmn")
    with tx() as session:
        engine.start(session, "timers", {}, business_key="backed-up")
    archive = tmp_path / "b.zip"
    assert erp("backup", archive).exit_code == 0
    with tx() as session:
        engine.start(session, "timers", {}, business_key="after-the-backup")
    real_run = postgres._run

    def cut_short(tool, args, env, what):
        if what == "pg_restore":
            dump = Path(args[-1])
            short = dump.with_name("short.pgdump")
            short.write_bytes(dump.read_bytes()[: dump.stat().st_size * 3 // 4])
            args = [*args[:-1], str(short)]
        return real_run(tool, args, env, what)

    monkeypatch.setattr(postgres, "_run", cut_short)
    failed = erp("restore", archive, "--force")
    assert failed.exit_code == 1 and "pg_restore failed" in failed.output
    assert "put back as it was" in failed.output and "Traceback" not in failed.output
    database.engine.dispose()
    with tx(readonly=True) as session:
        assert sorted(session.scalars(select(ProcessInstance.business_key))) == ["after-the-backup", "backed-up"]
        assert session.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    monkeypatch.setattr(postgres, "_run", real_run)
    assert erp("restore", archive, "--force").exit_code == 0  # the same archive, loaded whole, replaces it
    database.engine.dispose()
    with tx(readonly=True) as session:
        assert session.scalars(select(ProcessInstance.business_key)).all() == ["backed-up"]
    assert not list(Path(tempfile.gettempdir()).glob("erp-before-restore-*"))


def test_a_freshly_migrated_database_counts_as_empty(erp, deploy, database, tmp_path):
    deploy("timers.bpmn")
    archive = tmp_path / "b.zip"
    assert erp("backup", archive).exit_code == 0
    _empty(database)  # the schema stays, no rows: as after `erp db upgrade`
    result = erp("restore", archive)
    assert result.exit_code == 0, result.output
    database.engine.dispose()
    with database.transaction(readonly=True) as session:
        assert session.execute(text("SELECT key FROM process_definition")).scalars().all() == ["timers"]


def test_a_backup_of_an_older_schema_is_upgraded_after_the_restore(erp, database, database_url, tmp_path):
    script = ScriptDirectory.from_config(alembic_config(database_url))
    older = script.get_revision(script.get_current_head()).down_revision
    wipe(database, database_url)
    upgrade(database_url, older)
    archive = tmp_path / "older.zip"
    assert backup(database_url, archive).revision == older
    wipe(database, database_url)
    result = erp("restore", archive, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revision"] == script.get_current_head()
    database.engine.dispose()
    with database.transaction(readonly=True) as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == script.get_current_head()


def _rewrite_manifest(source: Path, target: Path, **changes) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        manifest = {**json.loads(old.read("manifest.json")), **changes}
        new.writestr("manifest.json", json.dumps(manifest))
        for item in old.infolist():
            if item.filename != "manifest.json":
                new.writestr(item, old.read(item.filename))
    return target


def test_a_backup_from_a_newer_schema_or_the_other_database_is_refused(erp, deploy, database, tmp_path):
    deploy("timers.bpmn")
    archive = tmp_path / "b.zip"
    assert erp("backup", archive).exit_code == 0
    _empty(database)
    newer = _rewrite_manifest(archive, tmp_path / "newer.zip", revision="9999_from_the_future")
    result = erp("restore", newer)
    assert result.exit_code == 1 and "9999_from_the_future" in result.output and "newer" in result.output
    other_kind = "postgresql" if database.is_sqlite else "sqlite"
    result = erp("restore", _rewrite_manifest(archive, tmp_path / "other.zip", database=other_kind))
    assert result.exit_code == 1 and f"backup of a {other_kind} database" in result.output
    with database.transaction(readonly=True) as session:
        assert session.execute(text("SELECT count(*) FROM process_definition")).scalar() == 0  # nothing restored


def test_a_missing_or_damaged_backup_file_is_a_clear_error(erp, deploy, database, tmp_path):
    deploy("timers.bpmn")
    archive = tmp_path / "b.zip"
    assert erp("backup", archive).exit_code == 0
    _empty(database)
    good = archive.read_bytes()
    with zipfile.ZipFile(archive) as packed:
        dump = next(i for i in packed.infolist() if i.filename != "manifest.json")
    flipped = bytearray(good)
    flipped[dump.header_offset + 30 + len(dump.filename) + dump.compress_size // 2] ^= 0xFF  # inside the dump
    cases = {
        "missing.zip": (None, "no backup file"),
        "random.zip": (os.urandom(4096), "not an erp backup archive"),
        "truncated.zip": (good[: len(good) // 2], "not an erp backup archive or is damaged"),
        "flipped.zip": (bytes(flipped), "damaged"),
        "no-manifest.zip": (_zip_without_manifest(tmp_path), "has no manifest.json"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        result = erp("restore", path)
        assert result.exit_code == 1, (name, result.output)
        assert message in result.output and "Traceback" not in result.output, (name, result.output)
    with database.transaction(readonly=True) as session:
        assert session.execute(text("SELECT count(*) FROM process_definition")).scalar() == 0


def _zip_without_manifest(tmp_path: Path) -> bytes:
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as plain:
        plain.writestr("database.sqlite3", b"not a database")
    return path.read_bytes()


def test_a_backup_does_not_overwrite_a_file_unless_forced(erp, database, tmp_path):
    archive = tmp_path / "b.zip"
    archive.write_bytes(b"yesterday's backup")
    result = erp("backup", archive)
    assert result.exit_code == 1 and "exists already" in result.output
    assert archive.read_bytes() == b"yesterday's backup"
    assert erp("backup", archive, "--force").exit_code == 0
    assert read_manifest(archive).tables["process_definition"] == 0


def test_without_postgresql_tools_of_the_servers_version_the_backup_says_what_to_install(
        erp, database, monkeypatch, tmp_path):
    if database.is_sqlite:
        pytest.skip("SQLite is backed up through the sqlite3 module: no outside tools")
    empty_folder = tmp_path / "bin"
    empty_folder.mkdir()
    monkeypatch.setenv("ERP_PG_BIN_DIR", str(empty_folder))
    with database.engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    result = erp("backup", tmp_path / "b.zip")
    assert result.exit_code == 1
    assert f"pg_dump for PostgreSQL {major} or newer is not installed" in result.output
    assert f"postgresql-client-{major}" in result.output and "ERP_PG_BIN_DIR" in result.output
    assert not (tmp_path / "b.zip").exists()

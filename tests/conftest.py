"""Shared fixtures: every database-backed test runs on SQLite and on PostgreSQL, each in a fresh database
migrated with Alembic; tables are emptied between tests."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import Table, create_engine, text
from sqlalchemy.exc import OperationalError

from core import clock, db
from core.migrate import upgrade
from engine.deploy import read_paths
from engine.operators import OperatorRegistry
from engine.runtime import Engine
from erp.identity.queries import groups_of
from forms import FormCatalog

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
PG_URL = os.environ.get("ERP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ERP_REQUIRE_POSTGRES") == "1"
BACKENDS = [b for b in os.environ.get("ERP_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
#: set by `make test` on its PostgreSQL process: the tests that use no database run in the SQLite one only
SECOND_PROCESS = os.environ.get("ERP_TEST_SECOND_PROCESS") == "1"


def pytest_collection_modifyitems(config, items):
    """In `make test`'s second process, tests that touch no database (no database_url among their fixtures)
    are left out: the first process runs them, and both share the machine's two cores."""
    if not SECOND_PROCESS:
        return
    kept, left_out = [], []
    for item in items:
        (kept if "database_url" in getattr(item, "fixturenames", ()) else left_out).append(item)
    config.hook.pytest_deselected(items=left_out)
    items[:] = kept


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url)
        yield url
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    name = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # a throw-away database: a commit need not wait for its WAL to reach the disk (1 ms a commit, and the
        # suite commits tens of thousands of times); what commits see of each other is unchanged
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    if db._default is not None and db._default.url == url:
        db._default.dispose()
        db._default = None
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _each_password_hashed_once():
    """scrypt (werkzeug's default, 0.1 s a hash by design) was over half the time of the tests that make users
    and log them in. Hashing stays real, with the product's parameters; only repeats are saved: a password is
    hashed once in a run (that salted hash is stored for every user then given the same password) and checking
    a password against a hash, a pure function, is computed once per pair. Processes the tests start (the CLI,
    gunicorn, workers) hash as in production."""
    from erp.identity import passwords, services

    hashes, checks = {}, {}
    generate_once, check_once = services.generate_password_hash, services.check_password_hash

    def generate(password, *args, **kwargs):
        key = (password, args, tuple(sorted(kwargs.items())))
        if key not in hashes:
            hashes[key] = generate_once(password, *args, **kwargs)
        return hashes[key]

    def check(pwhash, password):
        if (pwhash, password) not in checks:
            checks[pwhash, password] = check_once(pwhash, password)
        return checks[pwhash, password]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "generate_password_hash", generate)
        patch.setattr(services, "check_password_hash", check)
        patch.setattr(passwords, "check_password_hash", check)
        yield


class _CompiledTemplates(BytecodeCache):
    """Jinja bytecode kept in memory: each app the tests create has a Jinja environment of its own, which
    would compile every template it renders again (tens of milliseconds a page). Keyed by template and
    checked against the template's source, as Jinja's own bytecode caches are."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def _templates_compiled_once():
    from flask import Flask

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": _CompiledTemplates()})
        yield


_databases: dict[str, db.Database] = {}


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of its own, dropped after."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database(database_url) -> db.Database:
    """The test's database, empty, and installed as the process-wide default for code that uses it."""
    database = _databases.get(database_url)
    if database is None:
        database = _databases[database_url] = db.Database(database_url)
    _empty(database)
    db._default = database
    yield database
    db._default = None


def _holding(connection) -> set[str]:
    """The tables holding rows, in one statement."""
    return set(connection.execute(text(" UNION ALL ".join(
        f"SELECT '{table.name}' WHERE EXISTS (SELECT 1 FROM {table.name})"
        for table in db.Base.metadata.sorted_tables))).scalars())


def _empty(database: db.Database) -> None:
    tables = [t.name for t in reversed(db.Base.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            return
        # TRUNCATE costs about 5 ms a table on PostgreSQL whether or not it holds rows (half a second for all
        # of them, before every test): find the few a test wrote to in one statement and empty only those
        holding = _holding(conn)
        if not holding:
            return
        # even those few: DELETE of the rows a test leaves is several times cheaper than TRUNCATE. Tables with
        # triggers of their own (the append-only logs refuse DELETE) are truncated; the other tables'
        # sequences restart as TRUNCATE ... RESTART IDENTITY would restart them
        guarded = set(conn.execute(text(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(:names)"), {"names": list(holding)}).scalars())
        if guarded:
            conn.execute(text(f"TRUNCATE {', '.join(sorted(guarded))} RESTART IDENTITY CASCADE"))
        emptied = [table for table in tables if table in holding and table not in guarded]
        for table in emptied:  # those referring to others first
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text(
            "SELECT setval(s.oid, 1, false) FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:names)"),
            {"names": emptied})


#: what a loader wrote into an empty database: (database, loader, day or frozen time) -> [(table, rows)], the
#: tables in the order to insert them
_loaded_rows: dict[tuple, list[tuple[Table, list[dict]]]] = {}


def load_once(session, name: str, load) -> None:
    """load(session) into the test's empty database, for tests that work on what it loads rather than test
    the loading (those call the loader). Loading the demo data runs processes for seconds; the first load of
    each `name` on each database and day (or frozen time) is kept, row for row, and later tests get those
    rows copied in. Into a database already holding rows, load() runs as usual."""
    from erp.identity.queries import beijing_today

    frozen = clock._override.get()
    key = (session.get_bind().url.render_as_string(), name, frozen.at if frozen else beijing_today())
    session.flush()
    connection = session.connection()
    if _holding(connection):
        load(session)
        return
    if key not in _loaded_rows:
        load(session)
        session.flush()
        _loaded_rows[key] = [(table, _parents_first(table, [dict(row._mapping) for row in connection.execute(
            table.select().order_by(*table.primary_key.columns))])) for table in db.Base.metadata.sorted_tables]
        return
    for table, rows in _loaded_rows[key]:
        if not rows:
            continue
        connection.execute(table.insert(), rows)
        [pk] = table.primary_key.columns if len(table.primary_key.columns) == 1 else [None]
        if connection.dialect.name == "postgresql" and pk is not None and pk.autoincrement is not False:
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk.name}'), "
                                    f"(SELECT max({pk.name}) FROM {table.name}))"))


def demo_data(session, engine) -> None:
    """The demo data (erp.demo.load_demo: users, processes, the company's books and projects), see load_once."""
    from erp.demo import load_demo

    load_once(session, "demo", lambda session: load_demo(session, engine))


def _parents_first(table: Table, rows: list[dict]) -> list[dict]:
    """Rows of a table referring to itself (accounts to their parent, tasks to the one they depend on) ordered
    so that each comes after the row it refers to."""
    links = [(fk.parent.key, fk.column.key) for fk in table.foreign_keys if fk.column.table is table]
    if not links:
        return rows
    done, ordered, left = set(), [], list(rows)
    while left:
        ready = [r for r in left if all(r[col] is None or (ref, r[col]) in done for col, ref in links)]
        assert ready, f"{table.name}: rows refer to each other in a circle"
        ordered += ready
        done.update((ref, row[ref]) for row in ready for _, ref in links)
        ready_ids = {id(row) for row in ready}
        left = [row for row in left if id(row) not in ready_ids]
    return ordered


@pytest.fixture
def operators() -> OperatorRegistry:
    return OperatorRegistry()


@pytest.fixture
def engine(operators) -> Engine:
    """An engine over the test forms (tests/fixtures/forms) with the real group directory."""
    return Engine(operators, FormCatalog(FIXTURES / "forms"), groups_of=groups_of, script_cpu_seconds=1.0)


def process_engine(*, mail: bool = False) -> Engine:
    """The product's engine as the worker and the web app build it (erp.wiring: the operators of bpmn/, the
    script globals, the user directory), over forms/; with `mail` the task and outcome notifications too."""
    from erp import wiring
    from erp.notify import on_engine_event

    return Engine(wiring.build_registry(), FormCatalog(ROOT / "forms"), groups_of=groups_of,
                  script_globals=wiring.script_globals(), user_exists=wiring.user_exists, script_cpu_seconds=2.0,
                  listeners=[on_engine_event] if mail else [])


@pytest.fixture
def product_engine():
    """An engine over the product's own forms (forms/) and operators, for tests that deploy bpmn/."""
    from erp import wiring

    return Engine(wiring.build_registry(), FormCatalog(ROOT / "forms"), groups_of=groups_of, script_cpu_seconds=1.0,
                  script_globals=wiring.script_globals())


@pytest.fixture
def deploy(database, engine):
    """deploy("name.bpmn", ...) deploys files from tests/fixtures/bpmn in one transaction."""

    def _deploy(*names, engine_=None, user="tester"):
        sources = read_paths([FIXTURES / "bpmn" / n for n in names])
        with database.transaction() as session:
            return (engine_ or engine).deploy(session, sources, user=user)

    return _deploy


@pytest.fixture
def tx(database):
    """tx() opens one transaction (a unit of work), like an entry point does."""
    return database.transaction

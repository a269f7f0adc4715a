"""Shared fixtures: every database-backed test runs on SQLite and on PostgreSQL, each in a fresh database
migrated with Alembic; tables are emptied between tests."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core import db
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
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    if db._default is not None and db._default.url == url:
        db._default.dispose()
        db._default = None
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_databases: dict[str, db.Database] = {}


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


def _empty(database: db.Database) -> None:
    tables = [t.name for t in reversed(db.Base.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            return
        # TRUNCATE costs about 5 ms a table on PostgreSQL whether or not it holds rows (half a second for all
        # of them, before every test): find the few a test wrote to in one statement and truncate only those
        holding = conn.execute(text(" UNION ALL ".join(
            f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})" for table in tables))).scalars().all()
        if holding:
            conn.execute(text(f"TRUNCATE {', '.join(holding)} RESTART IDENTITY CASCADE"))


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

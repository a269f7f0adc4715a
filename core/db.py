"""Database engine, sessions and `transaction()`, the one place that commits.

SQLite (the embedded default) runs in WAL mode and takes its write lock at BEGIN (BEGIN IMMEDIATE), so two
writers queue instead of failing half-way; read-only transactions use a plain deferred BEGIN.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core import jsontext
from core.errors import Conflict
from core.settings import load_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite would otherwise drop the zone and compare
    text written with different offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use core.clock.now() or an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime}


def make_engine(url: str, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=jsontext.dumps, json_deserializer=jsontext.loads)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, json_serializer=jsontext.dumps,
                         json_deserializer=jsontext.loads)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        readonly = conn.get_execution_options().get("erp_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Database:
    """An engine and its session factories; one per process and database URL."""

    def __init__(self, url: str, echo: bool = False):
        self.url = url
        self.engine = make_engine(url, echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readonly_sessions = sessionmaker(
            self.engine.execution_options(erp_readonly=True), expire_on_commit=False
        )

    @contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[Session]:
        """One unit of work: commit at the end, roll back on any exception."""
        session = (self._readonly_sessions if readonly else self._sessions)()
        try:
            yield session
            if not readonly:
                session.commit()  # read-only work ends in close(), which rolls back without expiring objects
        except OperationalError as exc:
            session.rollback()
            if _is_lock_conflict(exc):
                raise Conflict("the database is busy with a conflicting change; try again") from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _is_lock_conflict(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "could not serialize" in text or "deadlock detected" in text


_default: Database | None = None


def configure(url: str | None = None, echo: bool | None = None) -> Database:
    """Set the process-wide database (entry points call this once; tests call it per database)."""
    global _default
    settings = load_settings()
    if _default is not None:
        _default.dispose()
    _default = Database(url or settings.database_url, settings.echo_sql if echo is None else echo)
    return _default


def get_database() -> Database:
    return _default if _default is not None else configure()


@contextmanager
def transaction(readonly: bool = False) -> Iterator[Session]:
    with get_database().transaction(readonly=readonly) as session:
        yield session

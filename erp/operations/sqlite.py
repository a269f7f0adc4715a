"""Backing up and restoring a SQLite database file with SQLite's online backup API.

The backup API copies the database page by page inside one read transaction, so the copy is consistent while
the web app and the workers go on writing (in WAL mode readers and the writer do not wait for each other). The
copy is switched out of WAL mode so that the archived file holds everything by itself.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from erp.operations.dumps import BackupError, DumpFacts, no_schema

DUMP_NAME = "database.sqlite3"
COMPRESS = True
#: how long to wait for a lock held by another connection (the running app) before giving up
LOCK_TIMEOUT = 30.0


def database_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"the SQLite database {name or ':memory:'!r} is not a file that can be backed up")
    return Path(name)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=LOCK_TIMEOUT, isolation_level=None)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection) -> list[str]:
    """Our tables (not SQLite's own bookkeeping such as sqlite_sequence)."""
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name")]


def _counts(conn: sqlite3.Connection, tables) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0] for t in tables}


def _revision(conn: sqlite3.Connection, where: str) -> str:
    if "alembic_version" not in _tables(conn):
        raise no_schema(where)
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise no_schema(where)
    return row[0]


def snapshot(url: str, dump: Path) -> DumpFacts:
    """Copy the live database to `dump` and report what the copy holds."""
    path = database_path(url)
    if not path.is_file():
        raise BackupError(f"there is no SQLite database at {path}")
    try:
        with closing(_connect(path)) as live, closing(_connect(dump)) as copy:
            live.backup(copy)  # all pages in one step: one consistent read of the live database
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            facts = DumpFacts(revision=_revision(copy, f"the database {path}"), tables=_counts(copy, _tables(copy)),
                              server_version=sqlite3.sqlite_version, tool=f"SQLite {sqlite3.sqlite_version} backup API")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the SQLite database {path} cannot be backed up: {exc}") from None
    return facts


def is_empty(url: str) -> bool:
    """No rows in any table (a missing file, or one freshly migrated, is empty)."""
    path = database_path(url)
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        with closing(_connect(path)) as conn:
            return not any(conn.execute(f"SELECT 1 FROM {_quote(t)} LIMIT 1").fetchone()
                           for t in _tables(conn) if t != "alembic_version")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the SQLite database {path} cannot be read: {exc}") from None


def check_dump(dump: Path, manifest) -> None:
    """The unpacked file is a sound SQLite database with a schema version."""
    try:
        with closing(_connect(dump)) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"the database in the backup is damaged: {verdict}")
            _revision(conn, "the database in the backup")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the database in the backup is damaged: {exc}") from None


def load(url: str, dump: Path, manifest) -> None:
    """Overwrite the database file at `url` with the dump, through the backup API (which takes the target's
    write lock, so nothing half-copied is ever seen)."""
    path = database_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(_connect(dump)) as source, closing(_connect(path)) as target:
            source.backup(target)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(f"the SQLite database {path} is in use: stop the web app and the workers, then "
                              "restore again") from None
        raise BackupError(f"the SQLite database {path} could not be written: {exc}") from None


def table_counts(url: str, tables) -> dict[str, int]:
    with closing(_connect(database_path(url))) as conn:
        present = set(_tables(conn))
        return _counts(conn, [t for t in tables if t in present])

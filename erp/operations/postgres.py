"""Backing up and restoring a PostgreSQL database with pg_dump (custom format) and pg_restore.

The row counts in the manifest and the dump come from one snapshot: a REPEATABLE READ transaction exports it
(pg_export_snapshot) and pg_dump reads under it with --snapshot, so what is counted is what is dumped, while
the web app and the workers keep working. pg_dump and pg_restore must be at least as new as the server;
the one of the server's own major version is preferred (Debian keeps each under /usr/lib/postgresql/N/bin;
ERP_PG_BIN_DIR names another folder).
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from erp.operations.dumps import BackupError, DumpFacts, no_schema

DUMP_NAME = "database.pgdump"
COMPRESS = False  # the custom format is compressed already
TOOL_TIMEOUT = 6 * 3600  # seconds; a big database takes long, a hung tool must not hang a nightly job forever


@dataclass(frozen=True)
class Tool:
    path: str
    major: int
    version: str


# ---------------------------------------------------------------------- connections


def _engine(url: str):
    return create_engine(url, poolclass=NullPool)


def _connect(url: str):
    """One connection (a context manager), with a clear error when the server or database is not there."""
    engine = _engine(url)
    try:
        return _Connected(engine, engine.connect())
    except OperationalError as exc:
        engine.dispose()
        where = make_url(url).render_as_string(hide_password=True)
        raise BackupError(f"cannot connect to {where}: {str(exc.orig).strip()} (for a restore, create the "
                          "database first, e.g. with createdb)") from None


class _Connected:
    def __init__(self, engine, conn: Connection):
        self.engine, self.conn = engine, conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()
        self.engine.dispose()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The connection string for pg_dump/pg_restore and their environment; the password travels in the
    environment, not on a command line every user of the machine can read."""
    from psycopg.conninfo import make_conninfo

    parsed = make_url(url)
    params = {"dbname": parsed.database, "host": parsed.host, "port": parsed.port, "user": parsed.username}
    params.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None}), env


def _server_major(conn: Connection) -> tuple[int, str]:
    number = int(conn.execute(text("SHOW server_version_num")).scalar())
    return number // 10000, conn.execute(text("SHOW server_version")).scalar()


# ---------------------------------------------------------------------- the tools


def find_tool(name: str, at_least: int, prefer: int | None = None) -> Tool:
    """pg_dump or pg_restore of major version `prefer` if there is one, else the oldest not older than
    `at_least`."""
    candidates = _candidates(name)
    found = [tool for tool in (_probe(path) for path in candidates) if tool is not None]
    fitting = sorted((t for t in found if t.major >= at_least), key=lambda t: (t.major != prefer, t.major))
    if fitting:
        return fitting[0]
    seen = ", ".join(f"{t.path} ({t.major})" for t in found) or "none"
    raise BackupError(f"{name} for PostgreSQL {at_least} or newer is not installed (found: {seen}); install "
                      f"the PostgreSQL client tools of version {prefer or at_least} (Debian: postgresql-client-"
                      f"{prefer or at_least}) or set ERP_PG_BIN_DIR to the folder holding {name}")


def _candidates(name: str) -> list[str]:
    folder = os.environ.get("ERP_PG_BIN_DIR")
    if folder:
        return [str(Path(folder) / name)]
    paths = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    on_path = shutil.which(name)
    return paths + ([on_path] if on_path else [])


def _probe(path: str) -> Tool | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", out)
    return Tool(path, int(match.group(1)), out.strip()) if match else None


def _run(tool: Tool, args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run([tool.path, *args], env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within {TOOL_TIMEOUT} s") from None
    if done.returncode != 0:
        detail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise BackupError(f"{what} failed ({Path(tool.path).name} exit code {done.returncode}): {detail}")


# ---------------------------------------------------------------------- what the database holds


def _tables(conn: Connection) -> list[str]:
    return sorted(inspect(conn).get_table_names())


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _counts(conn: Connection, tables) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {_quote(conn, t)}")).scalar() for t in tables}


def _revision(conn: Connection, where: str) -> str:
    if "alembic_version" not in _tables(conn):
        raise no_schema(where)
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise no_schema(where)
    return revision


# ---------------------------------------------------------------------- backup


def snapshot(url: str, dump: Path) -> DumpFacts:
    """pg_dump the database to `dump` under the snapshot in which its rows are counted."""
    conninfo, env = _libpq(url)
    with _connect(url) as conn:
        major, version = _server_major(conn)
        tool = find_tool("pg_dump", major, prefer=major)
        conn.rollback()  # end the transaction the version query began, to start one with the right isolation
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
            revision = _revision(conn, f"the database {make_url(url).database}")
            tables = _counts(conn, _tables(conn))
            # the exporting transaction stays open while pg_dump reads: the snapshot lives as long as it does
            _run(tool, ["--format=custom", f"--snapshot={snapshot_id}", f"--file={dump}", "--no-password",
                        f"--dbname={conninfo}"], env, "pg_dump")
    return DumpFacts(revision=revision, tables=tables, server_version=version, tool=tool.version)


# ---------------------------------------------------------------------- restore


def is_empty(url: str) -> bool:
    """No rows in any table of the current schema (a freshly created or migrated database is empty)."""
    with _connect(url) as conn:
        tables = [t for t in _tables(conn) if t != "alembic_version"]
        if not tables:
            return True
        probe = " UNION ALL ".join(f"SELECT 1 FROM (SELECT 1 FROM {_quote(conn, t)} LIMIT 1) AS {_quote(conn, t)}"
                                   for t in tables)
        return conn.execute(text(f"SELECT count(*) FROM ({probe}) AS holding")).scalar() == 0


def check_dump(dump: Path, manifest) -> None:
    """pg_restore can read the archive's table of contents (a damaged dump fails here, before anything is
    dropped)."""
    tool = find_tool("pg_restore", _dump_major(manifest.tool))
    _run(tool, ["--list", str(dump)], dict(os.environ), "reading the dump")


def load(url: str, dump: Path, manifest) -> None:
    """Drop what the current schema holds, then pg_restore the dump in one transaction. The drop is committed
    before pg_restore runs in a session of its own, so a database holding data is first dumped aside: if the
    restore fails, that dump is put back and the error says so; if putting it back fails too, the error names
    the file that holds it."""
    conninfo, env = _libpq(url)
    dump_major = _dump_major(manifest.tool)
    with _connect(url) as conn:
        major, _ = _server_major(conn)
        # the tool first: without one nothing may be dropped
        tool = find_tool("pg_restore", max(major, dump_major), prefer=major if major >= dump_major else None)
    before = _set_aside(url)
    _replace(url, tool, dump, conninfo, env, "pg_restore", before)
    if before is not None:
        shutil.rmtree(before.parent, ignore_errors=True)
    with _connect(url) as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))  # fresh planner figures


def _set_aside(url: str) -> Path | None:
    """A dump of the database as it is (None when it holds no rows), in a folder of its own."""
    if is_empty(url):
        return None
    folder = Path(tempfile.mkdtemp(prefix="erp-before-restore-"))
    try:
        snapshot(url, folder / DUMP_NAME)
    except BackupError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise BackupError(f"the database could not be dumped aside before the restore, so nothing was "
                          f"replaced: {exc}") from None
    return folder / DUMP_NAME


def _replace(url: str, tool: Tool, dump: Path, conninfo: str, env: dict[str, str], what: str,
             before: Path | None = None) -> None:
    with _connect(url) as conn:
        _drop_everything(conn)
        conn.commit()
    try:
        _run(tool, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password",
                    f"--dbname={conninfo}", str(dump)], env, what)
    except BackupError as failed:
        if before is None:
            raise
        try:
            _replace(url, tool, before, conninfo, env, "putting the database back as it was")
        except BackupError as again:
            raise BackupError(f"{failed}. Putting the database back as it was failed too ({again}); what it "
                              f"held is in {before}: restore that file with pg_restore") from None
        shutil.rmtree(before.parent, ignore_errors=True)
        raise BackupError(f"{failed}. The database was put back as it was before the restore") from None


def _dump_major(tool_version: str) -> int:
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", tool_version or "")
    return int(match.group(1)) if match else 0


#: objects of the current schema that an extension does not own, by kind; dropped in this order
_OBJECTS = {
    "VIEW": "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind IN ('v') AND {free}",
    "MATERIALIZED VIEW": "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = "
                         "current_schema()::regnamespace AND c.relkind = 'm' AND {free}",
    "TABLE": "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
             "AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition AND {free}",
    "SEQUENCE": "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = "
                "current_schema()::regnamespace AND c.relkind = 'S' AND {free}",
    "ROUTINE": "SELECT c.oid::regprocedure::text FROM pg_proc c WHERE c.pronamespace = "
               "current_schema()::regnamespace AND {free}",
    "TYPE": "SELECT format_type(c.oid, NULL) FROM pg_type c WHERE c.typnamespace = current_schema()::regnamespace "
            "AND c.typtype IN ('e', 'd', 'r', 'm') AND {free}",
}
_NOT_FROM_AN_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"


def _drop_everything(conn: Connection) -> None:
    """Empty the current schema (normally `public`) of everything a restore brings back. The schema itself
    stays, with its owner and grants."""
    for kind, query in _OBJECTS.items():
        for name in conn.execute(text(query.format(free=_NOT_FROM_AN_EXTENSION))).scalars().all():
            try:
                with conn.begin_nested():
                    conn.execute(text(f"DROP {kind} IF EXISTS {name} CASCADE"))
            except ProgrammingError:  # already dropped by an earlier CASCADE under another name
                continue


def table_counts(url: str, tables) -> dict[str, int]:
    with _connect(url) as conn:
        present = set(_tables(conn))
        return _counts(conn, [t for t in tables if t in present])

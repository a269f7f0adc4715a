"""Backing up and restoring the whole database as one archive file.

Everything the system knows lives in its database: deployed diagrams, instances with their timers and
message subscriptions, human tasks, history, the mail outbox, attachments and the business records. A backup is
a zip archive holding `manifest.json` (which database, the Alembic revision, when, rows per table, the dump's
checksum) and the dump, made with the database's own tools (SQLite's online backup API, pg_dump) so it is
consistent while the web app and the workers keep running. A restore checks the archive, refuses a backup from
a schema newer than this code, refuses to replace a database that holds data unless forced, loads the dump,
checks the row counts against the manifest and migrates the result to the current schema.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core import clock
from core.migrate import alembic_config, upgrade
from erp.operations import postgres, sqlite
from erp.operations.dumps import BackupError

FORMAT = "erp-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: the database kinds a backup can be made of, each with its dump's name in the archive and its tools
DRIVERS = {"sqlite": sqlite, "postgresql": postgres}
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    """What a backup archive says about itself."""

    database: str  # "sqlite" or "postgresql"
    revision: str  # the Alembic revision of the schema in the dump
    created_at: str  # ISO 8601, UTC
    tables: dict[str, int]  # rows per table, counted in the same snapshot as the dump
    dump: str  # the dump's name inside the archive
    sha256: str
    size: int
    server_version: str
    tool: str  # what made the dump (the SQLite library or pg_dump, with versions)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value) -> Manifest:
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise BackupError("the archive's manifest is not an erp backup manifest")
        if value.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"backup format version {value.get('format_version')!r} is not supported by this "
                              f"code (it reads version {FORMAT_VERSION})")
        try:
            manifest = cls(**{name: value[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError) as exc:
            raise BackupError(f"the archive's manifest is incomplete: {exc}") from None
        if manifest.database not in DRIVERS or not isinstance(manifest.tables, dict):
            raise BackupError(f"the archive's manifest names an unknown database {manifest.database!r}")
        return manifest


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    revision: str  # the schema revision after the upgrade
    replaced_data: bool  # the database held data before (restore --force)


# ---------------------------------------------------------------------- backup


def database_kind(url: str) -> str:
    try:
        kind = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise BackupError(f"the database URL is not valid: {exc}") from None
    if kind not in DRIVERS:
        raise BackupError(f"backups are made of SQLite and PostgreSQL databases, not {kind}")
    return kind


def backup(url: str, target: Path, *, overwrite: bool = False) -> Manifest:
    """Write a backup of the database at `url` to `target` (atomically: a half-written archive never appears
    under that name)."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already (choose another name or overwrite it with --force)")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    kind = database_kind(url)
    driver = DRIVERS[kind]
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".erp-backup-") as work:
        dump = Path(work) / driver.DUMP_NAME
        facts = driver.snapshot(url, dump)
        digest, size = _sha256(dump)
        manifest = Manifest(database=kind, revision=facts.revision, created_at=clock.now().isoformat(),
                            tables=facts.tables, dump=driver.DUMP_NAME, sha256=digest, size=size,
                            server_version=facts.server_version, tool=facts.tool)
        partial = Path(work) / "archive.zip"
        _write_archive(partial, manifest, dump, compress=driver.COMPRESS)
        os.chmod(partial, 0o600)  # it holds every person's data: readable by the system's own user only
        os.replace(partial, target)
    return manifest


def _write_archive(path: Path, manifest: Manifest, dump: Path, *, compress: bool) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest.as_dict(), ensure_ascii=False, indent=2),
                         compress_type=zipfile.ZIP_DEFLATED)
        # a pg_dump custom-format dump is compressed already; a SQLite file shrinks a lot
        archive.write(dump, manifest.dump, compress_type=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# ---------------------------------------------------------------------- reading an archive


def read_manifest(source: Path) -> Manifest:
    """The manifest of a backup archive (checks that it is one, not the dump inside)."""
    with _open_archive(Path(source)) as archive:
        return _manifest_of(archive, source)


def _open_archive(source: Path) -> zipfile.ZipFile:
    if not source.exists():
        raise BackupError(f"no backup file at {source}")
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{source} is not an erp backup archive or is damaged ({exc})") from None


def _manifest_of(archive: zipfile.ZipFile, source: Path) -> Manifest:
    try:
        raw = archive.read(MANIFEST)
    except KeyError:
        raise BackupError(f"{source} has no {MANIFEST}: it is not an erp backup") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{source} is damaged: its manifest cannot be read ({exc})") from None
    try:
        value = json.loads(raw)
    except ValueError:
        raise BackupError(f"{source}: the manifest is not valid JSON") from None
    return Manifest.from_dict(value)


def _extract_dump(archive: zipfile.ZipFile, manifest: Manifest, source: Path, into: Path) -> Path:
    """Unpack the dump, checking it against the manifest's size and checksum."""
    dump = into / Path(manifest.dump).name
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(manifest.dump) as packed, open(dump, "wb") as unpacked:
            while chunk := packed.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                unpacked.write(chunk)
    except KeyError:
        raise BackupError(f"{source} lacks the dump {manifest.dump} its manifest names") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # bad CRC, bad or short data
        raise BackupError(f"{source} is damaged: the dump cannot be read ({exc})") from None
    if size != manifest.size or digest.hexdigest() != manifest.sha256:
        raise BackupError(f"{source} is damaged: the dump does not match the checksum in its manifest")
    return dump


# ---------------------------------------------------------------------- restore


def restore(url: str, source: Path, *, force: bool = False) -> Restored:
    """Replace the database at `url` with the backup in `source`, then migrate it to the current schema."""
    source = Path(source)
    kind = database_kind(url)
    driver = DRIVERS[kind]
    with _open_archive(source) as archive:
        manifest = _manifest_of(archive, source)
        if manifest.database != kind:
            raise BackupError(f"{source} is a backup of a {manifest.database} database; the configured database "
                              f"is {kind} (restore it into a database of the same kind)")
        _check_revision_known(url, manifest.revision)
        holds_data = not driver.is_empty(url)
        if holds_data and not force:
            raise BackupError("the database holds data; restoring would replace all of it. Stop the web app "
                              "and the workers, back it up if it matters, then run the restore with --force")
        with tempfile.TemporaryDirectory(prefix="erp-restore-") as work:
            dump = _extract_dump(archive, manifest, source, Path(work))
            driver.check_dump(dump, manifest)
            driver.load(url, dump, manifest)
    _check_counts(manifest, driver.table_counts(url, manifest.tables))
    upgrade(url)
    return Restored(manifest=manifest, revision=_script(url).get_current_head(), replaced_data=holds_data)


def _check_counts(manifest: Manifest, restored: dict[str, int]) -> None:
    differ = {t: (n, restored.get(t)) for t, n in manifest.tables.items() if restored.get(t) != n}
    if differ:
        listed = ", ".join(f"{t}: {want} in the backup, {got} restored" for t, (want, got) in sorted(differ.items()))
        raise BackupError(f"the restored database does not hold what the backup lists ({listed})")


def _script(url: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(url))


def _check_revision_known(url: str, revision: str) -> None:
    """A schema revision this code does not have comes from newer code: it cannot be migrated from here."""
    script = _script(url)
    try:  # exactly a revision id: not "head", nor a prefix of one
        found = script.get_revision(revision) if isinstance(revision, str) and revision else None
    except CommandError:
        found = None
    known = found is not None and found.revision == revision
    if not known:
        raise BackupError(f"the backup has schema revision {revision!r}, which this code does not know (its "
                          f"newest is {script.get_current_head()!r}): it was made by a newer version of the "
                          "system; install that version (or newer) to restore it")

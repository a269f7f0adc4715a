"""`erp backup FILE` and `erp restore FILE`: the whole database (SQLite or PostgreSQL, ERP_DATABASE_URL) to one
archive and back. Each is recorded in the audit log: a backup holds every person's data."""
from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from core import db
from core.settings import load_settings

_file = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
_json = click.option("--json", "as_json", is_flag=True, help="print one JSON document")


@click.command("backup")
@_file
@click.option("--force", is_flag=True, help="overwrite FILE if it exists")
@_json
def backup_command(file: Path, force: bool, as_json: bool):
    """Back up the whole database to FILE (safe while the web app and the workers run)."""
    from erp.operations.backup import backup

    manifest = backup(load_settings().database_url, file, overwrite=force)
    _audit("database.backup", file, f"revision {manifest.revision}, {manifest.rows} rows")
    if as_json:
        click.echo(json.dumps({"file": str(file), "manifest": manifest.as_dict()}, ensure_ascii=False, indent=2))
        return
    click.echo(f"backed up the {manifest.database} database (schema revision {manifest.revision}, "
               f"{len(manifest.tables)} tables, {manifest.rows} rows) to {file}")


@click.command("restore")
@_file
@click.option("--force", is_flag=True, help="replace a database that holds data (all of it is lost)")
@_json
def restore_command(file: Path, force: bool, as_json: bool):
    """Restore the database from FILE made by `erp backup`, then migrate it to the current schema. Stop the
    web app and the workers first."""
    from erp.operations.backup import restore

    db.get_database().dispose()  # no pooled connection of this process may hold the database during the load
    restored = restore(load_settings().database_url, file, force=force)
    manifest = restored.manifest
    _audit("database.restore", file, f"backup of {manifest.created_at} at revision {manifest.revision}, "
                                     f"now {restored.revision}; replaced data: {restored.replaced_data}")
    if as_json:
        click.echo(json.dumps({"file": str(file), "manifest": manifest.as_dict(), "revision": restored.revision,
                               "replaced_data": restored.replaced_data}, ensure_ascii=False, indent=2))
        return
    click.echo(f"restored the backup of {manifest.created_at} ({manifest.rows} rows, schema revision "
               f"{manifest.revision}); the database is now at revision {restored.revision}")


def _audit(action: str, file: Path, detail: str) -> None:
    from erp.audit.services import record

    with db.transaction() as session:
        record(session, action, actor="cli", target_type="database", target_id=str(Path(file).resolve()),
               detail=f"{detail}; by the system user {_system_user()}")


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return "unknown"


commands = (backup_command, restore_command)

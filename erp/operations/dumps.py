"""What the dump modules of each database (sqlite.py, postgres.py) share: the error an operator sees and the
facts a snapshot reports about the dump it made."""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import ErpError


class BackupError(ErpError):
    """A backup or restore that cannot be done, with the reason in words an operator can act on."""


@dataclass(frozen=True)
class DumpFacts:
    """What was in the database when its dump was taken (read in the same snapshot as the dump)."""

    revision: str
    tables: dict[str, int]
    server_version: str
    tool: str


def no_schema(where: str) -> BackupError:
    return BackupError(f"{where} has no schema version (alembic_version): it is not an erp database, or it was "
                       "never migrated (erp db upgrade)")

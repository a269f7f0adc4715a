"""Data-migration tables: saved column mappings (数据映射), staged runs with every source row as read and as
cleansed (the dry run, 模拟导入), and the legacy keys of what has been imported (the upsert key)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, exists, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from core.db import Base, UtcDateTime

SOURCE_KINDS = ("csv", "xlsx", "sql")
RUN_STATUSES = ("validated", "approved", "importing", "imported", "reconciled", "signed_off", "failed",
                "superseded")
ROW_STATUSES = ("ok", "warning", "error")


#: rows imported per batch (one transaction each): a crash loses at most one batch's work, and larger batches
#: spend less on committing — each commit writes every index page its batch touched, and a large import's
#: inserts touch pages all over the name, tax number and phone indexes (100,000 customers on SQLite: commits
#: 1.9-2.5 s in batches of 1,000, 0.6 s in batches of 5,000). A batch of 5,000 holds SQLite's write lock
#: for about half a second.
BATCH_SIZE = 5000


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Mapping(Base):
    """A named mapping from a legacy file's columns to an entity's fields, kept to reuse on the next upload."""

    __tablename__ = "migration_mapping"
    __table_args__ = (UniqueConstraint("entity", "name", name="uq_migration_mapping_entity_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: a key of erp.migration.entities.ENTITIES
    entity: Mapped[str] = mapped_column(String(40))
    #: {target_field: {"source": column or None, "transforms": [{"op": ...}, ...], "default": value or None}}
    columns: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MigrationRun(Base):
    """One upload of one entity's data: validated (the dry run), approved, imported in batches, reconciled
    and signed off; a re-upload supersedes it."""

    __tablename__ = "migration_run"
    __table_args__ = (CheckConstraint(_in("source_kind", SOURCE_KINDS), name="source_kind_known"),
                      CheckConstraint(_in("status", RUN_STATUSES), name="status_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40), index=True)
    mapping_id: Mapped[int | None] = mapped_column(ForeignKey("migration_mapping.id", ondelete="SET NULL"))
    #: the columns JSON actually used (a saved mapping may change later)
    mapping: Mapped[dict] = mapped_column(JSON)
    #: the file name, or the SQL URL without its password
    source_name: Mapped[str] = mapped_column(String(500))
    source_kind: Mapped[str] = mapped_column(String(10))
    encoding: Mapped[str | None] = mapped_column(String(20))
    delimiter: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    #: the result of reconcile.reconcile (checks and differences)
    reconciliation: Mapped[dict | None] = mapped_column(JSON)
    #: the data_migration process instance that approves and signs off this run
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: last sign of life of the import working on it (claim, each batch): a stale one means its worker died
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: why the import failed
    error: Mapped[str | None] = mapped_column(Text)


class ImportedRow(Base):
    """A staged row imported: in which batch, and the key of what it became. Written with its batch, one narrow
    row each: marking the staged row itself would write its raw cells, values and reasons all over again.
    No foreign key to the staged row: PostgreSQL checks one per inserted row (0.6 s per 100,000 marks, most of
    writing them); the import writes marks only for rows it has just read, and whatever deletes staged rows
    deletes their marks first (erp.audit.retention)."""

    __tablename__ = "migration_row_import"

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    batch: Mapped[int] = mapped_column(Integer)
    #: the key of what the row became (customer code, SKU, document number)
    target_id: Mapped[str | None] = mapped_column(String(100))


class MigrationRow(Base):
    """One source row of a run: as read, as mapped and cleansed, and what validation found; whether it is
    imported, its batch and target are read from its ImportedRow."""

    __tablename__ = "migration_row"
    __table_args__ = (CheckConstraint(_in("status", ROW_STATUSES), name="status_known"),
                      Index("ix_migration_row_pending", "run_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("migration_run.id", ondelete="CASCADE"))
    #: the line (CSV) or row (XLSX, SQL) number in the source, for the user fixing the file
    row_no: Mapped[int] = mapped_column(Integer)
    #: {column: text} as read
    raw: Mapped[dict] = mapped_column(JSON)
    #: {field: value} mapped and cleansed; Decimals as text
    values: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    #: [{"field": ..., "message": ...}]
    reasons: Mapped[list] = mapped_column(JSON)

    imported = column_property(exists().where(ImportedRow.row_id == id))
    batch = column_property(select(ImportedRow.batch).where(ImportedRow.row_id == id).scalar_subquery())
    target_id = column_property(select(ImportedRow.target_id).where(ImportedRow.row_id == id).scalar_subquery())


def not_imported(after: int = 0):
    """The condition of a staged row not yet imported (NOT EXISTS, which planners run as an anti-join); `after`
    bounds the marks read when the rows asked for lie after it (PostgreSQL's merge anti-join would otherwise
    read every mark from the first on each batch)."""
    return ~exists().where(ImportedRow.row_id == MigrationRow.id, ImportedRow.row_id > after)


class ExternalRef(Base):
    """The legacy system's id of something imported and the key it has here: re-imports update it."""

    __tablename__ = "migration_external_ref"
    __table_args__ = (UniqueConstraint("entity", "external_id", name="uq_migration_external_ref_entity_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    target_id: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("migration_run.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

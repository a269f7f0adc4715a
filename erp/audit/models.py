"""The audit log table: append-only; the application offers no way to change or delete an entry."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    #: the username acting (None for the system)
    actor: Mapped[str | None] = mapped_column(String(200), index=True)
    #: e.g. login, login_failed, logout, user.create, user.update, group.create, token.create, instance.terminate
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    #: the client's address for actions that came over HTTP
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class RecordChange(Base):
    """One insert, update or delete of a business record, captured automatically from the ORM (erp.audit.changes):
    the row's values after an insert, the changed columns before and after an update, the values before a
    delete. Append-only like audit_log; kept apart from it so the explicit business entries stay readable."""

    __tablename__ = "audit_change"
    __table_args__ = (Index("ix_audit_change_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    #: the username acting, "system" for work nobody started (the worker's jobs), "cli:<os user>" for commands
    actor: Mapped[str | None] = mapped_column(String(200), index=True)
    #: record.insert | record.update | record.delete, or record.bulk_update | record.bulk_delete for statements
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: the table, e.g. crm_customer
    target_type: Mapped[str | None] = mapped_column(String(60))
    #: the primary key (several columns joined with ","); None for a statement touching many rows
    target_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64), info={"personal": "personal", "grade": "general"})
    detail: Mapped[str | None] = mapped_column(Text)


class AccessEntry(Base):
    """One showing of personal information, unmasked, to a user (访问日志, PIPL): who saw which fields of what,
    when, from which address and how (on a page, in an export, printed, through the API, in a mail)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    #: view | export | print | api | email (a mail showed it to its recipient: no address then)
    how: Mapped[str] = mapped_column(String(10))
    #: what was shown, e.g. crm_customer, crm_contact, purchasing_supplier, instance, task, audit_log
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    #: the personal fields shown unmasked
    fields: Mapped[list] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64), info={"personal": "personal", "grade": "general"})
    #: the page or endpoint, e.g. GET /crm/customers/3; for a mail its kind, e.g. task_assigned
    detail: Mapped[str | None] = mapped_column(Text)

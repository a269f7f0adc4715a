"""Retention of the logs: what is older than its setting is deleted by the periodic job audit.retention, and
the run is recorded in the audit log as one summary entry. The audit and access logs are kept at least six
months whatever the settings say (Cybersecurity Law art. 21); this module is the only way anything deletes
from them (the session guard in erp.audit.changes refuses every other, the PostgreSQL trigger refuses younger
rows even then)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from core.settings import LOG_MINIMUM_DAYS, Settings, load_settings
from erp.audit.changes import RETENTION_OPTION, current_actor
from erp.audit.models import AccessEntry, AuditEntry, RecordChange
from erp.audit.services import record
from erp.jobs.models import JobRun
from erp.migration.models import ImportedRow, MigrationRow, MigrationRun
from notifications.models import SENT, OutboxMessage


def purge(session, now: datetime, settings: Settings | None = None) -> dict[str, int]:
    """Delete what each log keeps no longer as of `now`; returns how many rows went, per log."""
    settings = settings or load_settings()
    log_days = max(settings.audit_retention_days, LOG_MINIMUM_DAYS)
    access_days = max(settings.access_log_retention_days, LOG_MINIMUM_DAYS)
    removed = {
        "audit_log": _expire_log(session, AuditEntry, now - timedelta(days=log_days)),
        "audit_change": _expire_log(session, RecordChange, now - timedelta(days=log_days)),
        "access_log": _expire_log(session, AccessEntry, now - timedelta(days=access_days)),
        "sent_mail": _delete(session, delete(OutboxMessage).where(
            OutboxMessage.status == SENT,
            OutboxMessage.sent_at < now - timedelta(days=settings.sent_mail_retention_days))),
        "job_run": _delete(session, delete(JobRun).where(
            JobRun.finished_at < now - timedelta(days=settings.job_run_retention_days))),
        "migration_staging": _delete_staging(session, now - timedelta(days=settings.migration_staging_retention_days)),
    }
    kept = {"audit_log": log_days, "access_log": access_days, "sent_mail": settings.sent_mail_retention_days,
            "job_run": settings.job_run_retention_days,
            "migration_staging": settings.migration_staging_retention_days}
    record(session, "audit.retention", actor=current_actor().name(), target_type="retention",
           after={"deleted": removed, "kept_days": kept},
           detail=", ".join(f"{name}: {count}" for name, count in removed.items()))
    return removed


def _delete_staging(session, before: datetime) -> int:
    """The staged rows of runs signed off and imported before `before`, their import marks first (no foreign
    key deletes those)."""
    rows = select(MigrationRow.id).where(MigrationRow.run_id.in_(
        select(MigrationRun.id).where(MigrationRun.status == "signed_off", MigrationRun.imported_at < before)))
    _delete(session, delete(ImportedRow).where(ImportedRow.row_id.in_(rows)))
    return _delete(session, delete(MigrationRow).where(MigrationRow.id.in_(rows)))


def _expire_log(session, model, before: datetime) -> int:
    """The one deletion the audit tables allow (see erp.audit.changes)."""
    statement = delete(model).where(model.at < before).execution_options(**{RETENTION_OPTION: True})
    return _delete(session, statement)


def _delete(session, statement) -> int:
    return session.execute(statement, execution_options={"synchronize_session": False}).rowcount

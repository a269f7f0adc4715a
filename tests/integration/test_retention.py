"""Retention: each log keeps what is younger than its setting; the audit and access logs at least six months
whatever is set; the periodic job deletes the rest and says so in one audit entry. The clock is moved: records
are written as if 400 and 100 days ago, then the job runs today."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from core.settings import LOG_MINIMUM_DAYS, Settings, load_settings
from erp.audit.models import AccessEntry, AuditEntry, RecordChange
from erp.audit.retention import purge
from erp.audit.services import record
from erp.crm.services import create_customer
from erp.jobs.models import JobRun, ScheduledJob
from erp.migration.models import ImportedRow, MigrationRow, MigrationRun
from notifications.models import OutboxMessage

TABLES = {"audit_log": AuditEntry, "audit_change": RecordChange, "access_log": AccessEntry,
          "sent_mail": OutboxMessage, "job_run": JobRun, "migration_staging": MigrationRow,
          "migration_marks": ImportedRow}


def _history(session, label: str, *, status: str = "sent", run_status: str = "signed_off") -> None:
    """One of everything each log keeps, written at the (moved) clock's now."""
    now = clock.now()
    record(session, "test.event", actor="tester", detail=label)
    create_customer(session, name_zh=f"{label}贸易有限公司")
    session.add(AccessEntry(at=now, actor="lina", how="view", entity="crm_customer", entity_id="1",
                            fields=["phone"]))
    session.add(OutboxMessage(created_at=now, kind="test", recipient_email="x@example.cn", locale="zh_CN",
                              subject=label, body_text="", body_html="", status=status, attempts=1,
                              next_attempt_at=now, sent_at=now if status == "sent" else None,
                              message_id=f"<{label}@erp>"))
    if session.get(ScheduledJob, "tasks.escalate") is None:
        session.add(ScheduledJob(name="tasks.escalate", schedule="* * * * *", default_schedule="* * * * *"))
        session.flush()
    session.add(JobRun(job_name="tasks.escalate", slot=now.replace(second=0, microsecond=0), started_at=now,
                       finished_at=now, status="ok"))
    run = MigrationRun(entity="customer", mapping={}, source_name=f"{label}.csv", source_kind="csv",
                       status=run_status, created_at=now, imported_at=now)
    session.add(run)
    session.flush()
    rows = [MigrationRow(run_id=run.id, row_no=i, raw={}, values={}, status="ok", reasons=[]) for i in range(3)]
    session.add_all(rows)
    session.flush()
    session.add_all([ImportedRow(row_id=row.id, batch=1, target_id=f"C-{row.id:06d}") for row in rows[:2]])


def _counts(session) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in TABLES.items()}


def _write(tx, days_ago: int, label: str, **kwargs) -> None:
    with clock.frozen(clock.now() - timedelta(days=days_ago)), tx() as session:
        _history(session, label, **kwargs)


def test_the_job_deletes_what_is_older_than_each_retention_and_keeps_the_rest(tx):
    _write(tx, 400, "旧")
    _write(tx, 100, "近")
    with tx(readonly=True) as session:
        before = _counts(session)
        cutoff = clock.now() - timedelta(days=365)
        old = {name: session.scalar(select(func.count()).select_from(model).where(model.at < cutoff))
               for name, model in TABLES.items() if name.startswith("audit")}
    with tx() as session:
        removed = purge(session, clock.now(), load_settings({}))
    with tx(readonly=True) as session:
        after = _counts(session)
        assert session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "test.event")) == "近"
        [summary] = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.retention")).all()
    # 365 days for the logs: the 400-day-old entries go, the 100-day-old stay; 90 days for mails and job runs:
    # both of theirs go; 30 days for the staging rows of signed-off runs: both runs' rows go
    assert removed["access_log"] == 1 and removed["sent_mail"] == 2 and removed["job_run"] == 2
    assert removed["migration_staging"] == 6
    for name in ("audit_log", "audit_change"):  # everything written 400 days ago went, nothing else
        assert removed[name] == old[name] > 0 and after[name] == before[name] - old[name] + (name == "audit_log")
    assert after["access_log"] == 1 and after["sent_mail"] == 0 and after["job_run"] == 0
    assert after["migration_staging"] == 0 and before["migration_marks"] == 4 and after["migration_marks"] == 0
    assert summary.after["deleted"] == removed and summary.after["kept_days"]["audit_log"] == 365
    assert summary.actor == "system"


def test_the_audit_and_access_logs_are_kept_six_months_whatever_is_set(tx):
    assert load_settings({"ERP_AUDIT_RETENTION_DAYS": "30"}).audit_retention_days == LOG_MINIMUM_DAYS
    assert load_settings({"ERP_ACCESS_LOG_RETENTION_DAYS": "7"}).access_log_retention_days == LOG_MINIMUM_DAYS
    assert load_settings({"ERP_SENT_MAIL_RETENTION_DAYS": "7"}).sent_mail_retention_days == 7
    _write(tx, 170, "半年内")
    lax = Settings(database_url="", bpmn_dir=None, forms_dir=None, script_cpu_seconds=1, echo_sql=False,
                   audit_retention_days=30, access_log_retention_days=30)
    with tx() as session:
        removed = purge(session, clock.now(), lax)
    assert (removed["audit_log"], removed["audit_change"], removed["access_log"]) == (0, 0, 0)
    assert removed["sent_mail"] == 1  # mails are not logs: their own 90 days apply


def test_staging_rows_stay_until_their_run_is_signed_off_and_mails_until_sent(tx):
    _write(tx, 400, "未签", status="failed", run_status="reconciled")
    with tx() as session:
        removed = purge(session, clock.now(), load_settings({}))
    assert removed["migration_staging"] == 0 and removed["sent_mail"] == 0
    with tx(readonly=True) as session:
        assert _counts(session)["migration_staging"] == 3 and _counts(session)["migration_marks"] == 2


def test_the_periodic_job_runs_the_retention(database, tx):
    from erp.wiring import periodic_jobs

    _write(tx, 400, "旧")
    assert periodic_jobs(database).run("audit.retention") == "ok"
    with tx(readonly=True) as session:
        run = session.scalars(select(JobRun).where(JobRun.job_name == "audit.retention")).one()
        assert json.loads(run.detail)["access_log"] == 1
        assert session.scalar(select(func.count()).select_from(AccessEntry)) == 0

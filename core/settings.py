"""Settings read from the environment; every variable is prefixed ERP_."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    bpmn_dir: Path
    forms_dir: Path
    script_cpu_seconds: float
    echo_sql: bool
    #: security settings (issue 10): the shortest password accepted when one is set (login never checks it)
    password_min_length: int = 10
    #: minutes without a request after which a browser session ends (API bearer tokens have no such limit)
    session_idle_minutes: int = 30
    #: the same for administrators (by default as long as everyone's)
    admin_session_idle_minutes: int = 30
    #: administrators must set up a TOTP second factor before they may use the administration pages
    require_totp_for_admins: bool = False
    #: reverse proxies in front of the web app (nginx: 1) whose X-Forwarded-For / -Proto / -Host are believed:
    #: the client's address in the audit and access logs and the login limits is the one the nearest proxy
    #: saw. 0 (directly reachable) ignores those headers, which anyone could send
    trusted_proxies: int = 0
    #: retention (days) of each log, enforced by the audit.retention job; the audit and access logs are kept at
    #: least LOG_MINIMUM_DAYS (Cybersecurity Law art. 21: network logs at least six months), whatever is set
    audit_retention_days: int = 365
    access_log_retention_days: int = 365
    #: mails the outbox has sent
    sent_mail_retention_days: int = 90
    #: the record of each periodic job run
    job_run_retention_days: int = 90
    #: the staged source rows of data-migration runs that were signed off (counted from their import)
    migration_staging_retention_days: int = 30
    #: PIPL practice: a person's request about their information is answered within this many working days
    pi_request_due_workdays: int = 15
    #: a personal-information security incident is assessed within this many hours of its report, and the
    #: regulator and the people affected are told within the second figure
    incident_assess_hours: int = 24
    incident_notify_hours: int = 72


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    default_db = f"sqlite:///{ROOT / 'instance' / 'erp.sqlite3'}"
    return Settings(
        database_url=env.get("ERP_DATABASE_URL", default_db),
        bpmn_dir=Path(env.get("ERP_BPMN_DIR", ROOT / "bpmn")),
        forms_dir=Path(env.get("ERP_FORMS_DIR", ROOT / "forms")),
        script_cpu_seconds=float(env.get("ERP_SCRIPT_CPU_SECONDS", "2.0")),
        echo_sql=env.get("ERP_ECHO_SQL", "") in ("1", "true", "yes"),
        **_security_settings(env),
        **_retention_settings(env),
        pi_request_due_workdays=max(int(env.get("ERP_PI_REQUEST_DUE_WORKDAYS", "15")), 1),
        incident_assess_hours=max(int(env.get("ERP_INCIDENT_ASSESS_HOURS", "24")), 1),
        incident_notify_hours=max(int(env.get("ERP_INCIDENT_NOTIFY_HOURS", "72")), 1),
    )


def _security_settings(env) -> dict:
    idle = int(env.get("ERP_SESSION_IDLE_MINUTES", "30"))
    return {
        "password_min_length": int(env.get("ERP_PASSWORD_MIN_LENGTH", "10")),
        "session_idle_minutes": idle,
        "admin_session_idle_minutes": int(env.get("ERP_ADMIN_SESSION_IDLE_MINUTES", idle)),
        "require_totp_for_admins": env.get("ERP_REQUIRE_TOTP_FOR_ADMINS", "") in ("1", "true", "yes"),
        "trusted_proxies": max(int(env.get("ERP_TRUSTED_PROXIES", "0")), 0),
    }


#: the shortest retention of the audit and access logs (Cybersecurity Law art. 21: six months)
LOG_MINIMUM_DAYS = 180


def _retention_settings(env) -> dict:
    def days(name: str, default: int, minimum: int = 1) -> int:
        return max(int(env.get(name, default)), minimum)

    return {
        "audit_retention_days": days("ERP_AUDIT_RETENTION_DAYS", 365, LOG_MINIMUM_DAYS),
        "access_log_retention_days": days("ERP_ACCESS_LOG_RETENTION_DAYS", 365, LOG_MINIMUM_DAYS),
        "sent_mail_retention_days": days("ERP_SENT_MAIL_RETENTION_DAYS", 90),
        "job_run_retention_days": days("ERP_JOB_RUN_RETENTION_DAYS", 90),
        "migration_staging_retention_days": days("ERP_MIGRATION_STAGING_RETENTION_DAYS", 30),
    }

"""The composition root: builds the engine with the domain's operators, forms, group directory, business-day
calendar and notification listener; the periodic jobs; and the worker."""
from __future__ import annotations

import importlib
import threading
import time
from functools import lru_cache, partial

from core import clock, db
from core.calendar import BusinessCalendar
from core.settings import load_settings
from engine.operators import OperatorRegistry
from engine.runtime import Engine
from erp.identity.queries import active_delegations, groups_of
from forms import FormCatalog

#: the domain modules whose tasks.py registers service-task operators (each exposes register(registry))
OPERATOR_MODULES: list[str] = ["erp.crm.tasks", "erp.finance.tasks", "erp.identity.tasks", "erp.inventory.tasks",
                               "erp.migration.tasks", "erp.privacy.tasks", "erp.projects.tasks",
                               "erp.purchasing.tasks", "erp.risks.tasks", "erp.sales.tasks"]
CALENDAR_TTL_SECONDS = 300  # an administrator's calendar change reaches running processes within this time


def build_registry() -> OperatorRegistry:
    registry = OperatorRegistry()
    for name in OPERATOR_MODULES:
        importlib.import_module(name).register(registry)
    return registry


class CalendarCache:
    """The business calendar as scripts see it, reloaded from the database every few minutes."""

    def __init__(self, ttl: float = CALENDAR_TTL_SECONDS):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded: tuple[float, str, BusinessCalendar] | None = None

    def get(self) -> BusinessCalendar:
        database = db.get_database()
        with self._lock:
            if self._loaded and self._loaded[1] == database.url and time.monotonic() - self._loaded[0] < self.ttl:
                return self._loaded[2]
        with database.transaction(readonly=True) as session:
            calendar = BusinessCalendar.load(session)
        with self._lock:
            self._loaded = (time.monotonic(), database.url, calendar)
        return calendar

    def clear(self) -> None:
        with self._lock:
            self._loaded = None


calendar_cache = CalendarCache()


def add_workdays(n: int, start=None):
    """For diagrams: `add_workdays(3)` is 3 working days (工作日) from now on the Chinese calendar."""
    return calendar_cache.get().add_workdays(start or clock.now(), int(n))


def script_globals() -> dict:
    return {"add_workdays": add_workdays}


def user_exists(session, username: str) -> bool:
    """An active user of that name: who a task may be transferred, delegated or copied to."""
    from erp.identity.services import user_by_name

    user = user_by_name(session, username)
    return user is not None and bool(user.active)


@lru_cache(maxsize=1)
def engine() -> Engine:
    from erp.notify import subscribe

    settings = load_settings()
    built = Engine(build_registry(), FormCatalog(settings.forms_dir), groups_of=groups_of,
                   script_cpu_seconds=settings.script_cpu_seconds,
                   script_globals=script_globals(), user_exists=user_exists, delegations=active_delegations)
    subscribe(built)  # task mails with the task's data, masked per recipient
    return built


def periodic_jobs(database):
    """Every periodic job of the product (other modules add theirs here)."""
    from erp.escalation.services import run_escalations
    from erp.jobs.registry import PeriodicJobs
    from erp.notify import notify_task

    jobs = PeriodicJobs(database)

    @jobs.register("tasks.escalate", "* * * * *", "待办催办与升级 Remind about and escalate overdue tasks")
    def escalate(session, now):
        return run_escalations(session, engine(), partial(notify_task, engine=engine()), now)

    @jobs.register("notifications.daily_digest", "0 8 * * *", "每日待办汇总 Daily digest of open tasks")
    def daily_digest(session, now):
        from erp.notify import enqueue_digests

        return {"digests": enqueue_digests(session, now, engine())}

    @jobs.register("crm.follow_up_reminders", "*/15 * * * *", "客户跟进提醒 Remind owners of follow-ups falling due")
    def crm_follow_ups(session, now):
        from erp.crm.follow_ups import send_follow_up_reminders

        return send_follow_up_reminders(session, now)

    @jobs.register("purchasing.requisitions", "*/10 * * * *",
                   "补货请购 Requisitions for stock below reorder points; start procurement for new requisitions")
    def purchasing_requisitions(session, now):
        from erp.purchasing.process import raise_reorder_requisitions

        return raise_reorder_requisitions(session, engine())

    @jobs.register("risks.early_warning", "*/5 * * * *",
                   "风险预警 Evaluate the early-warning rules that are due; alert the risk owners")
    def risks_early_warning(session, now):
        from erp.risks.warnings import evaluate_due

        return evaluate_due(session, engine(), now)

    @jobs.register("projects.weekly_status_report", "0 8 * * mon",
                   "项目状态报告 Mail the weekly status report of each project to its report audience")
    def projects_weekly_status_report(session, now):
        from erp.projects.reports import send_status_reports

        return send_status_reports(session, now)

    @jobs.register("migration.run_imports", "* * * * *",
                   "数据迁移导入 Import the oldest approved migration run; tell its process it is imported")
    def migration_run_imports(session, now):
        from erp.migration.process import import_approved

        return import_approved(database, engine())  # run_import commits batch by batch in its own transactions

    @jobs.register("audit.retention", "30 3 * * *",
                   "日志保留期限 Delete log entries, sent mails, job runs and staging rows older than their retention")
    def audit_retention(session, now):
        from erp.audit.retention import purge

        return purge(session, now)

    return jobs


def build_worker(database, **options):
    """The worker with everything time-driven the product has registered."""
    from erp.worker import Worker
    from notifications.sender import send_due

    return Worker(database, engine(), periodic_jobs=periodic_jobs(database),
                  outbox_sender=lambda: send_due(database), **options)

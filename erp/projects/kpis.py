"""Project KPIs (关键绩效指标): their values over time, their traffic-light status, and the periodic refresh of
the ones computed from the project's own data."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from core import clock
from core.errors import NotFound
from erp.projects.common import checked_choice, checked_number, find_project, local_date, refuse_if
from erp.projects.models import (
    KPI_SOURCES,
    Kpi,
    KpiValue,
    ProjectTask,
    TrainingAttendance,
    TrainingSession,
    WorkPackage,
)

D = Decimal
#: key → (中文, English, unit, target, warning, critical, direction)
DEFAULTS = {
    "spi": ("进度绩效指数", "Schedule performance index", "ratio", D("1.0"), D("0.95"), D("0.9"), "higher_is_better"),
    "cpi": ("成本绩效指数", "Cost performance index", "ratio", D("1.0"), D("0.95"), D("0.9"), "higher_is_better"),
    "open_high_risks": ("未关闭高风险数", "Open high risks", "count", D(0), D(3), D(5), "lower_is_better"),
    "overdue_tasks": ("逾期任务数", "Overdue tasks", "count", D(0), D(5), D(10), "lower_is_better"),
    "uat_pass_rate": ("用户验收测试通过率", "UAT pass rate", "percent", D(95), D(90), D(80), "higher_is_better"),
    "migration_error_rate": ("数据迁移错误率", "Data migration error rate", "percent", D(1), D(2), D(5),
                             "lower_is_better"),
    "training_completion": ("培训完成率", "Training completion", "percent", D(100), D(90), D(75),
                            "higher_is_better"),
}


def create_default_kpis(session, project) -> list[Kpi]:
    kpis = [Kpi(project_id=project.id, key=key, name_zh=zh, name_en=en, unit=unit, target=target, warning=warning,
                critical=critical, direction=direction)
            for key, (zh, en, unit, target, warning, critical, direction) in DEFAULTS.items()]
    session.add_all(kpis)
    session.flush()
    return kpis


def find_kpi(session, project, key: str) -> Kpi:
    project = find_project(session, project)
    kpi = session.scalar(select(Kpi).where(Kpi.project_id == project.id, Kpi.key == key))
    if kpi is None:
        raise NotFound(f"no KPI {key!r} in project {project.code}")
    return kpi


def record(session, project, key: str, value, *, at: datetime | None = None, source: str = "manual") -> KpiValue:
    """A measured value of a KPI (at `at`, default now)."""
    kpi = find_kpi(session, project, key)
    errors: dict = {}
    number = checked_number(value, "value", errors, places=4, low=None)
    source = checked_choice(source, KPI_SOURCES, "source", errors)
    if at is not None and (not isinstance(at, datetime) or at.tzinfo is None):
        errors.setdefault("at", []).append("a timezone-aware moment")
    refuse_if(errors, f"KPI {key} not recorded")
    row = KpiValue(kpi_id=kpi.id, measured_at=at or clock.now(), value=number, source=source)
    session.add(row)
    session.flush()
    return row


def latest(session, project, key: str) -> Decimal | None:
    kpi = find_kpi(session, project, key)
    return session.scalar(select(KpiValue.value).where(KpiValue.kpi_id == kpi.id)
                          .order_by(KpiValue.measured_at.desc(), KpiValue.id.desc()).limit(1))


def history(session, project, key: str) -> list[tuple[datetime, Decimal]]:
    """(measured_at, value) oldest first."""
    kpi = find_kpi(session, project, key)
    rows = session.execute(select(KpiValue.measured_at, KpiValue.value).where(KpiValue.kpi_id == kpi.id)
                           .order_by(KpiValue.measured_at, KpiValue.id))
    return [(at, value) for at, value in rows]


def status(kpi: Kpi, value: Decimal | None) -> str | None:
    """red when the value is at or beyond `critical`, amber at or beyond `warning`, else green ("beyond" is
    below for higher_is_better and above for lower_is_better); None without a value."""
    if value is None:
        return None
    if kpi.direction == "higher_is_better":
        return "red" if value <= kpi.critical else "amber" if value <= kpi.warning else "green"
    return "red" if value >= kpi.critical else "amber" if value >= kpi.warning else "green"


def refresh(session, project, now: datetime) -> dict[str, Decimal]:
    """Compute and record (source "computed", at `now`) the KPIs the project's data gives: spi and cpi (as of
    today in Beijing; skipped while undefined), overdue_tasks, training_completion (skipped while nobody was
    invited to a session that has started) and open_high_risks (skipped if erp.risks is not installed).
    uat_pass_rate and migration_error_rate come from manual entries and the migration tooling."""
    from erp.projects import evm

    project = find_project(session, project)
    day = local_date(now)
    result = evm.figures(session, project, day)
    values = {"spi": result["spi"], "cpi": result["cpi"], "overdue_tasks": overdue_tasks(session, project, day),
              "training_completion": training_completion(session, project, now)}
    try:
        from erp.risks.queries import open_high_risks
    except ImportError:
        open_high_risks = None
    if open_high_risks is not None:
        values["open_high_risks"] = Decimal(open_high_risks(session, project))
    recorded = {key: value for key, value in values.items() if value is not None}
    for key, value in recorded.items():
        record(session, project, key, value, at=now, source="computed")
    return recorded


def overdue_tasks(session, project, day) -> Decimal:
    """Tasks of the project not done whose planned end is before `day`."""
    count = session.scalar(select(func.count(ProjectTask.id))
                           .join(WorkPackage, WorkPackage.id == ProjectTask.work_package_id)
                           .where(WorkPackage.project_id == project.id, ProjectTask.status != "done",
                                  ProjectTask.planned_end < day))
    return Decimal(count)


def training_completion(session, project, now: datetime) -> Decimal | None:
    """Attended ÷ invited × 100 over the sessions started by `now` (two places); None without invitations."""
    invited, attended = session.execute(
        select(func.count(TrainingAttendance.id),
               func.coalesce(func.sum(case((TrainingAttendance.attended, 1), else_=0)), 0))
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(TrainingSession.project_id == project.id, TrainingSession.starts_at <= now)).one()
    if not invited:
        return None
    return (Decimal(int(attended)) * 100 / Decimal(invited)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


"""Reporting on an implementation project: its RAG status (红黄绿) and why, the data of its dashboard (S-curves,
KPIs with their history, burn-down, risk heatmap, alerts), the weekly status report (项目状态报告) and the job
that mails it to the audience of the project's report communications."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from erp.projects import evm, kpis, queries
from erp.projects.common import find_project, local_date
from erp.projects.models import Kpi, Milestone, ProjectTask, WorkPackage

#: the KPIs the RAG status is made of; their thresholds are the project's own (project_kpi)
RAG_KEYS = ("spi", "cpi", "open_high_risks", "overdue_tasks")
_WORST = {None: 0, "green": 1, "amber": 2, "red": 3}
#: milestones falling due within this many days count as due in the report
DUE_WITHIN = timedelta(days=14)
TOP_RISKS = 5
#: who the status-report job acts as in the audit log
ACTOR = "status_report"


# ---------------------------------------------------------------------- RAG status

def rag_values(session, project, as_of: date, figures: dict | None = None) -> dict[str, Decimal | None]:
    """The live values behind the RAG status as of a day: SPI and CPI (earned value), open high risks and
    overdue tasks."""
    from erp.risks.queries import open_high_risks

    project = find_project(session, project)
    figures = figures or evm.figures(session, project, as_of)
    return {"spi": figures["spi"], "cpi": figures["cpi"],
            "open_high_risks": Decimal(open_high_risks(session, project)),
            "overdue_tasks": kpis.overdue_tasks(session, project, as_of)}


def rag_status(session, project, as_of: date, figures: dict | None = None) -> dict:
    """{"status": "red" | "amber" | "green", "factors": [...], "reasons": [...]}: the worst of the statuses of
    SPI, CPI, open high risks and overdue tasks against the project's KPI thresholds; the reasons are the
    factors that are not green. A factor without a value yet (no planned value, no cost) does not count."""
    project = find_project(session, project)
    values = rag_values(session, project, as_of, figures)
    thresholds = {k.key: k for k in session.scalars(select(Kpi).where(Kpi.project_id == project.id))}
    factors = [{"key": key, "name_zh": thresholds[key].name_zh, "name_en": thresholds[key].name_en,
                "value": values[key], "status": kpis.status(thresholds[key], values[key]),
                "warning": thresholds[key].warning, "critical": thresholds[key].critical,
                "direction": thresholds[key].direction}
               for key in RAG_KEYS if key in thresholds]
    worst = max((f["status"] for f in factors), key=_WORST.__getitem__, default=None)
    return {"status": worst or "green", "factors": factors,
            "reasons": [f for f in factors if f["status"] in ("amber", "red")]}


# ---------------------------------------------------------------------- dashboard

def weekly_points(start: date, end: date) -> list[date]:
    """Every seventh day from `start`, and `end` itself."""
    if end < start:
        return [start]
    points = [start + timedelta(days=7 * n) for n in range((end - start).days // 7 + 1)]
    return points if points[-1] == end else [*points, end]


def burn_down(session, project, points: list[date]) -> list[dict]:
    """Per date: the project's tasks still open at its end and the budget not yet spent (BAC − AC)."""
    project = find_project(session, project)
    tasks = session.execute(select(ProjectTask.status, ProjectTask.actual_end)
                            .join(WorkPackage, WorkPackage.id == ProjectTask.work_package_id)
                            .where(WorkPackage.project_id == project.id)).all()
    rows = []
    for figures in evm.series(session, project, points):
        day = figures["as_of"]
        open_tasks = sum(1 for status, ended in tasks if not (status == "done" and ended and ended <= day))
        rows.append({"date": day, "open_tasks": open_tasks, "remaining_budget": figures["bac"] - figures["ac"]})
    return rows


def dashboard(session, project, as_of: date) -> dict:
    """Everything the project dashboard shows: the detail, RAG status, EVM figures and their weekly series,
    the KPIs with their history, the burn-down, the risk heatmap and the alerts."""
    from erp.risks.queries import matrix

    found = find_project(session, project)
    figures = evm.figures(session, found, as_of)
    points = weekly_points(found.start_date, found.planned_end)
    series = evm.series(session, found, points)
    board = queries.kpi_board(session, found)
    for row in board:
        row["history"] = kpis.history(session, found, row["key"])
    return {"project": queries.project_detail(session, found), "as_of": as_of, "evm": figures,
            "rag": rag_status(session, found, as_of, figures),
            "series": [{**s, "actual": s["as_of"] <= as_of} for s in series],
            "kpis": board, "burn_down": burn_down(session, found, [p for p in points if p <= as_of] or points[:1]),
            "heatmap": matrix(session, found), "alerts": project_alerts(session, found)}


def project_alerts(session, project, *, open_only: bool = False) -> list[dict]:
    """The alerts the project's warning rules raised (and cleared), newest first."""
    from erp.risks.models import Risk, WarningAlert, WarningRule

    found = find_project(session, project)
    query = (select(WarningAlert, WarningRule.name, WarningRule.metric, Risk.id, Risk.code)
             .join(WarningRule, WarningRule.id == WarningAlert.rule_id)
             .outerjoin(Risk, Risk.id == WarningRule.risk_id)
             .where(WarningRule.project_id == found.id)
             .order_by(WarningAlert.raised_at.desc(), WarningAlert.id.desc()))
    if open_only:
        query = query.where(WarningAlert.cleared_at.is_(None))
    return [{"id": a.id, "rule": name, "metric": metric, "risk_id": risk_id, "risk": code, "raised_at": a.raised_at,
             "value": a.value, "threshold": a.threshold, "cleared_at": a.cleared_at, "cleared_value": a.cleared_value,
             "instance_id": a.instance_id} for a, name, metric, risk_id, code in session.execute(query).all()]


# ---------------------------------------------------------------------- the status report

def status_report(session, project, as_of: date) -> dict:
    """The weekly status report as of a day: the project, its RAG status and why, milestones due (within two
    weeks, or overdue) and achieved, the EVM figures, the KPIs with status, the five highest risks not closed,
    the heatmap counts [probability-1][impact-1] and the alerts still open."""
    from erp.risks.models import LIVE_STATUSES
    from erp.risks.queries import matrix, register

    found = find_project(session, project)
    figures = evm.figures(session, found, as_of)
    milestones = session.scalars(select(Milestone).where(Milestone.project_id == found.id)
                                 .order_by(Milestone.due_date, Milestone.id)).all()
    return {
        "project": {"id": found.id, "code": found.code, "name_zh": found.name_zh, "name_en": found.name_en,
                    "manager": found.manager, "sponsor": found.sponsor, "status": found.status,
                    "start_date": found.start_date, "planned_end": found.planned_end},
        "as_of": as_of,
        "rag": rag_status(session, found, as_of, figures),
        "evm": figures,
        "milestones_due": [_milestone(m, as_of) for m in milestones
                           if m.achieved_on is None and m.due_date <= as_of + DUE_WITHIN],
        "milestones_achieved": [_milestone(m, as_of) for m in milestones
                                if m.achieved_on is not None and m.achieved_on <= as_of],
        "kpis": queries.kpi_board(session, found),
        "top_risks": register(session, found, status=LIVE_STATUSES)[:TOP_RISKS],
        "heatmap": [[cell["count"] for cell in row] for row in matrix(session, found)],
        "alerts_open": project_alerts(session, found, open_only=True),
    }


def _milestone(m: Milestone, as_of: date) -> dict:
    return {"name": m.name, "due_date": m.due_date, "achieved_on": m.achieved_on,
            "overdue": m.achieved_on is None and m.due_date < as_of}


def mail_context(report: dict) -> dict:
    """The context of the project_status_report mail."""
    project = report["project"]
    return {"project_id": project["id"], "project_code": project["code"], "project_name_zh": project["name_zh"],
            "project_name_en": project["name_en"], "as_of": report["as_of"], "rag": report["rag"]["status"],
            "reasons": report["rag"]["reasons"], "evm": report["evm"],
            "milestones_due": report["milestones_due"], "milestones_achieved": report["milestones_achieved"],
            "kpis": report["kpis"], "top_risks": report["top_risks"], "heatmap": report["heatmap"],
            "alerts_open": report["alerts_open"]}


def send_status_reports(session, now: datetime) -> dict:
    """The job `projects.weekly_status_report`: for each active project with a report communication due, the
    status report as of today (Beijing) is mailed to every member of the communications' audience groups in
    their language, once per project and ISO week whatever how often the job runs; the communications then
    move to their next date."""
    from erp.identity.queries import members_of
    from erp.projects.engagement import advance_communication
    from notifications.outbox import enqueue

    day = local_date(now)
    year, week, _ = day.isocalendar()
    due: dict[str, list[dict]] = {}
    for item in queries.communications_due(session, day):
        if item["kind"] == "report":
            due.setdefault(item["project"], []).append(item)
    counts = {"projects": 0, "mails": 0}
    for code, items in sorted(due.items()):
        context = mail_context(status_report(session, code, day))
        counts["projects"] += 1
        for username in members_of(session, sorted({i["audience_group"] for i in items}), active_only=True):
            key = f"project_status_report:{code}:{year}-W{week:02d}:{username}"
            if enqueue(session, "project_status_report", to_user=username, context=context, dedupe_key=key):
                counts["mails"] += 1
        for item in items:
            advanced = advance_communication(session, item["id"], by=ACTOR)
            while advanced.next_on <= day:  # the job was off for a while: the next date is the next to come
                advanced = advance_communication(session, advanced, by=ACTOR)
    return counts

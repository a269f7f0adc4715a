"""Reading implementation projects for pages, reports and the API: the project list and detail, the Gantt
chart, requirements, training with completion, the communication plan, change requests, baselines and the
budget by phase and category."""
from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from erp.projects import kpis
from erp.projects.common import find_project
from erp.projects.engagement import next_dates
from erp.projects.models import (
    PHASES,
    Baseline,
    BudgetLine,
    ChangeRequest,
    Communication,
    Kpi,
    Milestone,
    Project,
    ProjectMember,
    ProjectPhase,
    ProjectTask,
    Requirement,
    TrainingAttendance,
    TrainingSession,
    WorkPackage,
)

PHASE_NAMES = {key: (zh, en) for key, zh, en in PHASES}
ZERO = Decimal("0.00")


def projects(session, status: str | None = None) -> list[dict]:
    query = select(Project).order_by(Project.start_date.desc(), Project.code)
    if status:
        query = query.where(Project.status == status)
    return [_project_row(p) for p in session.scalars(query)]


def _project_row(p: Project) -> dict:
    return {"id": p.id, "code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "manager": p.manager,
            "sponsor": p.sponsor, "start_date": p.start_date, "planned_end": p.planned_end, "status": p.status}


def project_detail(session, project) -> dict:
    """The project with its phases, milestones, members and KPIs (latest value and status)."""
    found = find_project(session, project)
    return {**_project_row(found), "goals": found.goals, "scope": found.scope, "created_at": found.created_at,
            "created_by": found.created_by, "phases": phases(session, found),
            "milestones": [_milestone_row(m, _phase_keys(session, found))
                           for m in session.scalars(select(Milestone).where(Milestone.project_id == found.id)
                                                    .order_by(Milestone.due_date, Milestone.id))],
            "members": [{"id": m.id, "username": m.username, "role": m.role, "group_name": m.group_name,
                         "allocation_percent": m.allocation_percent, "hourly_rate": m.hourly_rate}
                        for m in session.scalars(select(ProjectMember).where(ProjectMember.project_id == found.id)
                                                 .order_by(ProjectMember.role, ProjectMember.username))],
            "kpis": kpi_board(session, found)}


def phases(session, project) -> list[dict]:
    found = find_project(session, project)
    return [{"id": p.id, "seq": p.seq, "key": p.key, "name_zh": PHASE_NAMES[p.key][0],
             "name_en": PHASE_NAMES[p.key][1], "planned_start": p.planned_start, "planned_end": p.planned_end,
             "actual_start": p.actual_start, "actual_end": p.actual_end, "status": p.status,
             "gate_decision": p.gate_decision, "gate_reasons": p.gate_reasons, "gate_decided_at": p.gate_decided_at}
            for p in _phases(session, found)]


def kpi_board(session, project) -> list[dict]:
    found = find_project(session, project)
    rows = []
    for kpi in session.scalars(select(Kpi).where(Kpi.project_id == found.id).order_by(Kpi.id)):
        value = kpis.latest(session, found, kpi.key)
        rows.append({"key": kpi.key, "name_zh": kpi.name_zh, "name_en": kpi.name_en, "unit": kpi.unit,
                     "target": kpi.target, "warning": kpi.warning, "critical": kpi.critical,
                     "direction": kpi.direction, "value": value, "status": kpis.status(kpi, value)})
    return rows


def _milestone_row(m: Milestone, keys: dict) -> dict:
    return {"id": m.id, "name": m.name, "phase": keys.get(m.phase_id), "due_date": m.due_date,
            "achieved_on": m.achieved_on}


def gantt(session, project) -> list[dict]:
    """Bars for a Gantt chart in plan order: each phase, then its work packages each followed by its tasks,
    then the phase's milestones. Ids are "phase-1", "wp-3", "task-7", "milestone-2"; progress is 0-100."""
    found = find_project(session, project)
    packages = _packages(session, found)
    tasks = defaultdict(list)
    for task in session.scalars(select(ProjectTask).where(ProjectTask.work_package_id.in_([w.id for w in packages]))
                                .order_by(ProjectTask.planned_start, ProjectTask.id)):
        tasks[task.work_package_id].append(task)
    milestones = defaultdict(list)
    for m in session.scalars(select(Milestone).where(Milestone.project_id == found.id)
                             .order_by(Milestone.due_date, Milestone.id)):
        milestones[m.phase_id].append(m)
    bars = []
    for phase in _phases(session, found):
        bars.append(_bar(f"phase-{phase.id}", PHASE_NAMES[phase.key][0] + " " + PHASE_NAMES[phase.key][1],
                         phase.planned_start, phase.planned_end, _phase_progress(phase, packages), [], "phase"))
        for package in (w for w in packages if w.phase_id == phase.id):
            depends = [f"wp-{package.depends_on_id}"] if package.depends_on_id else []
            bars.append(_bar(f"wp-{package.id}", f"{package.code} {package.name}", package.planned_start,
                             package.planned_end, package.percent_complete, depends, "work_package"))
            for task in tasks[package.id]:
                depends = [f"task-{task.depends_on_id}"] if task.depends_on_id else []
                bars.append(_bar(f"task-{task.id}", task.name, task.planned_start, task.planned_end,
                                 task.percent_complete, depends, "task"))
        bars.extend(_milestone_bar(m) for m in milestones[phase.id])
    bars.extend(_milestone_bar(m) for m in milestones[None])
    return bars


def _bar(id_, name, start, end, progress, dependencies, kind) -> dict:
    return {"id": id_, "name": name, "start": start, "end": end, "progress": progress,
            "dependencies": dependencies, "kind": kind}


def _milestone_bar(m: Milestone) -> dict:
    return _bar(f"milestone-{m.id}", m.name, m.due_date, m.due_date, Decimal(100 if m.achieved_on else 0), [],
                "milestone")


def _phase_progress(phase: ProjectPhase, packages: list[WorkPackage]) -> Decimal:
    """Budget-weighted progress of the phase's work packages (100 once the gate is passed)."""
    if phase.status == "done":
        return Decimal(100)
    mine = [w for w in packages if w.phase_id == phase.id]
    budget = sum((w.budget for w in mine), ZERO)
    if not mine:
        return Decimal(0)
    if budget == 0:
        return (sum((w.percent_complete for w in mine), ZERO) / len(mine)).quantize(Decimal("0.01"))
    return (sum((w.budget * w.percent_complete for w in mine), ZERO) / budget).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def requirements(session, project, *, status: str | None = None, trace_ref: str | None = None) -> list[dict]:
    """Requirements by code; `trace_ref` keeps those traced to that process or form."""
    found = find_project(session, project)
    query = select(Requirement).where(Requirement.project_id == found.id).order_by(Requirement.code)
    if status:
        query = query.where(Requirement.status == status)
    rows = [{"id": r.id, "code": r.code, "title": r.title, "description": r.description, "priority": r.priority,
             "status": r.status, "owner": r.owner, "traces": list(r.traces or [])} for r in session.scalars(query)]
    if trace_ref:
        rows = [r for r in rows if any(t["ref"] == trace_ref for t in r["traces"])]
    return rows


def untraced_requirements(session, project) -> list[str]:
    """Codes of the approved or later requirements nothing implements yet."""
    return [r["code"] for r in requirements(session, project)
            if r["status"] in ("approved", "implemented", "verified") and not r["traces"]]


def training(session, project) -> dict:
    """The sessions with their attendance and completion, and the completion over all of them (percent,
    two places; None without invitations)."""
    found = find_project(session, project)
    sessions, invited_all, attended_all = [], 0, 0
    for s in session.scalars(select(TrainingSession).where(TrainingSession.project_id == found.id)
                             .order_by(TrainingSession.starts_at, TrainingSession.id)):
        people = list(session.scalars(select(TrainingAttendance).where(TrainingAttendance.session_id == s.id)
                                      .order_by(TrainingAttendance.username)))
        attended = sum(1 for a in people if a.attended)
        invited_all, attended_all = invited_all + len(people), attended_all + attended
        sessions.append({"id": s.id, "title": s.title, "audience": s.audience, "trainer": s.trainer,
                         "starts_at": s.starts_at, "duration_hours": s.duration_hours, "location": s.location,
                         "invited": len(people), "attended": attended, "completion": _percent(attended, len(people)),
                         "attendance": [{"username": a.username, "attended": a.attended} for a in people]})
    return {"sessions": sessions, "invited": invited_all, "attended": attended_all,
            "completion": _percent(attended_all, invited_all)}


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def communications(session, project, *, upcoming: int = 3) -> list[dict]:
    """The communication plan by next date, each with its next `upcoming` dates."""
    found = find_project(session, project)
    return [{"id": c.id, "name": c.name, "kind": c.kind, "audience_group": c.audience_group, "cadence": c.cadence,
             "owner": c.owner, "weekday": c.weekday, "next_on": c.next_on, "next_dates": next_dates(c, upcoming)}
            for c in session.scalars(select(Communication).where(Communication.project_id == found.id)
                                     .order_by(Communication.next_on, Communication.id))]


def communications_due(session, day) -> list[dict]:
    """Communications of active projects due on or before `day` (for a periodic job sending reports)."""
    rows = session.execute(select(Communication, Project.code).join(Project, Project.id == Communication.project_id)
                           .where(Project.status == "active", Communication.next_on <= day)
                           .order_by(Communication.next_on, Communication.id))
    return [{"id": c.id, "project": code, "name": c.name, "kind": c.kind, "audience_group": c.audience_group,
             "owner": c.owner, "next_on": c.next_on} for c, code in rows]


def change_requests(session, project, status: str | None = None) -> list[dict]:
    found = find_project(session, project)
    query = select(ChangeRequest).where(ChangeRequest.project_id == found.id).order_by(ChangeRequest.number)
    if status:
        query = query.where(ChangeRequest.status == status)
    baselines = {b.id: b.version for b in session.scalars(select(Baseline).where(Baseline.project_id == found.id))}
    return [{"id": c.id, "number": c.number, "title": c.title, "reason": c.reason, "cost_impact": c.cost_impact,
             "days_impact": c.days_impact, "status": c.status, "requested_by": c.requested_by,
             "requested_at": c.requested_at, "decided_at": c.decided_at, "decided_by": c.decided_by,
             "baseline": baselines.get(c.baseline_id)} for c in session.scalars(query)]


def baselines(session, project) -> list[dict]:
    found = find_project(session, project)
    return [{"version": b.version, "created_at": b.created_at, "created_by": b.created_by, "reason": b.reason,
             "plan": b.plan} for b in session.scalars(select(Baseline).where(Baseline.project_id == found.id)
                                                      .order_by(Baseline.version))]


def budget_by_phase_and_category(session, project) -> dict:
    """{"rows": [{"phase", "category", "amount"}], "by_phase": {key: total}, "by_category": {category: total},
    "total"} from the budget lines, phases in order."""
    found = find_project(session, project)
    keys = _phase_keys(session, found)
    order = {p.id: p.seq for p in _phases(session, found)}
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in session.scalars(select(BudgetLine).where(BudgetLine.project_id == found.id)):
        sums[(line.phase_id, line.category)] += line.amount
    rows = [{"phase": keys[phase_id], "category": category, "amount": amount}
            for (phase_id, category), amount in sorted(sums.items(), key=lambda i: (order[i[0][0]], i[0][1]))]
    by_phase: dict[str, Decimal] = {}
    by_category: dict[str, Decimal] = {}
    for row in rows:
        by_phase[row["phase"]] = by_phase.get(row["phase"], ZERO) + row["amount"]
        by_category[row["category"]] = by_category.get(row["category"], ZERO) + row["amount"]
    return {"rows": rows, "by_phase": by_phase, "by_category": by_category,
            "total": sum(by_phase.values(), ZERO)}


def _phases(session, project) -> list[ProjectPhase]:
    return list(session.scalars(select(ProjectPhase).where(ProjectPhase.project_id == project.id)
                                .order_by(ProjectPhase.seq)))


def _phase_keys(session, project) -> dict:
    return {p.id: p.key for p in _phases(session, project)}


def _packages(session, project) -> list[WorkPackage]:
    return list(session.scalars(select(WorkPackage).where(WorkPackage.project_id == project.id)
                                .order_by(WorkPackage.planned_start, WorkPackage.code)))

"""Baselines and replanning: a baseline freezes the plan (phase and work-package dates, work-package budgets,
budget lines, the planned end) before it changes, so the old plan can be compared with the new one."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from core import clock
from erp.audit.services import record
from erp.projects.common import (
    add_error,
    checked_date,
    checked_number,
    checked_text,
    find_project,
    ordered,
    refuse_if,
)
from erp.projects.models import Baseline, BudgetLine, ProjectPhase, WorkPackage

PLANNED = ("planned_start", "planned_end")


def current_plan(session, project) -> dict:
    """The plan as it stands, in the JSON shape a baseline keeps (dates ISO text, money as text)."""
    project = find_project(session, project)
    phases = _phases(session, project)
    keys = {p.id: p.key for p in phases}
    return {
        "planned_end": project.planned_end.isoformat(),
        "phases": [{"key": p.key, "planned_start": p.planned_start.isoformat(),
                    "planned_end": p.planned_end.isoformat()} for p in phases],
        "work_packages": [{"code": w.code, "phase": keys[w.phase_id], "planned_start": w.planned_start.isoformat(),
                           "planned_end": w.planned_end.isoformat(), "budget": str(w.budget)}
                          for w in _packages(session, project)],
        "budget_lines": [{"phase": keys[b.phase_id], "category": b.category, "amount": str(b.amount),
                          "description": b.description}
                         for b in session.scalars(select(BudgetLine).where(BudgetLine.project_id == project.id)
                                                  .order_by(BudgetLine.id))],
    }


def take_baseline(session, project, *, reason: str, by: str | None = None) -> Baseline:
    """Freeze the current plan as the next baseline version (1, 2, …)."""
    project = find_project(session, project, lock=True)
    errors: dict = {}
    reason = checked_text(reason, "reason", errors, length=2000)
    refuse_if(errors, "baseline not taken")
    version = (session.scalar(select(func.max(Baseline.version)).where(Baseline.project_id == project.id)) or 0) + 1
    baseline = Baseline(project_id=project.id, version=version, created_at=clock.now(), created_by=by,
                        reason=reason, plan=current_plan(session, project))
    session.add(baseline)
    session.flush()
    record(session, "projects.baseline_taken", actor=by, target_type="project", target_id=project.id,
           after={"version": version, "reason": reason})
    return baseline


def baseline(session, project, version: int) -> Baseline | None:
    project = find_project(session, project)
    return session.scalar(select(Baseline).where(Baseline.project_id == project.id, Baseline.version == version))


def replan(session, project, changes: dict, *, reason: str, by: str | None) -> Baseline:
    """Take a baseline of the plan as it is, then apply `changes`:
    {"planned_end": date, "phases": {key: {"planned_start", "planned_end"}},
     "work_packages": {code: {"planned_start", "planned_end", "budget"}}} (every part optional).
    Refused as a whole (nothing written) if any change is invalid. Returns the baseline of the old plan."""
    project = find_project(session, project, lock=True)
    errors: dict = {}
    if not checked_text(reason, "reason", errors, length=2000):
        refuse_if(errors, "not replanned")
    updates = _checked_changes(session, project, changes or {}, errors)
    refuse_if(errors, "not replanned")
    old = take_baseline(session, project, reason=reason, by=by)
    before, after = {}, {}
    for (label, row), values in updates:
        before[label] = {name: getattr(row, name) for name in values}
        after[label] = values
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    record(session, "projects.replanned", actor=by, target_type="project", target_id=project.id,
           before={"baseline": old.version, **before}, after={"reason": reason, **after})
    return old


def _checked_changes(session, project, changes: dict, errors: dict) -> list:
    unknown = set(changes) - {"planned_end", "phases", "work_packages"}
    for name in sorted(unknown):
        add_error(errors, name, "cannot be replanned")
    updates = []
    if "planned_end" in changes:
        end = checked_date(changes["planned_end"], "planned_end", errors)
        ordered(project.start_date, end, "planned_end", errors)
        if end:
            updates.append((("project", project), {"planned_end": end}))
    phases = {p.key: p for p in _phases(session, project)}
    for key, values in (changes.get("phases") or {}).items():
        if key not in phases:
            add_error(errors, f"phases.{key}", "no such phase")
            continue
        updates.append(_dated(f"phase {key}", phases[key], values, f"phases.{key}", errors, {}))
    packages = {w.code: w for w in _packages(session, project)}
    for code, values in (changes.get("work_packages") or {}).items():
        if code not in packages:
            add_error(errors, f"work_packages.{code}", "no such work package")
            continue
        extra = {}
        if "budget" in values:
            amount = checked_number(values["budget"], f"work_packages.{code}.budget", errors)
            if amount is not None:
                extra["budget"] = amount
        updates.append(_dated(f"work package {code}", packages[code], values, f"work_packages.{code}", errors,
                              extra))
    return [u for u in updates if u[1]]


def _dated(label, row, values: dict, field: str, errors: dict, extra: dict):
    for name in set(values) - {*PLANNED, "budget"}:
        add_error(errors, f"{field}.{name}", "cannot be replanned")
    new = dict(extra)
    for name in PLANNED:
        if name in values:
            day = checked_date(values[name], f"{field}.{name}", errors)
            if day:
                new[name] = day
    ordered(new.get("planned_start", row.planned_start), new.get("planned_end", row.planned_end),
            f"{field}.planned_end", errors)
    return (label, row), new


def _phases(session, project) -> list[ProjectPhase]:
    return list(session.scalars(select(ProjectPhase).where(ProjectPhase.project_id == project.id)
                                .order_by(ProjectPhase.seq)))


def _packages(session, project) -> list[WorkPackage]:
    return list(session.scalars(select(WorkPackage).where(WorkPackage.project_id == project.id)
                                .order_by(WorkPackage.code)))


def plan_budget(plan: dict) -> Decimal:
    """The budget at completion a baseline held (the sum of its work packages' budgets)."""
    return sum((Decimal(w["budget"]) for w in plan["work_packages"]), Decimal("0.00"))

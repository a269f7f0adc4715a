"""Phase gate reviews (阶段评审) by the steering committee and change requests (变更请求)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.errors import NotFound
from erp.audit.services import record
from erp.projects import plans
from erp.projects.common import (
    add_error,
    checked_choice,
    checked_number,
    checked_text,
    find_phase,
    find_project,
    get,
    refuse_if,
    today,
)
from erp.projects.models import GATE_DECISIONS, BudgetLine, ChangeRequest, ProjectPhase

# ---------------------------------------------------------------------- phases and gates


def start_phase(session, project, phase_key: str, *, by: str | None = None) -> ProjectPhase:
    """Start a phase today; the one before it must be done. Starting the first phase makes the project active."""
    project = find_project(session, project, lock=True)
    phase = find_phase(session, project, phase_key)
    errors: dict = {}
    if phase.status != "not_started":
        add_error(errors, "phase", f"phase {phase.key} is {phase.status}, not not_started")
    previous = _phase_at(session, project, phase.seq - 1)
    if previous is not None and previous.status != "done":
        add_error(errors, "phase", f"phase {previous.key} must pass its gate review first")
    refuse_if(errors, f"phase {phase_key} not started")
    _begin(phase)
    if project.status == "planning":
        project.status = "active"
    session.flush()
    record(session, "projects.phase_started", actor=by, target_type="project", target_id=project.id,
           after={"phase": phase.key, "actual_start": phase.actual_start, "project_status": project.status})
    return phase


def submit_gate(session, project, phase_key: str, *, by: str | None = None) -> ProjectPhase:
    """The phase's work is done: it waits for the steering committee's gate review."""
    project = find_project(session, project, lock=True)
    phase = find_phase(session, project, phase_key)
    if phase.status != "in_progress":
        refuse_if({"phase": [f"phase {phase.key} is {phase.status}, not in_progress"]}, "gate not submitted")
    phase.status = "gate_review"
    session.flush()
    record(session, "projects.gate_submitted", actor=by, target_type="project", target_id=project.id,
           after={"phase": phase.key, "status": phase.status})
    return phase


def decide_gate(session, project, phase_key: str, decision: str, reasons: str | None = None, *,
                by: str | None = None) -> ProjectPhase:
    """The steering committee's decision: approved → the phase is done today and the next one starts today
    (after the last phase the project is closed); rejected → back to in_progress with the reasons (required)."""
    project = find_project(session, project, lock=True)
    phase = find_phase(session, project, phase_key)
    errors: dict = {}
    decision = checked_choice(decision, GATE_DECISIONS, "decision", errors)
    reasons = reasons.strip() if isinstance(reasons, str) and reasons.strip() else None
    if phase.status != "gate_review":
        add_error(errors, "phase", f"phase {phase.key} is {phase.status}, not in gate review")
    if decision == "rejected" and not reasons:
        add_error(errors, "reasons", "say why the gate is rejected")
    refuse_if(errors, f"gate of phase {phase_key} not decided")
    phase.gate_decision, phase.gate_reasons, phase.gate_decided_at = decision, reasons, clock.now()
    following = None
    if decision == "approved":
        phase.status, phase.actual_end = "done", max(today(), phase.actual_start or today())
        following = _phase_at(session, project, phase.seq + 1)
        if following is None:
            project.status = "closed"
        elif following.status == "not_started":
            _begin(following)
    else:
        phase.status = "in_progress"
    session.flush()
    record(session, "projects.gate_decided", actor=by, target_type="project", target_id=project.id,
           after={"phase": phase.key, "decision": decision, "reasons": reasons, "actual_end": phase.actual_end,
                  "next_phase": following.key if following else None, "project_status": project.status})
    return phase


def _begin(phase: ProjectPhase) -> None:
    phase.status, phase.actual_start = "in_progress", phase.actual_start or today()


def _phase_at(session, project, seq: int) -> ProjectPhase | None:
    return session.scalar(select(ProjectPhase).where(ProjectPhase.project_id == project.id,
                                                     ProjectPhase.seq == seq))


# ---------------------------------------------------------------------- change requests

def submit_change_request(session, project, *, title: str, reason: str | None = None, cost_impact=Decimal(0),
                          days_impact: int = 0, requested_by: str | None = None,
                          by: str | None = None) -> ChangeRequest:
    """A change request numbered CR-<year>-<nnn>; cost and days may be negative (a saving)."""
    project = find_project(session, project)
    errors: dict = {}
    title = checked_text(title, "title", errors, length=300)
    cost = checked_number(cost_impact, "cost_impact", errors, low=None)
    if isinstance(days_impact, bool) or not isinstance(days_impact, int):
        add_error(errors, "days_impact", "a whole number of days")
    refuse_if(errors, "change request not submitted")
    now = clock.now()
    request = ChangeRequest(project_id=project.id, number=_next_number(session, today().year), title=title,
                            reason=reason, cost_impact=cost, days_impact=days_impact, status="submitted",
                            requested_by=requested_by or by, requested_at=now)
    session.add(request)
    session.flush()
    record(session, "projects.change_requested", actor=by or requested_by, target_type="project",
           target_id=project.id, after={"number": request.number, "title": title, "cost_impact": cost,
                                        "days_impact": days_impact})
    return request


def _next_number(session, year: int) -> str:
    prefix = f"CR-{year}-"
    numbers = session.scalars(select(ChangeRequest.number).where(ChangeRequest.number.like(f"{prefix}%")))
    last = max((int(n[len(prefix):]) for n in numbers if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{last + 1:03d}"


def find_change_request(session, request) -> ChangeRequest:
    if isinstance(request, str) and not request.isdigit():
        found = session.scalar(select(ChangeRequest).where(ChangeRequest.number == request.strip().upper()))
        if found is None:
            raise NotFound(f"no change request {request}")
        return found
    return get(session, ChangeRequest, request, "change request")


def decide_change_request(session, cr, decision: str, *, by: str | None) -> ChangeRequest:
    """approved → a baseline of the plan as it was, then cost_impact becomes a budget line of the execution
    phase and days_impact moves the project's (and its last phase's) planned end; rejected → nothing else."""
    request = find_change_request(session, cr)
    project = find_project(session, request.project_id, lock=True)
    errors: dict = {}
    decision = checked_choice(decision, ("approved", "rejected"), "decision", errors)
    if request.status != "submitted":
        add_error(errors, "status", f"{request.number} is {request.status}, already decided")
    new_end = project.planned_end + timedelta(days=request.days_impact)
    if decision == "approved" and new_end < project.start_date:
        add_error(errors, "days_impact", "the project would end before it starts")
    refuse_if(errors, f"change request {request.number} not decided")
    if decision == "approved":
        request.baseline_id = plans.take_baseline(session, project, reason=f"{request.number}: {request.title}",
                                                  by=by).id
        _apply(session, project, request, new_end)
    request.status, request.decided_at, request.decided_by = decision, clock.now(), by
    session.flush()
    record(session, "projects.change_decided", actor=by, target_type="project", target_id=project.id,
           after={"number": request.number, "decision": decision, "planned_end": project.planned_end})
    return request


def _apply(session, project, request: ChangeRequest, new_end) -> None:
    if request.cost_impact:
        execution = find_phase(session, project, "execution")
        session.add(BudgetLine(project_id=project.id, phase_id=execution.id, category="other",
                               amount=request.cost_impact, description=f"{request.number} {request.title}"[:300]))
    if request.days_impact:
        last = session.scalar(select(ProjectPhase).where(ProjectPhase.project_id == project.id)
                              .order_by(ProjectPhase.seq.desc()).limit(1))
        if last is not None and last.planned_end == project.planned_end and new_end >= last.planned_start:
            last.planned_end = new_end
        project.planned_end = new_end

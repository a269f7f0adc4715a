"""Service-task operators of the implementation process (bpmn/implementation): reading the project, starting a
phase, submitting its gate and recording the steering committee's decision (projects.*). Results are plain data:
dates ISO text."""
from __future__ import annotations

from engine.operators import OperatorContext
from engine.values import jsonable
from erp.projects import queries, services
from erp.projects.common import find_project

#: said when the committee rejected a gate without a comment (the form requires one, so hardly ever)
NO_REASON = "阶段评审未通过 The gate review was not passed"


def summary(ctx: OperatorContext, project) -> dict:
    """projects.summary: who runs the project and where its phases stand; `next_phase` is the first phase not
    done (None once all are), where the implementation process picks up."""
    found = find_project(ctx.session, project)
    phases = [_phase(p) for p in queries.phases(ctx.session, found)]
    return {"code": found.code, "name_zh": found.name_zh, "name_en": found.name_en, "manager": found.manager,
            "sponsor": found.sponsor, "status": found.status, "phases": phases,
            "next_phase": next((p["key"] for p in phases if p["status"] != "done"), None)}


def start_phase(ctx: OperatorContext, project, phase) -> dict:
    """projects.start_phase: the phase starts today; one the previous gate's approval already started (or a
    phase resumed after a rejection) is taken as it is."""
    current = _phase_row(ctx.session, project, phase)
    if current["status"] == "not_started":
        services.start_phase(ctx.session, project, phase, by=ctx.actor)
        current = _phase_row(ctx.session, project, phase)
    return current


def submit_gate(ctx: OperatorContext, project, phase) -> dict:
    """projects.submit_gate: the phase's work is done, it waits for its gate review."""
    services.submit_gate(ctx.session, project, phase, by=ctx.actor)
    return _phase_row(ctx.session, project, phase)


def decide_gate(ctx: OperatorContext, project, phase, decision, reasons=None) -> dict:
    """projects.decide_gate: approved → the phase is done and the next one started (after the last the project
    is closed); rejected → the phase is back in progress with the reasons (the approver's comment). Returns the
    phase with `next_phase` and `project_status`."""
    if decision == "rejected" and not (isinstance(reasons, str) and reasons.strip()):
        reasons = NO_REASON
    services.decide_gate(ctx.session, project, phase, decision, reasons, by=ctx.actor)
    found = find_project(ctx.session, project)
    phases = [_phase(p) for p in queries.phases(ctx.session, found)]
    decided = next(p for p in phases if p["key"] == phase)
    following = next((p for p in phases if p["seq"] == decided["seq"] + 1), None)
    return {**decided, "next_phase": following["key"] if following and decision == "approved" else None,
            "project_status": found.status}


def change_request_summary(ctx: OperatorContext, change_request) -> dict:
    """projects.change_request_summary: what the change approval decides on (cost_impact as Decimal)."""
    from erp.projects.gates import find_change_request

    found = find_change_request(ctx.session, change_request)
    project = find_project(ctx.session, found.project_id)
    return {"change_request": found.number, "project": project.code, "title": found.title,
            "reason": found.reason, "cost_impact": found.cost_impact, "days_impact": found.days_impact,
            "requested_by": found.requested_by, "manager": project.manager, "status": found.status}


def decide_change_request(ctx: OperatorContext, change_request, decision) -> dict:
    """projects.decide_change_request: approved → a baseline, then the budget and end date change; rejected →
    nothing else."""
    found = services.decide_change_request(ctx.session, change_request, decision, by=ctx.actor)
    return {"change_request": found.number, "status": found.status}


def _phase_row(session, project, key: str) -> dict:
    found = next((p for p in queries.phases(session, project) if p["key"] == key), None)
    if found is None:
        services.find_phase(session, project, key)  # raises NotFound naming the phases
    return _phase(found)


def _phase(row: dict) -> dict:
    return jsonable({name: row[name] for name in ("seq", "key", "name_zh", "name_en", "status", "planned_start",
                                                  "planned_end", "actual_start", "actual_end", "gate_decision",
                                                  "gate_reasons")})


def register(registry) -> None:
    registry.register("projects.summary", summary)
    registry.register("projects.start_phase", start_phase)
    registry.register("projects.submit_gate", submit_gate)
    registry.register("projects.decide_gate", decide_gate)
    registry.register("projects.change_request_summary", change_request_summary)
    registry.register("projects.decide_change_request", decide_change_request)

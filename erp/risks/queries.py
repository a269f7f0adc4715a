"""Reading the risk register: the filtered register, the 5×5 matrix (风险评估矩阵), a risk's history, the counts
the KPIs and the weekly review need, and the early-warning rules with their alerts."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from erp.risks.models import HIGH_SCORE, LIVE_STATUSES, Risk, RiskChange, WarningAlert, WarningRule
from erp.risks.services import find_risk, project_id_of

_REGISTER_COLUMNS = ("id", "code", "title", "category", "owner", "probability", "impact", "score", "proximity",
                     "strategy", "status", "contingency_active", "contingency_process", "residual_probability",
                     "residual_impact", "identified_on", "last_reviewed_on", "next_review_on")


def register(session, project, *, status=None, owner: str | None = None, category=None, min_score: int | None = None,
             text: str | None = None) -> list[dict]:
    """The project's risks, highest score first; status and category take one value or a list; text searches
    code, title, description and cause."""
    query = select(Risk).where(Risk.project_id == project_id_of(session, project))
    if status:
        query = query.where(Risk.status.in_([status] if isinstance(status, str) else list(status)))
    if category:
        query = query.where(Risk.category.in_([category] if isinstance(category, str) else list(category)))
    if owner:
        query = query.where(Risk.owner == owner)
    if min_score is not None:
        query = query.where(Risk.score >= int(min_score))
    if text and text.strip():
        # literal text: % and _ typed in the search box match themselves, not anything
        query = query.where(or_(*(column.icontains(text.strip(), autoescape=True)
                                  for column in (Risk.code, Risk.title, Risk.description, Risk.cause))))
    risks = session.scalars(query.order_by(Risk.score.desc(), Risk.code)).all()
    return [_row(risk) for risk in risks]


def matrix(session, project) -> list[list[dict]]:
    """5×5 cells indexed [probability-1][impact-1], each {"count", "codes"}, over the risks not closed."""
    cells = [[{"count": 0, "codes": []} for _ in range(5)] for _ in range(5)]
    rows = session.execute(select(Risk.probability, Risk.impact, Risk.code)
                           .where(Risk.project_id == project_id_of(session, project),
                                  Risk.status.in_(LIVE_STATUSES))
                           .order_by(Risk.code)).all()
    for probability, impact, code in rows:
        cell = cells[probability - 1][impact - 1]
        cell["count"] += 1
        cell["codes"].append(code)
    return cells


def history(session, risk) -> list[dict]:
    """Every change of the risk, oldest first: {at, by, changes: {field: [before, after]}}."""
    risk = find_risk(session, risk)
    rows = session.scalars(select(RiskChange).where(RiskChange.risk_id == risk.id)
                           .order_by(RiskChange.at, RiskChange.id)).all()
    return [{"at": row.at, "by": row.by, "changes": row.changes} for row in rows]


def open_high_risks(session, project) -> int:
    """Open or monitored risks scoring 15 or more (the KPI open_high_risks)."""
    return session.scalar(select(func.count(Risk.id)).where(
        Risk.project_id == project_id_of(session, project), Risk.score >= HIGH_SCORE,
        Risk.status.in_(("open", "monitoring")))) or 0


def open_risks_by_owner(session, project=None) -> dict[str, list[str]]:
    """{owner: [risk codes]} over the risks not closed, of one project, or of every project (then the codes
    carry their project's code: "ERP-2026/R-001")."""
    from erp.projects.models import Project

    query = (select(Risk.owner, Risk.code, Project.code).join(Project, Project.id == Risk.project_id)
             .where(Risk.status.in_(LIVE_STATUSES)).order_by(Risk.owner, Project.code, Risk.code))
    if project is not None:
        query = query.where(Risk.project_id == project_id_of(session, project))
    found: dict[str, list[str]] = {}
    for owner, code, project_code in session.execute(query).all():
        found.setdefault(owner, []).append(code if project is not None else f"{project_code}/{code}")
    return found


def risks_to_review(session, owner: str, project=None) -> list[dict]:
    """The owner's risks not closed, for the weekly review mail: {project, code, title, score, status,
    next_review_on}, highest score first."""
    from erp.projects.models import Project

    query = (select(Project.code, Risk.code, Risk.title, Risk.score, Risk.status, Risk.next_review_on)
             .join(Project, Project.id == Risk.project_id)
             .where(Risk.owner == owner, Risk.status.in_(LIVE_STATUSES))
             .order_by(Risk.score.desc(), Project.code, Risk.code))
    if project is not None:
        query = query.where(Risk.project_id == project_id_of(session, project))
    names = ("project", "code", "title", "score", "status", "next_review_on")
    return [dict(zip(names, row, strict=True)) for row in session.execute(query).all()]


def rules(session, project) -> list[dict]:
    """The project's warning rules with their state and last value."""
    query = (select(WarningRule, Risk.code).outerjoin(Risk, Risk.id == WarningRule.risk_id)
             .where(WarningRule.project_id == project_id_of(session, project)).order_by(WarningRule.id))
    return [{"id": rule.id, "name": rule.name, "metric": rule.metric, "comparator": rule.comparator,
             "threshold": rule.threshold, "every_minutes": rule.every_minutes, "risk": code,
             "start_process": rule.start_process, "active": rule.active, "state": rule.state,
             "last_value": rule.last_value, "last_evaluated_at": rule.last_evaluated_at,
             "next_evaluation_at": rule.next_evaluation_at} for rule, code in session.execute(query).all()]


def alerts(session, rule_id: int) -> list[dict]:
    """The rule's alert history, oldest first."""
    rows = session.scalars(select(WarningAlert).where(WarningAlert.rule_id == rule_id)
                           .order_by(WarningAlert.raised_at, WarningAlert.id)).all()
    return [{"id": a.id, "raised_at": a.raised_at, "value": a.value, "threshold": a.threshold,
             "cleared_at": a.cleared_at, "cleared_value": a.cleared_value, "instance_id": a.instance_id,
             "notes": a.notes} for a in rows]


def _row(risk: Risk) -> dict:
    return {name: getattr(risk, name) for name in _REGISTER_COLUMNS}

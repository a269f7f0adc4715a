"""Changing the risk register: identify, assess, review, activate the contingency of and close risks (take a
session, never commit). Every change is written to risk_change and to the audit log."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from core.errors import InvalidInput, NotFound
from engine.values import jsonable
from erp.audit.services import record
from erp.risks.models import CATEGORIES, PROXIMITIES, STATUSES, STRATEGIES, Risk, RiskChange

#: the fields a person may change (score follows probability × impact)
FIELDS = ("title", "description", "cause", "category", "owner", "probability", "impact", "proximity", "strategy",
          "actions", "triggers", "contingency_plan", "contingency_process", "contingency_active",
          "residual_probability", "residual_impact", "status", "identified_on", "last_reviewed_on",
          "next_review_on")
REVIEW_EVERY = timedelta(days=7)
_CHOICES = {"category": CATEGORIES, "proximity": PROXIMITIES, "strategy": STRATEGIES, "status": STATUSES}
_TEXTS = {"title": 200, "description": None, "cause": None, "owner": 100, "actions": None, "triggers": None,
          "contingency_plan": None, "contingency_process": 200}
_REQUIRED = ("title", "owner", "category", "probability", "impact")
_SCALES = ("probability", "impact", "residual_probability", "residual_impact")
_DATES = ("identified_on", "last_reviewed_on", "next_review_on")


def today() -> date:
    """The date in Beijing: reviews are due on Beijing days."""
    return clock.now().astimezone(BEIJING).date()


def create_risk(session, project, *, title: str, owner: str, probability: int, impact: int, category: str,
                by: str | None = None, code: str | None = None, **fields) -> Risk:
    """A new risk of `project` (code or id), numbered R-001, R-002, ... unless `code` is given; status open,
    proximity near and strategy mitigate unless given."""
    project_id = project_id_of(session, project)
    values = _checked({"title": title, "owner": owner, "probability": probability, "impact": impact,
                       "category": category, "proximity": "near", "strategy": "mitigate", "status": "open",
                       "contingency_active": False, "identified_on": today(), **fields})
    code = _new_code(session, project_id) if code is None else _checked_code(session, project_id, code)
    risk = Risk(project_id=project_id, code=code, created_at=clock.now(), created_by=by, **values)
    risk.score = risk.probability * risk.impact
    session.add(risk)
    session.flush()
    _history(session, risk, {name: [None, value] for name, value in {"code": code, **values,
                                                                      "score": risk.score}.items()}, by)
    record(session, "risks.risk_created", actor=by, target_type="risk", target_id=risk.id,
           after={"code": code, "project_id": project_id, **values})
    return risk


def update_risk(session, risk, *, by: str | None = None, **fields) -> Risk:
    """Change what is given; the score follows. One history row lists the fields that changed (none: none)."""
    risk = find_risk(session, risk)
    values = _checked(fields, partial=True)
    _apply(session, risk, values, by, "risks.risk_changed")
    return risk


def review_risk(session, risk, *, by: str | None = None, notes: str | None = None, **fields) -> Risk:
    """A review (风险审查): the changes given, last_reviewed_on today and the next review a week later (unless
    next_review_on is given); the notes are kept in the history row."""
    risk = find_risk(session, risk)
    reviewed = today()
    values = _checked({"last_reviewed_on": reviewed, "next_review_on": reviewed + REVIEW_EVERY, **fields},
                      partial=True)
    _apply(session, risk, values, by, "risks.risk_reviewed", extra={"review_notes": [None, notes]} if notes else None)
    return risk


def activate_contingency(session, risk, *, by: str | None = None, reason: str | None = None) -> Risk:
    """The risk is happening: its contingency plan (应急计划) is active and an open or monitored risk has
    occurred. Starting its contingency_process is the caller's job (it needs the engine)."""
    risk = find_risk(session, risk)
    values = {"contingency_active": True}
    if risk.status in ("open", "monitoring"):
        values["status"] = "occurred"
    _apply(session, risk, values, by, "risks.contingency_activated",
           extra={"reason": [None, reason]} if reason else None)
    return risk


def close_risk(session, risk, *, by: str | None = None, reason: str | None = None) -> Risk:
    """The risk can no longer happen or no longer matters; the contingency, if active, ends with it."""
    risk = find_risk(session, risk)
    if risk.status == "closed":
        raise InvalidInput(f"risk {risk.code} is already closed", {"status": ["already closed"]})
    _apply(session, risk, {"status": "closed", "contingency_active": False}, by, "risks.risk_closed",
           extra={"reason": [None, reason]} if reason else None)
    return risk


def find_risk(session, risk) -> Risk:
    """A Risk, or the risk with that id."""
    if isinstance(risk, Risk):
        return risk
    found = session.get(Risk, int(risk)) if str(risk).isdigit() else None
    if found is None:
        raise NotFound(f"no risk {risk}")
    return found


def find_risk_by_code(session, project, code: str) -> Risk:
    found = session.scalar(select(Risk).where(Risk.project_id == project_id_of(session, project), Risk.code == code))
    if found is None:
        raise NotFound(f"no risk {code} in project {project}")
    return found


def project_id_of(session, project) -> int:
    """The id of a project given as a Project, its code or its id."""
    if hasattr(project, "id"):
        return project.id
    from erp.projects.services import find_project

    return find_project(session, project).id


def _apply(session, risk: Risk, values: dict, by, action: str, extra: dict | None = None) -> None:
    changed = {name: [getattr(risk, name), value] for name, value in values.items() if getattr(risk, name) != value}
    for name, (_, value) in changed.items():
        setattr(risk, name, value)
    score = risk.probability * risk.impact
    if score != risk.score:
        changed["score"] = [risk.score, score]
        risk.score = score
    if extra:
        changed.update(extra)
    if not changed:
        return
    session.flush()
    _history(session, risk, changed, by)
    record(session, action, actor=by, target_type="risk", target_id=risk.id,
           before={k: v[0] for k, v in changed.items()}, after={k: v[1] for k, v in changed.items()})


def _history(session, risk: Risk, changes: dict, by) -> RiskChange:
    row = RiskChange(risk_id=risk.id, at=clock.now(), by=by, changes=jsonable(changes))
    session.add(row)
    session.flush()
    return row


def _checked(fields: dict, partial: bool = False) -> dict:
    """The fields, normalised; InvalidInput naming each bad field, writing nothing."""
    errors: dict[str, list[str]] = {}
    unknown = set(fields) - set(FIELDS)
    for name in sorted(unknown):
        errors[name] = ["not a field of a risk"]
    values = {}
    for name, value in fields.items():
        if name in unknown:
            continue
        try:
            values[name] = _value(name, value)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    if not partial:
        for name in _REQUIRED:
            if values.get(name) in (None, "") and name not in errors:
                errors[name] = ["required"]
    if errors:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        raise InvalidInput(f"the risk is not valid: {details}", errors)
    return values


def _value(name: str, value):
    if name in _REQUIRED and value in (None, ""):
        raise ValueError("required")
    if value is None:
        return None
    if name in _SCALES:
        if isinstance(value, bool) or str(value).strip() not in ("1", "2", "3", "4", "5"):
            raise ValueError("a whole number from 1 to 5")
        return int(value)
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise ValueError(f"one of {', '.join(_CHOICES[name])}")
        return value
    if name in _DATES:
        return value if isinstance(value, date) else _date(value)
    if name == "contingency_active":
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value
    text = str(value).strip()
    limit = _TEXTS[name]
    if limit and len(text) > limit:
        raise ValueError(f"at most {limit} characters")
    return text or None


def _date(value) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError("a date like 2026-03-05") from None


def _new_code(session, project_id: int) -> str:
    codes = session.scalars(select(Risk.code).where(Risk.project_id == project_id, Risk.code.like("R-%"))).all()
    numbers = [int(c[2:]) for c in codes if c[2:].isdigit()]
    return f"R-{max(numbers, default=0) + 1:03d}"


def _checked_code(session, project_id: int, code: str) -> str:
    code = str(code).strip()
    if not code or len(code) > 20:
        raise InvalidInput("a risk code has 1 to 20 characters", {"code": ["1 to 20 characters"]})
    if session.scalar(select(Risk.id).where(Risk.project_id == project_id, Risk.code == code)) is not None:
        raise InvalidInput(f"risk {code} exists already", {"code": ["exists already"]})
    return code

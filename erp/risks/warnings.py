"""Early warning (预警机制): rules that watch a metric of a project and, on a breach, raise one alert: the
risk owner gets a risk_alert process with a task to respond and a mail, the risk's contingency (应急计划) is
activated and the rule's own process started; on recovery the alert is cleared and the owner told. The periodic
job `risks.early_warning` evaluates the rules that are due."""
from __future__ import annotations

import logging
import operator
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, func, or_, select

from core import clock
from core.errors import InvalidInput, NotFound
from engine.models import HumanTask, ProcessInstance
from erp.audit.services import changes, record
from erp.risks.models import COMPARATORS, Risk, WarningAlert, WarningRule
from erp.risks.services import activate_contingency, find_risk, project_id_of, today
from notifications.outbox import enqueue

log = logging.getLogger(__name__)
#: who the early warning acts as in histories and the audit log
ACTOR = "early_warning"
ALERT_PROCESS = "risk_alert"
SLA_WINDOW = timedelta(days=30)
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_PROCESS_METRICS = ("process_overdue_tasks", "process_sla_breaches")
RULE_FIELDS = ("name", "metric", "comparator", "threshold", "every_minutes", "risk", "start_process", "active")


# ------------------------------------------------------------------ rules

def create_rule(session, project, *, name: str, metric: str, comparator: str, threshold, every_minutes: int = 60,
                risk=None, start_process: str | None = None, active: bool = True,
                by: str | None = None) -> WarningRule:
    """A new rule of `project`, due for its first evaluation at once."""
    project_id = project_id_of(session, project)
    values = _rule_values(session, project_id, {"name": name, "metric": metric, "comparator": comparator,
                                                "threshold": threshold, "every_minutes": every_minutes,
                                                "risk": risk, "start_process": start_process, "active": active})
    now = clock.now()
    rule = WarningRule(project_id=project_id, state="ok", next_evaluation_at=now, created_at=now, created_by=by,
                       **values)
    session.add(rule)
    session.flush()
    record(session, "risks.rule_created", actor=by, target_type="warning_rule", target_id=rule.id, after=values)
    return rule


def update_rule(session, rule, *, by: str | None = None, **fields) -> WarningRule:
    """Change what is given; a changed rule is evaluated again at once."""
    rule = _find_rule(session, rule)
    unknown = sorted(set(fields) - set(RULE_FIELDS))
    if unknown:
        raise InvalidInput("not fields of a warning rule", {name: ["unknown field"] for name in unknown})
    values = _rule_values(session, rule.project_id, fields, partial=True)
    before, after = changes({name: getattr(rule, name) for name in values}, values)
    if not after:
        return rule
    for name, value in after.items():
        setattr(rule, name, value)
    rule.next_evaluation_at = clock.now()
    session.flush()
    record(session, "risks.rule_changed", actor=by, target_type="warning_rule", target_id=rule.id,
           before=before, after=after)
    return rule


# ------------------------------------------------------------------ metrics

def metric_value(session, project, metric: str, now: datetime) -> Decimal | None:
    """The metric's value for the project now; None when there is nothing to measure yet."""
    from erp.projects import evm, kpis

    kind, _, argument = metric.partition(":")
    if kind == "kpi" and argument:
        return kpis.latest(session, project, argument)
    if kind == "process_overdue_tasks" and argument:
        return Decimal(_overdue_tasks(session, argument, now))
    if kind == "process_sla_breaches" and argument:
        return Decimal(_sla_breaches(session, argument, now))
    if metric == "budget_burn":
        return evm.budget_burn(session, project, today())
    raise InvalidInput(f"unknown metric {metric!r}", {"metric": [_METRIC_HELP]})


def _overdue_tasks(session, process_key: str, now: datetime) -> int:
    """Open human tasks of the process past their due time."""
    return session.scalar(select(func.count(HumanTask.id))
                          .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                          .where(ProcessInstance.process_key == process_key, HumanTask.status == "open",
                                 HumanTask.due_at < now)) or 0


def _sla_breaches(session, process_key: str, now: datetime) -> int:
    """Tasks of the process whose due time fell in the last 30 days and that were completed after it or are
    still open past it."""
    late = or_(and_(HumanTask.status == "completed", HumanTask.completed_at > HumanTask.due_at),
               HumanTask.status == "open")
    return session.scalar(select(func.count(HumanTask.id))
                          .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                          .where(ProcessInstance.process_key == process_key, HumanTask.due_at.is_not(None),
                                 HumanTask.due_at >= now - SLA_WINDOW, HumanTask.due_at < now, late)) or 0


def breached(value: Decimal | None, comparator: str, threshold: Decimal) -> bool:
    return value is not None and _COMPARE[comparator](Decimal(value), Decimal(threshold))


# ------------------------------------------------------------------ evaluation

def evaluate_rule(session, engine, rule: WarningRule, now: datetime) -> str:
    """Measure and compare: "raised" on a new breach, "cleared" on recovery, else "unchanged" (also while
    there is no value). The rule is due again `every_minutes` later."""
    from erp.projects.models import Project

    project = session.get(Project, rule.project_id)
    with clock.frozen(now):
        value = metric_value(session, project, rule.metric, now)
        rule.last_value, rule.last_evaluated_at = value, now
        rule.next_evaluation_at = now + timedelta(minutes=rule.every_minutes)
        outcome = "unchanged"
        if value is not None and breached(value, rule.comparator, rule.threshold) and rule.state == "ok":
            _raise_alert(session, engine, rule, project, value, now)
            outcome = "raised"
        elif value is not None and not breached(value, rule.comparator, rule.threshold) and rule.state == "breached":
            _clear_alert(session, rule, project, value, now)
            outcome = "cleared"
        session.flush()
    return outcome


def evaluate_due(session, engine, now: datetime | None = None, *, limit: int = 200) -> dict:
    """Evaluate the active rules whose time has come (the job `risks.early_warning`). On PostgreSQL the rules
    are claimed with SKIP LOCKED, so two workers never evaluate one rule. A rule that fails is logged and tried
    again at its next time; the others go on."""
    now = now or clock.now()
    query = (select(WarningRule).where(WarningRule.active.is_(True),
                                       or_(WarningRule.next_evaluation_at.is_(None),
                                           WarningRule.next_evaluation_at <= now))
             .order_by(WarningRule.next_evaluation_at, WarningRule.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    counts = {"evaluated": 0, "raised": 0, "cleared": 0, "failed": 0}
    for rule in session.scalars(query).all():
        try:
            with session.begin_nested():
                outcome = evaluate_rule(session, engine, rule, now)
        except Exception:
            log.exception("warning rule %s (%s) could not be evaluated", rule.id, rule.metric)
            rule.next_evaluation_at = now + timedelta(minutes=rule.every_minutes)
            counts["failed"] += 1
            continue
        counts["evaluated"] += 1
        if outcome != "unchanged":
            counts[outcome] += 1
    session.flush()
    return counts


def _raise_alert(session, engine, rule: WarningRule, project, value: Decimal, now: datetime) -> None:
    risk = session.get(Risk, rule.risk_id) if rule.risk_id else None
    owner = risk.owner if risk else project.manager
    alert = WarningAlert(rule_id=rule.id, raised_at=now, value=value, threshold=rule.threshold)
    session.add(alert)
    session.flush()
    data = {"rule": rule.id, "rule_name": rule.name, "metric": rule.metric, "risk": risk.code if risk else None,
            "risk_title": risk.title if risk else None, "value": str(value), "threshold": str(rule.threshold),
            "comparator": rule.comparator, "project": project.code, "owner": owner, "alert": alert.id}
    business_key = f"{project.code}/{risk.code if risk else f'rule-{rule.id}'}"
    alert.instance_id = engine.start(session, ALERT_PROCESS, data, business_key=business_key, user=ACTOR).id
    rule.state = "breached"
    enqueue(session, "risk_alert", to_user=owner, context=_mail_context(rule, project, risk, alert),
            dedupe_key=f"risk_alert:{alert.id}")
    processes = [rule.start_process]
    if risk is not None:
        was_active = risk.contingency_active
        activate_contingency(session, risk, by=ACTOR, reason=f"{rule.name}: {value} {rule.comparator} {rule.threshold}")
        if not was_active:
            processes.insert(0, risk.contingency_process)
    for key in dict.fromkeys(p for p in processes if p):  # the same process named twice starts once
        engine.start(session, key, data, business_key=business_key, user=ACTOR)
    record(session, "risks.alert_raised", actor=ACTOR, target_type="warning_rule", target_id=rule.id,
           after={"alert": alert.id, "value": value, "threshold": rule.threshold, "instance": alert.instance_id})


def _clear_alert(session, rule: WarningRule, project, value: Decimal, now: datetime) -> None:
    rule.state = "ok"
    alert = session.scalar(select(WarningAlert).where(WarningAlert.rule_id == rule.id,
                                                      WarningAlert.cleared_at.is_(None))
                           .order_by(WarningAlert.raised_at.desc()).limit(1))
    if alert is None:  # breached by hand or the alert row deleted: nothing to clear, only the state
        return
    alert.cleared_at, alert.cleared_value = now, value
    risk = session.get(Risk, rule.risk_id) if rule.risk_id else None
    enqueue(session, "risk_alert_cleared", to_user=risk.owner if risk else project.manager,
            context=_mail_context(rule, project, risk, alert), dedupe_key=f"risk_alert_cleared:{alert.id}")
    record(session, "risks.alert_cleared", actor=ACTOR, target_type="warning_rule", target_id=rule.id,
           after={"alert": alert.id, "value": value})


def _mail_context(rule: WarningRule, project, risk: Risk | None, alert: WarningAlert) -> dict:
    return {"alert_id": alert.id, "rule_name": rule.name, "metric": rule.metric, "comparator": rule.comparator,
            "threshold": str(alert.threshold), "value": str(alert.value), "raised_at": alert.raised_at,
            "cleared_at": alert.cleared_at, "cleared_value": None if alert.cleared_value is None
            else str(alert.cleared_value), "project_code": project.code, "project_name": project.name_zh,
            "risk_code": risk.code if risk else None, "risk_title": risk.title if risk else None,
            "contingency_plan": risk.contingency_plan if risk else None, "instance_id": alert.instance_id,
            "risk_id": risk.id if risk else None, "project_id": project.id}


# ------------------------------------------------------------------ checking rules

_METRIC_HELP = "kpi:<key>, process_overdue_tasks:<process key>, process_sla_breaches:<process key> or budget_burn"


def _rule_values(session, project_id: int, fields: dict, partial: bool = False) -> dict:
    errors: dict[str, list[str]] = {}
    values = {}
    for name, value in fields.items():
        try:
            values[_column(name)] = _rule_value(session, project_id, name, value)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    if errors:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        raise InvalidInput(f"the warning rule is not valid: {details}", errors)
    return values


def _column(name: str) -> str:
    return "risk_id" if name == "risk" else name


def _rule_value(session, project_id: int, name: str, value):
    if name == "name":
        text = str(value or "").strip()
        if not text or len(text) > 200:
            raise ValueError("1 to 200 characters")
        return text
    if name == "metric":
        return _checked_metric(value)
    if name == "comparator":
        if value not in COMPARATORS:
            raise ValueError(f"one of {' '.join(COMPARATORS)}")
        return value
    if name == "threshold":
        try:
            return Decimal(str(value)).quantize(Decimal("0.0001"))
        except (InvalidOperation, ValueError):
            raise ValueError("a number") from None
    if name == "every_minutes":
        if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
            raise ValueError("a whole number of minutes, at least 1")
        return int(value)
    if name == "risk":
        return _risk_id(session, project_id, value)
    if name == "start_process":
        return str(value).strip() or None if value is not None else None
    if name == "active":
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value
    raise ValueError("unknown field")


def _checked_metric(metric) -> str:
    metric = str(metric or "").strip()
    kind, colon, argument = metric.partition(":")
    if metric == "budget_burn" or (colon and argument and kind in ("kpi", *_PROCESS_METRICS)):
        return metric
    raise ValueError(_METRIC_HELP)


def _risk_id(session, project_id: int, risk) -> int | None:
    if risk is None:
        return None
    try:
        found = find_risk(session, risk)
    except NotFound:
        found = session.scalar(select(Risk).where(Risk.project_id == project_id, Risk.code == str(risk)))
    if found is None or found.project_id != project_id:
        raise ValueError(f"no risk {risk} in this project")
    return found.id


def _find_rule(session, rule) -> WarningRule:
    if isinstance(rule, WarningRule):
        return rule
    found = session.get(WarningRule, int(rule))
    if found is None:
        raise NotFound(f"no warning rule {rule}")
    return found

"""Service-task operators of the risk processes (bpmn/risks): recording the owner's response to an alert
(`risks.record_alert_response`) and gathering the weekly review round (`risks.review_round`)."""
from __future__ import annotations

from datetime import date

from core.errors import InvalidInput, NotFound
from erp.risks import queries, services
from erp.risks.models import Risk, WarningAlert, WarningRule
from notifications.outbox import enqueue

#: 启动应急预案 / 正在减轻 / 误报
RESPONSES = {"contingency_started": "启动应急预案 Contingency started", "mitigating": "正在减轻 Mitigating",
             "false_alarm": "误报 False alarm"}


def record_alert_response(ctx, alert, response, actions_taken, next_review_on=None) -> dict:
    """The owner's response goes into the alert's notes, and the watched risk counts as reviewed (next review
    on the date given, else a week on)."""
    found = ctx.session.get(WarningAlert, int(alert))
    if found is None:
        raise NotFound(f"no warning alert {alert}")
    if response not in RESPONSES:
        raise InvalidInput(f"unknown response {response!r}", {"response": [f"one of {', '.join(RESPONSES)}"]})
    by = ctx.actor or "risk_owner"
    note = f"[{RESPONSES[response]}] {by}: {str(actions_taken).strip()}"
    found.notes = f"{found.notes}\n{note}" if found.notes else note
    rule = ctx.session.get(WarningRule, found.rule_id)
    risk = ctx.session.get(Risk, rule.risk_id) if rule and rule.risk_id else None
    if risk is not None:
        fields = {"next_review_on": _date(next_review_on)} if next_review_on else {}
        services.review_risk(ctx.session, risk, by=by, notes=note, **fields)
    ctx.session.flush()
    return {"alert": found.id, "risk": risk.code if risk else None, "response": response,
            "next_review_on": risk.next_review_on.isoformat() if risk and risk.next_review_on else None}


def review_round(ctx, project=None) -> dict:
    """The owners of risks not closed (of one project, or of all) and their risks, for the weekly review;
    each owner is mailed the list of their risks (risk_review), once per round (a round is a day: the
    instance has no id yet while its first step runs)."""
    by_owner = queries.open_risks_by_owner(ctx.session, project or None)
    week_of = services.today()
    for owner in sorted(by_owner):
        enqueue(ctx.session, "risk_review", to_user=owner,
                context={"week_of": week_of, "risks": queries.risks_to_review(ctx.session, owner, project or None)},
                dedupe_key=f"risk_review:{project or 'all'}:{week_of.isoformat()}:{owner}")
    return {"owners": sorted(by_owner), "risks_by_owner": by_owner}


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def register(registry) -> None:
    registry.register("risks.record_alert_response", record_alert_response)
    registry.register("risks.review_round", review_round)

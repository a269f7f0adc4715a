"""Risk register pages (风险登记册): the filtered register with the 5×5 heatmap, a risk with its full change
history and the alerts of the rules watching it, new risk and edit (risk.edit), review (risk.edit, or the risk's
owner for their own risk), and the early-warning rules with their state. The rules live in erp.risks."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from core.errors import InvalidInput
from erp.projects.common import find_project
from erp.risks import queries, services
from erp.risks.models import CATEGORIES, PROXIMITIES, STATUSES, STRATEGIES
from webapp import requestdb
from webapp.navigation import known_names
from webapp.security import requires, user
from webapp.views.projects import RAG_LABELS, STATUS_LABELS, TABS

blueprint = Blueprint("risks", __name__)

CATEGORY_LABELS = {"technical": lazy_gettext("Technical"), "organisational": lazy_gettext("Organisational"),
                   "data": lazy_gettext("Data"), "vendor": lazy_gettext("Vendor"),
                   "schedule": lazy_gettext("Schedule"), "budget": lazy_gettext("Budget"),
                   "compliance": lazy_gettext("Compliance")}
RISK_STATUS_LABELS = {"open": lazy_gettext("Open"), "monitoring": lazy_gettext("Monitoring"),
                      "occurred": lazy_gettext("Occurred"), "closed": lazy_gettext("Closed")}
STRATEGY_LABELS = {"avoid": lazy_gettext("Avoid"), "transfer": lazy_gettext("Transfer"),
                   "mitigate": lazy_gettext("Mitigate"), "accept": lazy_gettext("Accept")}
PROXIMITY_LABELS = {"imminent": lazy_gettext("Imminent"), "near": lazy_gettext("Near"), "far": lazy_gettext("Far")}
FIELD_LABELS = {"title": lazy_gettext("Title"), "description": lazy_gettext("Description"),
                "cause": lazy_gettext("Cause"), "category": lazy_gettext("Category"),
                "owner": lazy_gettext("Risk owner"), "probability": lazy_gettext("Probability"),
                "impact": lazy_gettext("Impact"), "score": lazy_gettext("Score"),
                "proximity": lazy_gettext("Proximity"), "strategy": lazy_gettext("Response strategy"),
                "actions": lazy_gettext("Response actions"), "triggers": lazy_gettext("Warning signs"),
                "contingency_plan": lazy_gettext("Contingency plan"),
                "contingency_process": lazy_gettext("Contingency process"),
                "contingency_active": lazy_gettext("Contingency active"),
                "residual_probability": lazy_gettext("Residual probability"),
                "residual_impact": lazy_gettext("Residual impact"), "status": lazy_gettext("Status"),
                "identified_on": lazy_gettext("Identified on"), "last_reviewed_on": lazy_gettext("Last reviewed on"),
                "next_review_on": lazy_gettext("Next review on"), "code": lazy_gettext("Code"),
                "review_notes": lazy_gettext("Review notes"), "reason": lazy_gettext("Reason")}
#: the fields the edit form sends; empty optional ones mean "none"
TEXT_FIELDS = ("title", "description", "cause", "owner", "actions", "triggers", "contingency_plan",
               "contingency_process")
CHOICE_FIELDS = ("category", "proximity", "strategy", "status")
SCALE_FIELDS = ("probability", "impact", "residual_probability", "residual_impact")
DATE_FIELDS = ("next_review_on",)


def _labels() -> dict:
    return {"categories": CATEGORY_LABELS, "risk_statuses": RISK_STATUS_LABELS, "strategies": STRATEGY_LABELS,
            "proximities": PROXIMITY_LABELS, "fields": FIELD_LABELS, "rag_labels": RAG_LABELS,
            "status_labels": STATUS_LABELS, "tabs": TABS}


def _page(template: str, project, **context):
    return render_template(f"risks/{template}", project=project, tab="risks", **_labels(), **context)


def _project(code: str):
    return find_project(requestdb.session(), code)


def _filters() -> dict:
    args = {k: request.args.get(k, "").strip() for k in ("status", "owner", "category", "min_score", "q")}
    args["status"] = args["status"] if args["status"] in STATUSES else ""
    args["category"] = args["category"] if args["category"] in CATEGORIES else ""
    args["min_score"] = args["min_score"] if args["min_score"].isdigit() else ""
    return args


@blueprint.route("/projects/<code>/risks")
@requires("project.view")
def register(code):
    db = requestdb.session()
    project = _project(code)
    args = _filters()
    rows = queries.register(db, project, status=args["status"] or None, owner=args["owner"] or None,
                            category=args["category"] or None,
                            min_score=int(args["min_score"]) if args["min_score"] else None, text=args["q"] or None)
    owners = sorted(queries.open_risks_by_owner(db, project) | {r["owner"]: [] for r in rows})
    known_names(owners)
    return _page("register.html", project, rows=rows, args=args, owners=owners, matrix=queries.matrix(db, project),
                 may_edit=user().can("risk.edit"))


def _form_values() -> dict:
    form = request.form
    values = {}
    for name in TEXT_FIELDS + CHOICE_FIELDS + SCALE_FIELDS + DATE_FIELDS:
        if name in form:
            text = form.get(name, "").strip()
            values[name] = text or None
    return values


def _form(template: str, project, values: dict, errors=None, risk=None, status=200):
    known_names([values.get("owner")])
    return _page(template, project, values=values, errors=errors or {}, risk=risk, choices={
        "category": CATEGORIES, "proximity": PROXIMITIES, "strategy": STRATEGIES, "status": STATUSES}), status


@blueprint.route("/projects/<code>/risks/new", methods=["GET", "POST"])
@requires("risk.edit")
def new(code):
    db = requestdb.session()
    project = _project(code)
    if request.method == "GET":
        return _form("form.html", project, {"probability": "3", "impact": "3", "category": "technical",
                                            "proximity": "near", "strategy": "mitigate", "owner": user().username})
    values = _form_values()
    fields = {k: v for k, v in values.items() if v is not None and k != "status"}
    try:
        risk = services.create_risk(db, project, by=user().username, **{
            "title": fields.pop("title", None), "owner": fields.pop("owner", None),
            "probability": fields.pop("probability", None), "impact": fields.pop("impact", None),
            "category": fields.pop("category", None)}, **fields)
    except InvalidInput as exc:
        return _form("form.html", project, values, errors=exc.errors, status=422)
    flash(_("Risk %(code)s was added.", code=risk.code), "success")
    return redirect(url_for("risks.show", risk_id=risk.id))


def _risk(risk_id: int):
    return services.find_risk(requestdb.session(), risk_id)


@blueprint.route("/risks/<int:risk_id>")
@requires("project.view")
def show(risk_id):
    db = requestdb.session()
    risk = _risk(risk_id)
    project = find_project(db, risk.project_id)
    history = queries.history(db, risk)
    rules = [rule for rule in queries.rules(db, project) if rule["risk"] == risk.code]
    alerts = [{**alert, "rule": rule["name"]} for rule in rules for alert in queries.alerts(db, rule["id"])]
    known_names([risk.owner] + [h["by"] for h in history])
    return _page("show.html", project, risk=risk, history=history, rules=rules, alerts=alerts,
                 may_edit=user().can("risk.edit"), may_review=_may_review(risk))


def _may_review(risk) -> bool:
    return user().can("risk.edit") or risk.owner == user().username


@blueprint.route("/risks/<int:risk_id>/edit", methods=["GET", "POST"])
@requires("risk.edit")
def edit(risk_id):
    db = requestdb.session()
    risk = _risk(risk_id)
    project = find_project(db, risk.project_id)
    if request.method == "GET":
        values = {name: getattr(risk, name) for name in TEXT_FIELDS + CHOICE_FIELDS + SCALE_FIELDS + DATE_FIELDS}
        return _form("form.html", project, {k: "" if v is None else str(v) for k, v in values.items()}, risk=risk)
    values = _form_values()
    try:
        services.update_risk(db, risk, by=user().username, **values)
    except InvalidInput as exc:
        return _form("form.html", project, values, errors=exc.errors, risk=risk, status=422)
    flash(_("Risk %(code)s was changed.", code=risk.code), "success")
    return redirect(url_for("risks.show", risk_id=risk.id))


@blueprint.route("/risks/<int:risk_id>/review", methods=["POST"])
@requires("project.view")
def review(risk_id):
    """A review (风险审查) by someone with risk.edit, or by the risk's owner: the probability, impact, status
    and next review date may change, with notes."""
    db = requestdb.session()
    risk = _risk(risk_id)
    if not _may_review(risk):
        abort(403)
    form = request.form
    fields = {name: form.get(name, "").strip() for name in ("probability", "impact", "status", "next_review_on")
              if form.get(name, "").strip()}
    try:
        services.review_risk(db, risk, by=user().username, notes=form.get("notes", "").strip() or None, **fields)
    except InvalidInput as exc:
        flash(_("The review was not recorded: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("risks.show", risk_id=risk.id))
    flash(_("Review of %(code)s recorded.", code=risk.code), "success")
    return redirect(url_for("risks.show", risk_id=risk.id))


@blueprint.route("/projects/<code>/warning-rules")
@requires("project.view")
def rules(code):
    db = requestdb.session()
    project = _project(code)
    rows = queries.rules(db, project)
    open_alerts = {r["id"]: sum(1 for a in queries.alerts(db, r["id"]) if a["cleared_at"] is None) for r in rows}
    return _page("rules.html", project, rows=rows, open_alerts=open_alerts)

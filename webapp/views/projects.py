"""Implementation project pages (实施项目): the project list, the dashboard (RAG status, EVM S-curves, KPI
gauges, burn-down, risk heatmap, milestones, alerts), the Gantt chart, requirements, training, the communication
plan, change requests, budget and baselines, and the status report as a page and a PDF. Every figure comes from
erp.projects (reports, queries); the pages only choose the day and shape the chart data."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from core.errors import InvalidInput
from erp.catalog.money import to_decimal
from erp.projects import queries, reports
from erp.projects.common import find_project, today
from erp.projects.pdf import status_report_pdf
from erp.projects.process import request_change
from webapp import requestdb
from webapp.i18n import locale_tag
from webapp.navigation import EXTRA, known_names
from webapp.runtime import engine
from webapp.security import requires, user

blueprint = Blueprint("projects", __name__, url_prefix="/projects")

EXTRA.append(("projects.index", lazy_gettext("Projects"), "project.view", None))

RAG_LABELS = {"red": lazy_gettext("Red"), "amber": lazy_gettext("Amber"), "green": lazy_gettext("Green")}
STATUS_LABELS = {"planning": lazy_gettext("Planning"), "active": lazy_gettext("Active"),
                 "closed": lazy_gettext("Closed"), "not_started": lazy_gettext("Not started"),
                 "in_progress": lazy_gettext("In progress"), "gate_review": lazy_gettext("Gate review"),
                 "done": lazy_gettext("Done")}
CATEGORY_LABELS = {"labour": lazy_gettext("Labour"), "software": lazy_gettext("Software"),
                   "hardware": lazy_gettext("Hardware"), "consulting": lazy_gettext("Consulting"),
                   "training": lazy_gettext("Training"), "travel": lazy_gettext("Travel"),
                   "other": lazy_gettext("Other")}
KIND_LABELS = {"meeting": lazy_gettext("Meeting"), "report": lazy_gettext("Report"), "email": lazy_gettext("Email")}
CADENCE_LABELS = {"weekly": lazy_gettext("Weekly"), "biweekly": lazy_gettext("Every two weeks"),
                  "monthly": lazy_gettext("Monthly")}
TABS = (("projects.dashboard", "dashboard", lazy_gettext("Dashboard")),
        ("projects.gantt", "gantt", lazy_gettext("Gantt chart")),
        ("risks.register", "risks", lazy_gettext("Risk register")),
        ("projects.requirements", "requirements", lazy_gettext("Requirements")),
        ("projects.training", "training", lazy_gettext("Training plan")),
        ("projects.communications", "communications", lazy_gettext("Communication plan")),
        ("projects.change_requests", "change_requests", lazy_gettext("Change requests")),
        ("projects.budget", "budget", lazy_gettext("Budget and baselines")),
        ("projects.status_report", "status_report", lazy_gettext("Status report")))


def _as_of() -> date:
    text = request.args.get("as_of", "").strip()
    if not text:
        return today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Not a date."), {"as_of": [_("Not a date.")]}) from None


def _page(template: str, project, tab: str, **context):
    return render_template(f"projects/{template}", project=project, tab=tab, tabs=TABS, rag_labels=RAG_LABELS,
                           status_labels=STATUS_LABELS, **context)


def _project(code: str):
    return find_project(requestdb.session(), code)


@blueprint.route("")
@requires("project.view")
def index():
    db = requestdb.session()
    rows = queries.projects(db)
    day = today()
    for row in rows:
        row["rag"] = reports.rag_status(db, row["id"], day)["status"]
    known_names(r["manager"] for r in rows)
    return render_template("projects/index.html", rows=rows, rag_labels=RAG_LABELS, status_labels=STATUS_LABELS)


@blueprint.route("/<code>")
@requires("project.view")
def dashboard(code):
    db = requestdb.session()
    project = _project(code)
    as_of = _as_of()
    board = reports.dashboard(db, project, as_of)
    known_names([board["project"]["manager"]] + [m["username"] for m in board["project"]["members"]])
    return _page("dashboard.html", project, "dashboard", board=board, as_of=as_of, charts=_charts(board))


def _number(value) -> str | None:
    return None if value is None else str(value)


def _charts(board: dict) -> dict:
    """The dashboard's chart data for static/project_dashboard.js (numbers as strings: Decimal stays exact)."""
    series = board["series"]
    evm = {"categories": [s["as_of"].isoformat() for s in series],
           "series": [{"name": _("Planned value (PV)"), "data": [_number(s["pv"]) for s in series]},
                      {"name": _("Earned value (EV)"),
                       "data": [_number(s["ev"]) if s["actual"] else None for s in series]},
                      {"name": _("Actual cost (AC)"),
                       "data": [_number(s["ac"]) if s["actual"] else None for s in series]}]}
    burn = board["burn_down"]
    burn_down = {"categories": [b["date"].isoformat() for b in burn],
                 "series": [{"name": _("Open tasks"), "data": [b["open_tasks"] for b in burn]},
                            {"name": _("Remaining budget"), "data": [_number(b["remaining_budget"]) for b in burn],
                             "axis": 1}]}
    english = locale_tag() == "en"
    kpis = [{"key": k["key"], "name": k["name_en"] if english else k["name_zh"], "unit": k["unit"],
             "value": _number(k["value"]), "target": _number(k["target"]), "warning": _number(k["warning"]),
             "critical": _number(k["critical"]), "direction": k["direction"], "status": k["status"],
             "history": {"categories": [at.date().isoformat() for at, _v in k["history"]],
                         "data": [_number(v) for _at, v in k["history"]]}} for k in board["kpis"]]
    return {"evm": evm, "burn_down": burn_down, "kpis": kpis}


@blueprint.route("/<code>/gantt")
@requires("project.view")
def gantt(code):
    project = _project(code)
    bars = [{**bar, "start": bar["start"].isoformat(), "end": bar["end"].isoformat(),
             "progress": float(bar["progress"])} for bar in queries.gantt(requestdb.session(), project)]
    return _page("gantt.html", project, "gantt", bars=bars)


@blueprint.route("/<code>/requirements")
@requires("project.view")
def requirements(code):
    project = _project(code)
    status = request.args.get("status", "").strip() or None
    rows = queries.requirements(requestdb.session(), project, status=status)
    known_names(r["owner"] for r in rows)
    return _page("requirements.html", project, "requirements", rows=rows, status=status,
                 untraced=queries.untraced_requirements(requestdb.session(), project))


@blueprint.route("/<code>/training")
@requires("project.view")
def training(code):
    project = _project(code)
    plan = queries.training(requestdb.session(), project)
    known_names([s["trainer"] for s in plan["sessions"]]
                + [a["username"] for s in plan["sessions"] for a in s["attendance"]])
    return _page("training.html", project, "training", plan=plan)


@blueprint.route("/<code>/communications")
@requires("project.view")
def communications(code):
    project = _project(code)
    rows = queries.communications(requestdb.session(), project)
    known_names(r["owner"] for r in rows)
    return _page("communications.html", project, "communications", rows=rows, kinds=KIND_LABELS,
                 cadences=CADENCE_LABELS)


@blueprint.route("/<code>/change-requests", methods=["GET", "POST"])
@requires("project.view")
def change_requests(code):
    """The change requests, and a form to request one: anyone on the rollout may ask; the approval decides."""
    project = _project(code)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("title", "reason", "cost_impact", "days_impact")}
        try:
            change = request_change(requestdb.session(), engine(), project, title=values["title"],
                                    reason=values["reason"] or None, cost_impact=_amount(values["cost_impact"]),
                                    days_impact=_days(values["days_impact"]), requested_by=user().username)
        except InvalidInput as exc:
            errors, status = exc.errors or {"title": [str(exc)]}, 422  # a 4xx rolls the request back
        else:
            flash(_("Change request %(number)s was sent for approval.", number=change.number), "success")
            return redirect(url_for("projects.change_requests", code=project.code))
    rows = queries.change_requests(requestdb.session(), project)
    known_names([r["requested_by"] for r in rows] + [r["decided_by"] for r in rows])
    return _page("change_requests.html", project, "change_requests", rows=rows, values=values,
                 errors=errors), status


def _amount(text: str):
    try:
        return to_decimal((text or "0").replace(",", "").replace("¥", "").replace("￥", ""), 2)
    except ValueError:
        raise InvalidInput(_("Not an amount."), {"cost_impact": [_("Not an amount.")]}) from None


def _days(text: str) -> int:
    try:
        return int(text or "0")
    except ValueError:
        raise InvalidInput(_("A whole number of days."), {"days_impact": [_("A whole number of days.")]}) from None


@blueprint.route("/<code>/budget")
@requires("project.view")
def budget(code):
    db = requestdb.session()
    project = _project(code)
    return _page("budget.html", project, "budget", budget=queries.budget_by_phase_and_category(db, project),
                 phases=queries.phases(db, project), baselines=queries.baselines(db, project),
                 categories=CATEGORY_LABELS)


@blueprint.route("/<code>/status-report")
@requires("project.view")
def status_report(code):
    project = _project(code)
    as_of = _as_of()
    report = reports.status_report(requestdb.session(), project, as_of)
    known_names([report["project"]["manager"]] + [r["owner"] for r in report["top_risks"]])
    return _page("status_report.html", project, "status_report", report=report, as_of=as_of)


@blueprint.route("/<code>/status-report.pdf")
@requires("project.view")
def status_report_download(code):
    project = _project(code)
    as_of = _as_of()
    pdf = status_report_pdf(reports.status_report(requestdb.session(), project, as_of))
    filename = f"{project.code}-status-report-{as_of.isoformat()}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

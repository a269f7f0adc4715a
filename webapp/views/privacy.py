"""Personal-information protection pages (个人信息保护) for the person in charge (privacy.manage): the overview of
requests and incidents, the data classification inventory (数据分类分级清单), the consent ledger (同意记录), a
request with its export; and for everyone (privacy.request): filing a request about oneself or on behalf of a
customer, and reporting a security incident. The rules live in erp.privacy."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from core.errors import Conflict, InvalidInput, NotFound
from erp.privacy import queries, services
from erp.privacy.models import CHANNELS, REQUEST_KINDS, SUBJECT_TYPES
from erp.privacy.process import file_and_start, report_and_start
from erp.privacy.subjects import CORRECTABLE, find_subject, subject_name
from webapp import requestdb
from webapp.navigation import EXTRA
from webapp.runtime import engine
from webapp.security import requires, translated_errors, user

blueprint = Blueprint("privacy", __name__, url_prefix="/privacy")
EXTRA.append(("privacy.index", lazy_gettext("Personal information"), "privacy.manage", queries.open_request_count))

KIND_LABELS = {"access": lazy_gettext("Access"), "copy": lazy_gettext("Copy"), "correct": lazy_gettext("Correct"),
               "delete": lazy_gettext("Delete")}
SUBJECT_LABELS = {"contact": lazy_gettext("Contact"), "customer": lazy_gettext("Customer (a natural person)"),
                  "lead": lazy_gettext("Lead"), "user": lazy_gettext("User")}
STATUS_LABELS = {"filed": lazy_gettext("Open"), "completed": lazy_gettext("Completed"),
                 "rejected": lazy_gettext("Refused"), "reported": lazy_gettext("Reported"),
                 "assessed": lazy_gettext("Assessed"), "contained": lazy_gettext("Contained"),
                 "notified": lazy_gettext("Notified"), "closed": lazy_gettext("Closed")}
CATEGORY_LABELS = {"personal": lazy_gettext("Personal information"),
                   "sensitive": lazy_gettext("Sensitive personal information")}
GRADE_LABELS = {"general": lazy_gettext("General data"), "important": lazy_gettext("Important data"),
                "core": lazy_gettext("Core data")}
CHANNEL_LABELS = {"web": lazy_gettext("Web"), "paper": lazy_gettext("Paper"), "phone": lazy_gettext("Phone"),
                  "email": lazy_gettext("Email"), "wechat": lazy_gettext("WeChat"),
                  "in_person": lazy_gettext("In person")}


def _page(template: str, **context):
    return render_template(f"privacy/{template}", kinds=KIND_LABELS, subjects=SUBJECT_LABELS,
                           statuses=STATUS_LABELS, channels=CHANNEL_LABELS, **context)


@blueprint.route("")
@requires("privacy.manage")
def index():
    session = requestdb.session()
    return _page("index.html", requests=queries.requests(session), incidents=queries.incidents(session),
                 overdue={r.id for r in queries.overdue_requests(session)})


@blueprint.route("/inventory")
@requires("privacy.manage")
def inventory():
    return _page("inventory.html", rows=queries.classification_rows(), categories=CATEGORY_LABELS,
                 grades=GRADE_LABELS)


def _subject_args(source) -> tuple[str | None, int | None]:
    kind, ident = source.get("subject_type") or None, (source.get("subject_id") or "").strip()
    return kind, int(ident) if ident.isdigit() else None


@blueprint.route("/consents")
@requires("privacy.manage")
def consents():
    kind, ident = _subject_args(request.args)
    person = _person(kind, ident)
    return _page("consents.html", rows=queries.consents(requestdb.session(), kind, ident), kind=kind, ident=ident,
                 person=person, values={}, errors={})


def _person(kind, ident) -> str | None:
    if kind not in SUBJECT_TYPES or ident is None:
        return None
    try:
        return subject_name(find_subject(requestdb.session(), kind, ident), kind)
    except NotFound:
        return None


@blueprint.route("/consents", methods=["POST"])
@requires("privacy.manage")
def record_consent():
    form = request.form
    kind, ident = _subject_args(form)
    try:
        services.record_consent(requestdb.session(), kind, ident, purpose=form.get("purpose", ""),
                                scope=form.get("scope", ""), channel=form.get("channel", ""), by=user().username)
    except (InvalidInput, NotFound) as exc:
        errors = translated_errors(getattr(exc, "errors", None) or {"subject_id": [str(exc)]})
        return _page("consents.html", rows=queries.consents(requestdb.session(), kind, ident), kind=kind,
                     ident=ident, person=_person(kind, ident), values=form, errors=errors), 422
    flash(_("The consent was recorded."), "success")
    return redirect(url_for("privacy.consents", subject_type=kind, subject_id=ident))


@blueprint.route("/consents/<int:consent_id>/withdraw", methods=["POST"])
@requires("privacy.manage")
def withdraw_consent(consent_id):
    try:
        consent = services.withdraw_consent(requestdb.session(), consent_id, by=user().username,
                                            channel=request.form.get("channel") or "web")
    except Conflict:
        flash(_("This consent was withdrawn already."), "warning")
        return redirect(url_for("privacy.consents"))
    flash(_("The consent was withdrawn."), "success")
    return redirect(url_for("privacy.consents", subject_type=consent.subject_type, subject_id=consent.subject_id))


@blueprint.route("/requests/new", methods=["GET", "POST"])
@requires("privacy.request")
def new_request():
    me = user()
    if request.method == "GET":
        return _form_page({"kind": "access", "subject_type": "user", "channel": "web"}, {})
    form = request.form
    kind, ident = _subject_args(form)
    if kind == "user" or not kind:
        kind, ident = "user", me.id  # a user files about themselves; staff file for customers and contacts
    corrections = {f: form.get(f"correct_{f}", "").strip() for f in CORRECTABLE.get(kind, ())}
    try:
        filed = file_and_start(requestdb.session(), engine(), user=me.username, kind=form.get("kind", ""),
                               subject_type=kind, subject_id=ident, requester_name=form.get("requester_name"),
                               requester_email=form.get("requester_email"), channel=form.get("channel") or "web",
                               details=form.get("details"), corrections=corrections)
    except (InvalidInput, NotFound) as exc:
        errors = translated_errors(getattr(exc, "errors", None) or {"subject_id": [str(exc)]})
        return _form_page(form, errors), 422
    return _page("filed.html", filed=filed)


def _form_page(values, errors):
    return _page("request_form.html", values=values, errors=errors, correctable=CORRECTABLE,
                 channel_names=CHANNELS, kind_names=REQUEST_KINDS)


@blueprint.route("/requests/<int:request_id>")
@requires("privacy.manage")
def show_request(request_id):
    found = services.find_request(requestdb.session(), request_id)
    return _page("request.html", found=found, overdue=found.id in {r.id for r in queries.overdue_requests(
        requestdb.session())})


@blueprint.route("/requests/<int:request_id>/export.json")
@requires("privacy.manage")
def export_request(request_id):
    found = services.find_request(requestdb.session(), request_id)
    if found.export is None:
        return _page("request.html", found=found, overdue=False), 404
    body = json.dumps({"request": found.number, "held": found.export}, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{found.number}.json"', "X-Content-Type-Options": "nosniff"})


@blueprint.route("/incidents/new", methods=["GET", "POST"])
@requires("privacy.request")
def new_incident():
    if request.method == "GET":
        return _page("incident_form.html", values={}, errors={})
    try:
        reported = report_and_start(requestdb.session(), engine(), user=user().username,
                                    title=request.form.get("title", ""),
                                    description=request.form.get("description", ""))
    except InvalidInput as exc:
        return _page("incident_form.html", values=request.form, errors=translated_errors(exc.errors or {})), 422
    return _page("filed.html", reported=reported)


@blueprint.route("/incidents/<int:incident_id>")
@requires("privacy.manage")
def show_incident(incident_id):
    return _page("incident.html", found=services.find_incident(requestdb.session(), incident_id))

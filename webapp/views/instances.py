"""Process instances (流程实例): the list of those the user may see, and one instance in full (its diagram with
the progress marked, the history timeline, open tasks, incidents and data, personal fields masked), with the
administrators' retry, suspend, resume and terminate."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from core.errors import InvalidInput, NotFound
from engine import api_queries
from engine import queries as engine_queries
from engine.models import ProcessDefinition, ProcessInstance
from erp.audit.services import record
from erp.masking import mask_data, personal_fields
from webapp import requestdb, visibility
from webapp.access_log import note_unmasked
from webapp.forms_render import localized
from webapp.i18n import when
from webapp.navigation import EXTRA, display_name
from webapp.runtime import engine
from webapp.security import requires, user

blueprint = Blueprint("instances", __name__)

EXTRA.append(("instances.index", lazy_gettext("Process instances"), "instance.view", None))

PER_PAGE = 25
STATUSES = ("running", "incident", "suspended", "completed", "terminated")
STATUS_LABELS = {"running": lazy_gettext("Running"), "incident": lazy_gettext("Incident"),
                 "suspended": lazy_gettext("Suspended"), "completed": lazy_gettext("Completed"),
                 "terminated": lazy_gettext("Terminated")}
FILTER_KEYS = ("status", "process", "business_key", "started_by")


# ---------------------------------------------------------------------- who may see which instance

def _visible_instance(instance_id: int):
    """(instance, definition) if the user may see the instance; 404 otherwise (whether or not it exists)."""
    query = (select(ProcessInstance, ProcessDefinition)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .where(ProcessInstance.id == instance_id)
             .options(defer(ProcessInstance.state), defer(ProcessDefinition.spec), defer(ProcessDefinition.sources)))
    clause = visibility.clause(requestdb.session(), user())
    if clause is not None:
        query = query.where(clause)
    row = requestdb.session().execute(query).first()
    if row is None:
        raise NotFound(_("Not found."))
    return row


# ---------------------------------------------------------------------- the list

@blueprint.route("/instances")
@requires("instance.view")
def index():
    db = requestdb.session()
    args = {k: request.args.get(k, "").strip() for k in FILTER_KEYS if request.args.get(k, "").strip()}
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = (select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                    ProcessInstance.status, ProcessInstance.started_by, ProcessInstance.started_at,
                    ProcessInstance.updated_at, ProcessInstance.ended_at, ProcessDefinition.name,
                    ProcessDefinition.version)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id))
    clause = visibility.clause(requestdb.session(), user())
    if clause is not None:
        query = query.where(clause)
    if args.get("status") in STATUSES:
        query = query.where(ProcessInstance.status == args["status"])
    if args.get("process"):
        query = query.where(ProcessInstance.process_key == args["process"])
    if args.get("business_key"):
        query = query.where(ProcessInstance.business_key.icontains(args["business_key"], autoescape=True))
    if args.get("started_by"):
        query = query.where(ProcessInstance.started_by == args["started_by"])
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.execute(query.order_by(ProcessInstance.id.desc()).limit(PER_PAGE)
                      .offset((page - 1) * PER_PAGE)).all()
    return render_template("instances/index.html", rows=rows, total=total, page=page,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), args=args, query=urlencode(args),
                           statuses=STATUSES, status_labels=STATUS_LABELS, processes=_processes(db))


def _processes(db) -> list[tuple[str, str]]:
    """(key, name of the newest version) of every deployed process, for the filter."""
    names: dict[str, str] = {}
    for key, name in db.execute(select(ProcessDefinition.key, ProcessDefinition.name)
                                .order_by(ProcessDefinition.key, ProcessDefinition.version)):
        names[key] = name or key
    return sorted(names.items())


# ---------------------------------------------------------------------- one instance

@blueprint.route("/instances/<int:instance_id>")
@requires("instance.view")
def show(instance_id):
    db = requestdb.session()
    instance, definition = _visible_instance(instance_id)
    shown = engine_queries.show(engine(), db, instance_id)
    schemas = _schemas(definition.id)
    hide = _masker(schemas)
    note_unmasked("instance", instance_id, [shown["data"], [e.get("data") for e in shown["history"]]],
                  personal_fields(schemas))
    names = _element_names(_source(definition)[1])
    open_incidents = [i for i in shown["incidents"] if i["open"]]
    return render_template(
        "instances/show.html", instance=instance, definition=definition, shown=shown,
        status_labels=STATUS_LABELS, markers=_markers(shown, open_incidents), names=names,
        timeline=[_event(e, names, hide) for e in shown["history"]],
        data=_data_rows(shown["data"], hide, _labels(schemas)),
        incidents=shown["incidents"], open_incidents=open_incidents,
        can_administer=user().can("instance.administer"))


@blueprint.route("/instances/<int:instance_id>/diagram.xml")
@requires("instance.view")
def diagram(instance_id):
    _instance, definition = _visible_instance(instance_id)
    _name, xml = _source(definition)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


def position(instance_id: int) -> dict:
    """Where an instance stands, for pages outside this blueprint (a sales order's): its status, the diagram's
    markers and the names of the steps it waits in or failed at. Says nothing of who may see the diagram."""
    db = requestdb.session()
    definition = db.scalar(select(ProcessDefinition).join(ProcessInstance, ProcessInstance.definition_id
                                                          == ProcessDefinition.id)
                           .where(ProcessInstance.id == instance_id).options(defer(ProcessDefinition.spec)))
    shown = engine_queries.show(engine(), db, instance_id)
    names = _element_names(_source(definition)[1])
    markers = _markers(shown, [i for i in shown["incidents"] if i["open"]])
    steps = [localized(names.get(e, e)) for e in markers["active"] + markers["incident"]]
    return {"status": shown["status"], "markers": markers, "steps": steps}


def _source(definition) -> tuple[str, str]:
    return api_queries.definition_source(requestdb.session(), definition.key, definition.version)


def _schemas(definition_id: int) -> list[dict]:
    """The JSON Schemas of every form the process's version uses (start form and user tasks)."""
    eng, schemas = engine(), []
    for key in api_queries.form_keys(eng, requestdb.session(), definition_id):
        try:
            schemas.append(eng.forms.get(key).schema)
        except (NotFound, ValueError):
            continue
    return schemas


def _masker(schemas: list[dict]):
    """Hide the personal fields of the process's forms, unless the user may see personal data."""
    if user().can("personal_data.view"):
        return lambda data: data
    fields = personal_fields(schemas)
    return lambda data: mask_data(data, fields)


def _labels(schemas: list[dict]) -> dict[str, str]:
    """{data key: the field's title in the reader's language} from the forms that ask for it."""
    labels = {}
    for schema in schemas:
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and prop.get("title") and name not in labels:
                labels[name] = localized(prop["title"])
    return labels


_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _element_names(xml: str) -> dict[str, str]:
    """{element id: name} of the diagram's named elements, for the timeline."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), _XML)
    except etree.XMLSyntaxError:
        return {}
    return {e.get("id"): e.get("name") for e in root.iter() if isinstance(e.tag, str) and e.get("id")
            and e.get("name")}


def _markers(shown: dict, open_incidents: list[dict]) -> dict:
    """Element ids for the diagram: done, waiting now (tasks, timers, messages), failed."""
    incident = {i["element_id"] for i in open_incidents if i["element_id"]}
    active = ({t["element_id"] for t in shown["tasks"]} | {t["element_id"] for t in shown["timers"]}
              | {s["element_id"] for s in shown["subscriptions"]}) - incident
    completed = {h["element_id"] for h in shown["history"]
                 if h["kind"] in ("element_completed", "task_completed") and h["element_id"]} - active - incident
    return {"completed": sorted(completed), "active": sorted(active), "incident": sorted(incident)}


def _data_rows(data: dict, hide, labels: dict[str, str]) -> list[dict]:
    """The data as rows: the fields the forms name first (by their titles), then the rest by key."""
    shown = hide(data)
    order = sorted(data, key=lambda name: (name not in labels, name))
    return [{"name": name, "label": labels.get(name), "value": _text(shown[name]),
             "masked": shown[name] != data[name]} for name in order]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# ---------------------------------------------------------------------- the timeline

HISTORY_LABELS = {
    "started": lazy_gettext("Started"),
    "element_completed": lazy_gettext("Step done"),
    "task_completed": lazy_gettext("Task completed"),
    "task_claimed": lazy_gettext("Claimed"),
    "task_unclaimed": lazy_gettext("Released"),
    "task_returned": lazy_gettext("Returned"),
    "task_transferred": lazy_gettext("Transferred"),
    "task_delegated": lazy_gettext("Delegated"),
    "task_on_behalf": lazy_gettext("Handed to a stand-in"),
    "task_resolved": lazy_gettext("Delegated task handed back"),
    "task_signer_added": lazy_gettext("Signer added"),
    "task_signed": lazy_gettext("Signed"),
    "task_withdrawn": lazy_gettext("Withdrawn"),
    "task_copied": lazy_gettext("Copied"),
    "comment": lazy_gettext("Comment"),
    "task_dates_changed": lazy_gettext("Dates changed"),
    "reminder_sent": lazy_gettext("Reminder sent"),
    "escalated": lazy_gettext("Escalated"),
    "timer_fired": lazy_gettext("Timer fired"),
    "message_received": lazy_gettext("Message received"),
    "message_undelivered": lazy_gettext("Message not delivered"),
    "incident_raised": lazy_gettext("Incident"),
    "retried": lazy_gettext("Retried"),
    "suspended": lazy_gettext("Suspended"),
    "resumed": lazy_gettext("Resumed"),
    "terminated": lazy_gettext("Terminated"),
    "completed": lazy_gettext("Completed"),
    "migrated": lazy_gettext("Migrated"),
    "task_property_error": lazy_gettext("Task property error"),
}
DECISIONS = {"approve": lazy_gettext("Approved"), "return": lazy_gettext("Returned"),
             "reject": lazy_gettext("Rejected")}
#: history kinds whose message is technical, not something a person wrote
_QUIET = ("started", "element_completed", "completed")
SYSTEM_ACTORS = ("engine", "scheduler", "worker")


def _event(event: dict, names: dict, hide) -> dict:
    kind, data = event["kind"], hide(event.get("data") or {})
    return {"at": event["at"], "kind": kind,
            "label": str(HISTORY_LABELS.get(kind, kind.replace("_", " "))),
            "actor": event["actor"], "system": event["actor"] in SYSTEM_ACTORS or event["actor"] is None,
            "element": localized(names.get(event["element_id"], event["element_id"])) if event["element_id"] else None,
            "details": _details(kind, data if isinstance(data, dict) else {}),
            "message": None if kind in _QUIET else _comment(kind, data) or event.get("message"),
            "engine_step": kind == "element_completed"}


#: form fields where people write to each other, shown in the timeline with the completed task
_REMARK_FIELDS = ("comment", "note", "remark", "reason")


def _comment(kind: str, data) -> str | None:
    """What a person wrote with a completed task (its form's comment, note, remark or reason field)."""
    if kind != "task_completed" or not isinstance(data, dict):
        return None
    return next((data[f] for f in _REMARK_FIELDS if isinstance(data.get(f), str) and data[f].strip()), None)


def _details(kind: str, data: dict) -> list[str]:
    """What the history entry says beyond who and when, in the reader's language."""
    def people(value):
        names = value if isinstance(value, list) else [value] if value else []
        return ", ".join(display_name(str(n)) for n in names)

    details = []
    if kind in ("task_completed", "task_resolved", "task_signed"):
        submitted = data.get("data") if isinstance(data.get("data"), dict) else data  # a signer's or delegate's
        decision = submitted.get("decision")
        if isinstance(decision, str) and decision:
            details.append(_("Decision: %(decision)s", decision=DECISIONS.get(decision, decision)))
        if kind == "task_signed" and data.get("next"):
            details.append(_("next: %(people)s", people=people(data["next"])))
    elif kind in ("task_transferred", "task_delegated", "task_copied", "task_on_behalf") and data.get("to"):
        details.append(_("to %(people)s", people=people(data["to"])))
    elif kind == "task_signer_added" and data.get("signer"):
        position = _("signs before") if data.get("position") == "before" else _("signs after")
        details.append(f"{people(data['signer'])} ({position})")
    elif kind == "task_returned":
        details.append(_("back to the requester") if data.get("to") == "requester"
                       else _("back to the previous step"))
    elif kind == "task_dates_changed":
        after = data.get("after") or {}
        if "due_at" in after:
            details.append(_("due: %(when)s", when=when(after["due_at"]) or _("none")))
        if "follow_up_at" in after:
            details.append(_("follow up: %(when)s", when=when(after["follow_up_at"]) or _("none")))
    elif kind == "escalated":
        if data.get("level"):
            details.append(_("level %(n)s", n=data["level"]))
        assignee = (data.get("to") or {}).get("assignee") if isinstance(data.get("to"), dict) else None
        if assignee:
            details.append(_("to %(people)s", people=people(assignee)))
    return details


# ---------------------------------------------------------------------- administration

def _administer(instance_id: int, action: str, reason: str | None = None):
    db, me = requestdb.session(), user().username
    instance, _definition = _visible_instance(instance_id)
    before = instance.status
    eng = engine()
    if action == "terminate":
        changed = eng.terminate(db, instance_id, me, reason=reason)
    else:
        changed = getattr(eng, action)(db, instance_id, me)
    record(db, f"instance.{action}", actor=me, target_type="instance", target_id=instance_id,
           before={"status": before}, after={"status": changed.status}, address=request.remote_addr,
           detail=reason)
    flash(str(DONE[action]), "success")
    return redirect(url_for("instances.show", instance_id=instance_id))


DONE = {"retry": lazy_gettext("Retried: the instance ran on from where it failed."),
        "suspend": lazy_gettext("The instance is suspended: nobody can work on it until it is resumed."),
        "resume": lazy_gettext("The instance was resumed."),
        "terminate": lazy_gettext("The instance was terminated.")}


@blueprint.route("/instances/<int:instance_id>/retry", methods=["POST"])
@requires("instance.administer")
def retry(instance_id):
    return _administer(instance_id, "retry")


@blueprint.route("/instances/<int:instance_id>/suspend", methods=["POST"])
@requires("instance.administer")
def suspend(instance_id):
    return _administer(instance_id, "suspend")


@blueprint.route("/instances/<int:instance_id>/resume", methods=["POST"])
@requires("instance.administer")
def resume(instance_id):
    return _administer(instance_id, "resume")


@blueprint.route("/instances/<int:instance_id>/terminate", methods=["POST"])
@requires("instance.administer")
def terminate(instance_id):
    reason = request.form.get("reason", "").strip()
    if not reason:
        _visible_instance(instance_id)  # an unknown instance is a 404 before anything else
        raise InvalidInput(_("Give a reason for terminating the instance."), {"reason": [_("required")]})
    return _administer(instance_id, "terminate", reason[:2000])

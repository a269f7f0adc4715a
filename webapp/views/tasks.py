"""One task (待办): its page with the form, the instance's short history and the actions the user may take now;
claim, unclaim, complete and draft. The approval actions are in task_actions.py, the inbox tabs of tasks
handed on and copied to me in involved.py (all on this blueprint)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import defer
from werkzeug.datastructures import MultiDict

from core.errors import InvalidInput, NotFound
from engine import queries as engine_queries
from engine.actions import unpack
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskInvolvement
from erp.files.services import attach_to_instance
from erp.identity.models import User
from webapp import forms_render, requestdb, visibility
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views.files import AttachmentStore

blueprint = Blueprint("tasks", __name__)

BEIJING = ZoneInfo("Asia/Shanghai")
ACTIVE = ("running", "incident")
PER_PAGE = 25
#: the history a task page shows: what people did, not every engine step
TIMELINE_KINDS = {
    "started": lazy_gettext("Started"), "task_claimed": lazy_gettext("Claimed"),
    "task_unclaimed": lazy_gettext("Released"), "task_completed": lazy_gettext("Task completed"),
    "task_transferred": lazy_gettext("Transferred"), "task_delegated": lazy_gettext("Delegated"),
    "task_on_behalf": lazy_gettext("Handed to a stand-in"),
    "task_resolved": lazy_gettext("Delegated task handed back"), "task_signer_added": lazy_gettext("Signer added"),
    "task_signed": lazy_gettext("Signed"), "task_returned": lazy_gettext("Returned"),
    "task_withdrawn": lazy_gettext("Withdrawn"), "task_copied": lazy_gettext("Copied"),
    "comment": lazy_gettext("Comment"), "task_dates_changed": lazy_gettext("Dates changed"),
    "reminder_sent": lazy_gettext("Reminder sent"), "escalated": lazy_gettext("Escalated"),
    "incident_raised": lazy_gettext("Incident"), "suspended": lazy_gettext("Suspended"),
    "resumed": lazy_gettext("Resumed"), "terminated": lazy_gettext("Terminated"),
    "completed": lazy_gettext("Completed"),
}
TIMELINE_LENGTH = 30
HANDED_ON_KINDS = ("handed_on", "delegated", "signer_requested")


# ---------------------------------------------------------------------------------------------- who may see


def _supervises(session, task: HumanTask, me) -> bool:
    """A manager (task.supervise) may change the dates of their direct reports' tasks; administrators of all."""
    if not me.can("task.supervise"):
        return False
    if "administrator" in me.roles:
        return True
    people = [p for p in (task.assignee, task.owner) if p]
    return bool(people) and me.username in set(session.scalars(select(User.manager).where(User.username.in_(people))))


@dataclass
class TaskPage:
    task: HumanTask
    instance: ProcessInstance
    definition: ProcessDefinition
    can_work: bool  # may fill in and submit the form now
    supervises: bool
    _data: dict | None = None

    @property
    def is_open(self) -> bool:
        return self.task.status == "open" and self.instance.status in ACTIVE

    def data(self) -> dict:
        """The process data as this task sees it (the instance's current data once the task is done)."""
        if self._data is None:
            _record, workflow = engine().load(requestdb.session(), self.instance.id)
            # a task the saved state no longer holds (compacted): the instance's data
            mine = engine_queries.task_data_now(workflow, self.task.spiff_task_id) if self.task.status == "open" \
                else None
            self._data = mine or engine_queries.current_data(workflow)
        return self._data


def _load(task_id: int) -> TaskPage:
    """The task if the user may work on it or see it; 404 otherwise (whether or not it exists)."""
    session, me = requestdb.session(), user()
    row = session.execute(select(HumanTask, ProcessInstance, ProcessDefinition)
                          .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                          .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                          .options(defer(ProcessDefinition.spec), defer(ProcessDefinition.sources),
                                   defer(ProcessInstance.state))
                          .where(HumanTask.id == task_id)).first()
    if row is None:
        raise NotFound(_("Not found."))
    task, instance, definition = row
    can_work = (task.status == "open" and instance.status in ACTIVE and task.delegation_state != "pending"
                and engine().may_work_on(session, task, me.username)) or (
        task.delegation_state == "pending" and task.assignee == me.username and task.status == "open")
    supervises = task.status == "open" and _supervises(session, task, me)
    if not (can_work or supervises or task.owner == me.username
            or visibility.may_view_instance(session, instance.id, me)):
        raise NotFound(_("Not found."))
    return TaskPage(task, instance, definition, can_work, supervises)


# ---------------------------------------------------------------------------------------------- the page


def _form(task: HumanTask):
    if not task.form_key:
        return None
    catalog = engine().forms
    return catalog.get(task.form_key) if catalog.exists(task.form_key) else None


def _prefill(page: TaskPage, form) -> MultiDict:
    """The user's draft, else the instance's current data for the fields of the form."""
    session, me = requestdb.session(), user().username
    draft = engine().draft(session, page.task.id, me)
    if draft is not None:
        return forms_render.raw_from_data(form.schema, form.ui_schema, draft)
    data = page.data()
    if page.task.pending_data:  # signers after: what was signed so far
        data = {**data, **unpack(page.task.pending_data)}
    fields = set(form.schema.get("properties") or {})
    return forms_render.raw_from_data(form.schema, form.ui_schema, {k: v for k, v in data.items() if k in fields})


def _request_summary(page: TaskPage):
    """What was requested (the start form's fields, as the instance holds them now), read-only, so whoever
    works a later step sees what they decide on."""
    from webapp.views.processes import start_form_key

    key = start_form_key(page.definition)
    catalog = engine().forms
    if not key or key == page.task.form_key or not catalog.exists(key):
        return None
    form = catalog.get(key)
    fields = set(form.schema.get("properties") or {})
    shown = {k: v for k, v in page.data().items() if k in fields}
    return forms_render.render_readonly(form.schema, form.ui_schema, shown) if shown else None


def _step_context(page: TaskPage, form):
    """What the instance knows that this step decides on (a credit manager sees the exposure and limit), read
    only: the form schema's `x-context` describes those data fields as an object schema."""
    context = (form.schema.get("x-context") if form else None) or {}
    fields = set(context.get("properties") or {})
    shown = {k: v for k, v in page.data().items() if k in fields}
    return forms_render.render_readonly(context, {}, shown) if shown else None


def _actions(page: TaskPage) -> dict[str, bool]:
    task, me = page.task, user().username
    open_ = page.is_open
    pending = task.delegation_state == "pending"
    mine = task.assignee == me
    works = open_ and page.can_work and not pending
    return {
        "claim": works and not task.assignee,
        "unclaim": works and mine and bool(task.candidate_users or task.candidate_groups) and not task.return_to,
        "complete": works,
        "draft": open_ and page.can_work,
        "resolve": open_ and pending and mine,
        "transfer": works, "delegate": works, "add_signer": works,
        "return": works and not (task.return_to and mine),
        "copy": open_,
        "comment": open_ and (page.can_work or task.owner == me),
        "dates": open_ and (page.can_work or task.owner == me or page.supervises),
        "withdraw": task.status == "completed" and task.completed_by == me and page.instance.status in ACTIVE,
    }


def _timeline(session, instance_id: int) -> list[dict]:
    names = dict(session.execute(select(HumanTask.element_id, HumanTask.name)
                                 .where(HumanTask.instance_id == instance_id)).all())
    events = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                        HistoryEvent.kind.in_(list(TIMELINE_KINDS)))
                             .order_by(HistoryEvent.id.desc()).limit(TIMELINE_LENGTH)).all()
    return [{"at": e.at, "kind": e.kind, "label": str(TIMELINE_KINDS[e.kind]), "actor": e.actor,
             "element": forms_render.localized(names.get(e.element_id) or e.element_id) if e.element_id else None,
             "text": _event_text(e), "to": _event_people(e)} for e in reversed(events)]


def _event_people(event) -> list[str]:
    """Whom a hand-over, copy or signer request went to."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind in ("task_transferred", "task_delegated", "task_copied", "task_on_behalf"):
        people = data.get("to")
    elif event.kind == "task_signer_added":
        people = data.get("signer")
    elif event.kind == "task_resolved":
        people = data.get("owner")
    else:
        return []
    return [str(p) for p in (people if isinstance(people, list) else [people]) if p]


def _event_text(event) -> str | None:
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind in ("comment", "task_returned", "task_transferred", "task_delegated", "task_resolved",
                      "task_signer_added", "task_copied", "task_signed", "task_on_behalf"):
        return event.message
    if event.kind == "task_completed" and isinstance(data.get("comment"), str):
        return data["comment"]
    return None


def _completion(session, task: HumanTask) -> dict | None:
    """Who completed the task, when and with what data (from the history)."""
    event = session.scalars(select(HistoryEvent).where(
        HistoryEvent.instance_id == task.instance_id, HistoryEvent.kind == "task_completed",
        HistoryEvent.spiff_task_id == task.spiff_task_id).order_by(HistoryEvent.id.desc()).limit(1)).first()
    if event is None:
        return None
    return {"by": event.actor, "at": event.at, "data": event.data or {}}


def _people(session) -> list[tuple[str, str]]:
    """Active users other than me, for the person pickers."""
    return [(u, n) for u, n in session.execute(select(User.username, User.display_name)
                                               .where(User.active.is_(True)).order_by(User.username))
            if u != user().username]


def _render(page: TaskPage, *, raw=None, errors=None, action_errors=None, status=200):
    session, task = requestdb.session(), page.task
    form = _form(task)
    actions = _actions(page)
    form_html = readonly_html = completion = None
    if form is not None and (actions["complete"] or actions["draft"]):
        raw = raw if raw is not None else _prefill(page, form)
        form_html = forms_render.render_fields(form.schema, form.ui_schema, raw, errors or {})
    if task.status == "completed":
        completion = _completion(session, task)
        if completion is not None:
            readonly_html = forms_render.render_readonly(form.schema if form else None,
                                                         form.ui_schema if form else None, completion["data"])
    _mark_copies_read(session, task)
    return render_template(
        "tasks/show.html", page=page, task=task, instance=page.instance, definition=page.definition,
        process_title=forms_render.localized(page.definition.name) or page.instance.process_key,
        status_label={"open": _("To do"), "completed": _("Completed"), "cancelled": _("Cancelled")}.get(
            task.status, task.status),
        form=form, form_title=forms_render.localized(form.schema.get("title")) if form else None,
        instructions=forms_render.instructions_html(form.schema, form.ui_schema) if form else None,
        form_html=form_html, readonly_html=readonly_html, request_html=_request_summary(page),
        context_html=_step_context(page, form) if task.status == "open" else None,
        completion=completion, actions=actions,
        errors=errors or {}, action_errors=action_errors or {}, timeline=_timeline(session, task.instance_id),
        people=_people(session) if any(actions[a] for a in ("transfer", "delegate", "add_signer", "copy")) else [],
        now=datetime.now(BEIJING), local=_local), status


def _local(value) -> str:
    """A stored moment as the value of a datetime-local input, in Beijing time."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M") if value else ""


def _mark_copies_read(session, task: HumanTask) -> None:
    unread = session.scalars(select(TaskInvolvement.id).where(
        TaskInvolvement.task_id == task.id, TaskInvolvement.user_name == user().username,
        TaskInvolvement.kind == "copied", TaskInvolvement.read_at.is_(None))).all()
    for involvement_id in unread:
        engine_queries.mark_read(session, involvement_id, user().username)


@blueprint.route("/tasks/<int:task_id>")
@requires("task.work")
def show(task_id):
    page = _load(task_id)
    _note_personal(page)
    return _render(page)


def _note_personal(page: TaskPage) -> None:
    """The task page shows its form's data as it is: the personal fields among it go to the access log."""
    from erp.masking import personal_fields
    from webapp.access_log import personal_shown, present
    from webapp.views.instances import _schemas

    fields = frozenset(personal_fields(_schemas(page.definition.id)))
    if fields:
        personal_shown("task", page.task.id, present(page.data(), fields))


# ---------------------------------------------------------------------------------------------- working on it


def _safe_next(default: str) -> str:
    """A `next` that stays on this site (a path, never //host or a scheme), else `default`."""
    target = request.form.get("next") or request.args.get("next") or ""
    parsed = urlparse(target)
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not parsed.scheme and not parsed.netloc:
        return target
    return default


@blueprint.route("/tasks/<int:task_id>/claim", methods=["POST"])
@requires("task.work")
def claim(task_id):
    page = _load(task_id)
    engine().claim(requestdb.session(), page.task.id, user().username)
    flash(_("Task claimed."), "success")
    return redirect(_safe_next(url_for("tasks.show", task_id=task_id)))


@blueprint.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
@requires("task.work")
def unclaim(task_id):
    page = _load(task_id)
    engine().unclaim(requestdb.session(), page.task.id, user().username)
    flash(_("Task released: it is back with the group."), "success")
    return redirect(_safe_next(url_for("inbox.tasks")))


def _submitted(page: TaskPage, form):
    """The form's data as submitted (typed), the errors of unreadable values, and the file store used."""
    store = AttachmentStore(requestdb.session(), user().username, page.instance.id)
    if form is None:
        return {}, {}, store
    data, errors = forms_render.parse(form.schema, form.ui_schema, request.form, request.files,
                                      username=user().username, file_store=store)
    return data, errors, store


def _again(page: TaskPage, form, errors: dict, data: dict, store):
    """The page again with the errors beside the fields and what the user typed (422)."""
    if store.stored:
        requestdb.keep_writes()  # keep the files just uploaded: the form shown again refers to them
    raw = forms_render.keep_uploads(form.schema if form else None, request.form, data)
    return _render(page, raw=raw, errors=errors, status=422)


@blueprint.route("/tasks/<int:task_id>/complete", methods=["POST"])
@requires("task.work")
def complete(task_id):
    page = _load(task_id)
    session, form = requestdb.session(), _form(page.task)
    data, errors, store = _submitted(page, form)
    if form is not None:
        errors = forms_render.check(engine().forms, form.key, data, errors)
    if errors:
        return _again(page, form, errors, data, store)
    try:
        engine().complete(session, page.task.id, data, user().username)
    except InvalidInput as exc:
        return _again(page, form, exc.errors or {"": [str(exc)]}, data, store)
    attach_to_instance(session, forms_render.file_references(form.schema if form else None, data),
                       page.instance.id)
    flash(_("Task completed: %(name)s", name=page.task.name or page.task.element_id), "success")
    return redirect(url_for("inbox.tasks"))


@blueprint.route("/tasks/<int:task_id>/draft", methods=["POST"])
@requires("task.work")
def save_draft(task_id):
    page = _load(task_id)
    data, _errors, _store = _submitted(page, _form(page.task))  # a draft is kept as it is, unchecked
    engine().save_draft(requestdb.session(), page.task.id, user().username, data)
    flash(_("Draft saved."), "success")
    return redirect(url_for("tasks.show", task_id=task_id))

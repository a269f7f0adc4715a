"""Starting processes: the list of those a person may start (the newest version of each) and the start page
with the process's start form, a business key and validation on the server."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound
from engine import api_queries
from engine.models import ProcessDefinition, TimerStart
from erp.files.services import attach_to_instance
from webapp import forms_render, requestdb
from webapp.navigation import EXTRA
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views.files import AttachmentStore

blueprint = Blueprint("processes", __name__)

EXTRA.append(("processes.index", lazy_gettext("Start a process"), "process.start", None))

MAX_BUSINESS_KEY = 200


def _latest():
    """The newest version of every process a person can start by hand (not those started by a message or
    a timer)."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = requestdb.session().execute(
        select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
               ProcessDefinition.deployed_at, ProcessDefinition.message_starts)
        .join(newest, (newest.c.key == ProcessDefinition.key) & (newest.c.version == ProcessDefinition.version))
        .order_by(ProcessDefinition.key)).all()
    scheduled = set(requestdb.session().scalars(select(TimerStart.process_key).distinct()))
    return [r for r in rows if not r.message_starts and r.key not in scheduled]


def _definition(key: str) -> ProcessDefinition:
    found = next((r for r in _latest() if r.key == key), None)
    if found is None:
        raise NotFound(_("Not found."))
    return requestdb.session().get(ProcessDefinition, found.id)


def start_form_key(definition: ProcessDefinition) -> str | None:
    return api_queries.start_form_key(engine(), requestdb.session(), definition.id)


@blueprint.route("/processes")
@requires("process.start")
def index():
    rows = [{"key": r.key, "version": r.version, "title": forms_render.localized(r.name) or r.key,
             "deployed_at": r.deployed_at} for r in _latest()]
    return render_template("processes/index.html", rows=rows)


@blueprint.route("/processes/<key>/start", methods=["GET", "POST"])
@requires("process.start")
def start(key):
    definition = _definition(key)
    form_key = start_form_key(definition)
    form = engine().forms.get(form_key) if form_key else None
    if request.method == "GET":
        return _page(definition, form)
    session, me = requestdb.session(), user().username
    store = AttachmentStore(session, me)
    data, errors = ({}, {}) if form is None else forms_render.parse(
        form.schema, form.ui_schema, request.form, request.files, username=me, file_store=store)
    if form is not None:
        errors = forms_render.check(engine().forms, form.key, data, errors)
    business_key = (request.form.get("business_key") or "").strip()
    if len(business_key) > MAX_BUSINESS_KEY:
        errors["business_key"] = [_("Enter at most %(n)s characters.", n=MAX_BUSINESS_KEY)]
    if errors:
        return _again(definition, form, errors, data, store)
    try:
        instance = engine().start(session, definition.key, data, business_key=business_key or None, user=me)
    except InvalidInput as exc:
        return _again(definition, form, exc.errors or {"": [str(exc)]}, data, store)
    attach_to_instance(session, forms_render.file_references(form.schema if form else None, data), instance.id)
    title = forms_render.localized(definition.name) or definition.key
    flash(_("Started %(process)s (#%(id)s).", process=title, id=instance.id), "success")
    return redirect(f"/instances/{instance.id}")


def _again(definition, form, errors, data, store):
    if store.stored:
        requestdb.keep_writes()  # the form shown again refers to the files just uploaded
    raw = forms_render.keep_uploads(form.schema if form else None, request.form, data)
    return _page(definition, form, raw=raw, errors=errors, status=422)


def _page(definition, form, *, raw=None, errors=None, status=200):
    errors = errors or {}
    form_errors = {k: v for k, v in errors.items() if k != "business_key"}
    return render_template(
        "processes/start.html", definition=definition,
        title=forms_render.localized(definition.name) or definition.key,
        form_title=forms_render.localized(form.schema.get("title")) if form else None,
        instructions=forms_render.instructions_html(form.schema, form.ui_schema) if form else None,
        form_html=forms_render.render_fields(form.schema, form.ui_schema, raw, form_errors) if form else None,
        business_key=(raw or {}).get("business_key", ""), errors=errors), status

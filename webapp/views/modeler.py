"""The modeler (流程设计器): analysts open a deployed BPMN diagram or DMN decision table, or import one from another
modeler, edit it in the browser as a draft that affects nothing running, validate it with the checks `erp deploy`
runs, deploy it as a new version, compare versions and move running instances to a new version.

The rules live in engine.drafts, engine.lint, engine.diff and engine.instance_moves; this module only translates
HTTP into calls to them. The editor page talks to the JSON endpoints here (static/modeler.js).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.orm import defer
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import Conflict, InvalidInput, NotFound
from engine import diff as diagram_diff
from engine import drafts, instance_moves, lint
from engine.errors import DeploymentFailed
from engine.messages import code_error, translated
from engine.models import ProcessDefinition, ProcessInstance
from engine.parsing import MAX_FILE_BYTES
from engine.sandbox import check_source
from erp.escalation.models import EscalationPolicy
from erp.identity.models import Group
from webapp import requestdb
from webapp.forms_render import localized
from webapp.navigation import EXTRA
from webapp.runtime import engine
from webapp.security import requires, user

blueprint = Blueprint("modeler", __name__, url_prefix="/modeler")
EXTRA.append(("modeler.index", lazy_gettext("Process modeler"), "definition.view", None))

#: instances still in the middle of their process (those a new version could take over)
LIVE = ("running", "incident", "suspended")
DIAGRAM_SUFFIXES = (".bpmn", ".dmn", ".xml")
MAX_COMMENT = 2000
#: a script or expression longer than this is no diagram's (compiling it would only tie up the server)
MAX_CHECKED_SOURCE = 100_000

#: lint rule id -> (what is wrong, what to do instead), in the reader's language; engine.lint words them in English
LINT_TEXT = {
    "back-edge-loop": (
        lazy_gettext("A loop is drawn as a flow from a gateway back to an earlier task."),
        lazy_gettext("Use the task's Return action (return for revision) or a standard loop or multi-instance "
                     "marker on the task instead of a flow going back.")),
    "no-start-event": (lazy_gettext("The process has no start event."),
                       lazy_gettext("Add a start event where the process begins.")),
    "no-end-event": (lazy_gettext("The process has no end event."),
                     lazy_gettext("Add an end event where each path of the process finishes.")),
    "disconnected": (lazy_gettext("The element is not connected to the flow."),
                     lazy_gettext("Connect it with sequence flows or delete it.")),
    "gateway-no-default": (
        lazy_gettext("Every outgoing flow of this gateway has a condition and none is the default."),
        lazy_gettext("Mark one outgoing flow as the default flow, so the process never gets stuck here.")),
    "condition-missing": (lazy_gettext("A flow leaving this gateway has no condition and is not the default."),
                          lazy_gettext("Give the flow a condition or make it the gateway's default flow.")),
    "user-task-no-form": (lazy_gettext("The user task has no form."),
                          lazy_gettext("Choose the form the person fills in.")),
    "service-task-no-operator": (lazy_gettext("The service task has no operator."),
                                 lazy_gettext("Choose one of the registered operators.")),
    "unnamed-task": (lazy_gettext("The task has no name."),
                     lazy_gettext("Name the task as people will see it in their inbox.")),
    "implicit-split": (lazy_gettext("Several flows leave this task without a gateway."),
                       lazy_gettext("Draw a gateway after the task to show whether the paths are exclusive or "
                                    "parallel.")),
    "timer-without-definition": (lazy_gettext("The timer has no time set."),
                                 lazy_gettext("Enter a duration, a date or a cycle for the timer.")),
    "unreadable": (lazy_gettext("The diagram cannot be read."),
                   lazy_gettext("Save the diagram from the modeler again.")),
}


# ---------------------------------------------------------------------- small helpers

def _json_error(message: str, status: int, **extra):
    return jsonify({"error": {"message": message, **extra}}), status


def _reason(exc: InvalidInput) -> str:
    """Why the engine refused, in the reader's language when it said so with a template (engine.messages),
    else its first line."""
    said = getattr(exc, "said", None)
    return translated(said, _) if said else str(exc).split("\n")[0]


def _payload() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _definition(definition_id: int) -> ProcessDefinition:
    found = requestdb.session().get(ProcessDefinition, definition_id, options=[defer(ProcessDefinition.spec)])
    if found is None:
        raise NotFound(_("Not found."))
    return found


def _draft(draft_id: int):
    try:
        return drafts.get_draft(requestdb.session(), draft_id)
    except NotFound:
        raise NotFound(_("Not found.")) from None


def _problem_dicts(problems) -> list[dict]:
    """Validation and deploy problems with their message in the reader's language (the templates are in
    parts/engine_messages.po; a text of the process engine no template knows keeps its English)."""
    return [{"file": p.file, "element_id": p.element_id, "line": p.line, "message": translated(p.as_said, _)}
            for p in problems]


def _xml_response(text: str) -> Response:
    return Response(text, mimetype="application/xml", headers={"Cache-Control": "no-store"})


def _upload_name(raw: str) -> str:
    """The uploaded file's own name (no folders), kept readable for Chinese names."""
    name = PurePosixPath(raw.replace("\\", "/")).name.strip()
    return re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name)[:200]


# ---------------------------------------------------------------------- the list of processes and drafts

def _versions() -> dict[str, list[dict]]:
    """{process key: its versions, newest first, each with its files and live instance count}."""
    session = requestdb.session()
    live = dict(session.execute(select(ProcessInstance.definition_id, func.count())
                                .where(ProcessInstance.status.in_(LIVE))
                                .group_by(ProcessInstance.definition_id)).all())
    grouped: dict[str, list[dict]] = {}
    for d in session.scalars(select(ProcessDefinition).options(defer(ProcessDefinition.spec))
                             .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())):
        grouped.setdefault(d.key, []).append({
            "id": d.id, "version": d.version, "name": localized(d.name) or d.key, "deployed_at": d.deployed_at,
            "deployed_by": d.deployed_by, "comment": d.comment, "live": live.get(d.id, 0),
            "files": _editable_files(d.key, d.sources or {})})
    return grouped


def _editable_files(key: str, sources: dict) -> list[str]:
    """The version's own diagram first, then its decision tables (called processes are listed on their own)."""
    holds_process = re.compile(r"<(?:[\w.-]+:)?process\b[^>]*\bid=[\"']" + re.escape(key) + r"[\"']")
    main = [n for n, text in sorted(sources.items()) if holds_process.search(text)][:1]
    return main + sorted(n for n in sources if n.lower().endswith(".dmn"))


def _index_page(import_error: str | None = None, status: int = 200):
    session = requestdb.session()
    versions = _versions()
    bases = {v["id"]: (key, v["version"]) for key, rows in versions.items() for v in rows}
    return render_template("modeler/index.html", versions=versions, drafts=drafts.list_drafts(session),
                           bases=bases, import_error=import_error, max_mb=MAX_FILE_BYTES // 1024 // 1024,
                           can_edit=user().can("definition.edit"),
                           can_deploy=user().can("definition.deploy")), status


@blueprint.route("")
@requires("definition.view")
def index():
    return _index_page()


@blueprint.route("/definitions/<int:definition_id>/drafts", methods=["POST"])
@requires("definition.edit")
def new_draft(definition_id):
    """A draft of one file of a deployed version (the process diagram or one of its decision tables)."""
    definition = _definition(definition_id)
    file_name = request.form.get("file") or drafts.definition_source(requestdb.session(), definition.id)[0]
    if file_name not in (definition.sources or {}):
        raise NotFound(_("Not found."))
    draft = drafts.save_draft(requestdb.session(), file_name=file_name, source=definition.sources[file_name],
                              user=user().username, base_definition_id=definition.id)
    return redirect(url_for("modeler.editor", draft_id=draft.id))


@blueprint.route("/import", methods=["POST"])
@requires("definition.edit")
def import_file():
    """A .bpmn or .dmn file from another modeler becomes a draft, kept byte for byte; hostile or oversized files
    are refused (400) and nothing is stored."""
    try:
        chosen = request.files.get("file")
    except RequestEntityTooLarge:
        return _index_page(_("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // 1024 // 1024), 400)
    if chosen is None or not chosen.filename:
        return _index_page(_("Choose a .bpmn or .dmn file to import."), 400)
    name = _upload_name(chosen.filename)
    if not name.lower().endswith(DIAGRAM_SUFFIXES):
        return _index_page(_("Only .bpmn and .dmn files can be imported."), 400)
    data = chosen.stream.read(MAX_FILE_BYTES + 1)  # one byte more than allowed is enough to refuse it
    try:
        draft = drafts.save_draft(requestdb.session(), file_name=name, source=data, user=user().username)
    except InvalidInput as exc:
        return _index_page(_("The file was not imported: %(reason)s", reason=_reason(exc)), 400)
    flash(_("%(file)s was imported as a draft. Validate it to see what the engine cannot execute.", file=name),
          "success")
    return redirect(url_for("modeler.editor", draft_id=draft.id))


@blueprint.route("/drafts/<int:draft_id>/discard", methods=["POST"])
@requires("definition.edit")
def discard(draft_id):
    draft = _draft(draft_id)
    drafts.discard_draft(requestdb.session(), draft.id)
    flash(_("The draft of %(file)s was discarded.", file=draft.file_name), "success")
    return redirect(url_for("modeler.index"))


# ---------------------------------------------------------------------- the editor and its JSON endpoints

@blueprint.route("/drafts/<int:draft_id>")
@requires("definition.edit")
def editor(draft_id):
    draft = _draft(draft_id)
    base = _definition(draft.base_definition_id) if draft.base_definition_id else None
    return render_template("modeler/editor.html", draft=draft, base=base,
                           can_deploy=user().can("definition.deploy"))


@blueprint.route("/drafts/<int:draft_id>/source")
@requires("definition.edit")
def draft_source(draft_id):
    return _xml_response(_draft(draft_id).source)


@blueprint.route("/drafts/<int:draft_id>/save", methods=["POST"])
@requires("definition.edit")
def save(draft_id):
    """Keep the XML the editor sends; 409 when someone else saved the draft since this editor loaded it."""
    body = _payload()
    if not isinstance(body.get("xml"), str) or not body["xml"].strip():
        return _json_error(_("Nothing to save: the diagram is empty."), 400)
    expected = body.get("lock_version")
    try:
        draft = drafts.save_draft(requestdb.session(), file_name=_draft(draft_id).file_name, source=body["xml"],
                                  user=user().username, draft_id=draft_id,
                                  expected_version=expected if isinstance(expected, int) else None)
    except NotFound:
        return _json_error(_("Not found."), 404)
    except Conflict:
        return _json_error(_("Someone else saved this draft after you opened it. Reload the page to see their "
                             "changes (copy yours first)."), 409)
    except InvalidInput as exc:
        return _json_error(_reason(exc), 400)
    return jsonify({"id": draft.id, "lock_version": draft.lock_version, "updated_at": draft.updated_at.isoformat()})


@blueprint.route("/drafts/<int:draft_id>/validate", methods=["POST"])
@requires("definition.edit")
def validate(draft_id):
    """The checks `erp deploy` runs, on the saved draft and the deployed files it needs."""
    try:
        problems = drafts.validate_draft(engine(), requestdb.session(), _draft(draft_id).id)
    except NotFound:
        return _json_error(_("Not found."), 404)
    except InvalidInput as exc:
        return _json_error(_reason(exc), 400)
    return jsonify({"valid": not problems, "problems": _problem_dicts(problems)})


@blueprint.route("/drafts/<int:draft_id>/deploy", methods=["POST"])
@requires("definition.deploy")
def deploy(draft_id):
    """A new version with author and comment; instances already running stay on their version."""
    comment = str(_payload().get("comment") or "").strip()
    if not comment:
        return _json_error(_("Say what changed in this version (the comment is required)."), 422, field="comment")
    if len(comment) > MAX_COMMENT:
        return _json_error(_("Enter at most %(n)s characters.", n=MAX_COMMENT), 422, field="comment")
    try:
        deployed = drafts.deploy_draft(engine(), requestdb.session(), _draft(draft_id).id, user=user().username,
                                       comment=comment)
    except NotFound:
        return _json_error(_("Not found."), 404)
    except DeploymentFailed as exc:
        return _json_error(_("The draft was not deployed: fix the problems below."), 422,
                           problems=_problem_dicts(exc.problems))
    except InvalidInput as exc:
        return _json_error(_reason(exc), 422)
    new = [d for d in deployed if d.new]
    message = (_("Deployed: %(versions)s.", versions=", ".join(f"{d.key} v{d.version}" for d in new)) if new
               else _("Nothing changed: the deployed versions already hold this content."))
    flash(message, "success")
    return jsonify({"deployed": [d.as_dict() for d in deployed], "message": message,
                    "redirect": url_for("modeler.index")})


@blueprint.route("/lint", methods=["POST"])
@requires("definition.edit")
def lint_diagram():
    """Modelling problems of the diagram being edited (not saved), worded for the reader, by element."""
    body = _payload()
    if not isinstance(body.get("xml"), str) or not body["xml"].strip():
        return _json_error(_("Nothing to check: the diagram is empty."), 400)
    try:
        findings = lint.lint(body["xml"], str(body.get("file_name") or "diagram.bpmn"))
    except InvalidInput as exc:
        return _json_error(_reason(exc), 400)
    return jsonify({"findings": [_finding(f) for f in findings]})


def _finding(finding) -> dict:
    message, recommendation = LINT_TEXT.get(finding.rule, (finding.message, finding.recommendation))
    return {"rule": finding.rule, "element_id": finding.element_id, "severity": finding.severity,
            "message": str(message), "recommendation": str(recommendation), "detail": finding.message}


@blueprint.route("/check", methods=["POST"])
@requires("definition.edit")
def check_expression():
    """Compile a script ("exec") or an expression ("eval": conditions, timers, properties) in the engine's
    sandbox, as deploy will; nothing runs."""
    body = _payload()
    source, mode = body.get("source"), body.get("mode", "exec")
    if not isinstance(source, str) or mode not in ("exec", "eval") or len(source) > MAX_CHECKED_SOURCE:
        return _json_error(_("Send the code to check."), 400)
    if not source.strip():
        return jsonify({"errors": [] if mode == "exec" else [_("The expression is empty.")]})
    said = map(code_error, check_source(source, mode))
    return jsonify({"errors": [translated(error, _) if isinstance(error, dict) else error for error in said]})


@blueprint.route("/catalog.json")
@requires("definition.edit")
def catalog():
    """What the properties panel offers to choose from: forms, operators, processes, decision tables, groups,
    message names and the escalation policies that apply to tasks."""
    session = requestdb.session()
    latest = _latest_sources(session)
    return jsonify({
        "forms": _forms(),
        "operators": sorted(engine().operators.names()),
        "processes": [{"key": key, "name": localized(name) or key} for key, (name, _s) in sorted(latest.items())],
        "decisions": sorted({d for _n, sources in latest.values() for d in _ids_in(sources, "decision", ".dmn")}),
        "messages": sorted({m for _n, sources in latest.values() for m in _message_names(sources)}),
        "groups": sorted(session.scalars(select(Group.name))),
        "escalation": [_policy(p) for p in session.scalars(select(EscalationPolicy))],
    })


def _forms() -> list[dict]:
    catalogue, rows = engine().forms, []
    for key in catalogue.keys():
        try:
            title = catalogue.get(key).schema.get("title")
        except (NotFound, ValueError):
            title = None
        rows.append({"key": key, "title": localized(title) if title else key})
    return rows


def _latest_sources(session) -> dict[str, tuple[str | None, dict]]:
    """{process key: (name, sources)} of each process's newest version."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name, ProcessDefinition.sources)
                           .join(newest, (newest.c.key == ProcessDefinition.key)
                                 & (newest.c.version == ProcessDefinition.version))).all()
    return {r.key: (r.name, r.sources or {}) for r in rows}


def _ids_in(sources: dict, tag: str, suffix: str) -> set[str]:
    pattern = re.compile(r"<(?:[\w.-]+:)?" + tag + r"\b[^>]*?\bid=\"([^\"]+)\"")
    return {m for name, text in sources.items() if name.lower().endswith(suffix) for m in pattern.findall(text)}


_MESSAGE = re.compile(r"<(?:[\w.-]+:)?message\b[^>]*?\bname=\"([^\"]+)\"")


def _message_names(sources: dict) -> set[str]:
    return {m for name, text in sources.items() if not name.lower().endswith(".dmn") for m in _MESSAGE.findall(text)}


def _policy(row: EscalationPolicy) -> dict:
    return {"process_key": row.process_key, "element_id": row.element_id, "enabled": row.enabled,
            "remind_before_minutes": row.remind_before_minutes, "notify_manager": row.notify_manager,
            "raise_priority_by": row.raise_priority_by, "reassign_to": row.reassign_to,
            "repeat_after_minutes": row.repeat_after_minutes, "max_level": row.max_level}


# ---------------------------------------------------------------------- deployed sources and comparing

@blueprint.route("/definitions/<int:definition_id>/source")
@requires("definition.view")
def definition_source(definition_id):
    definition = _definition(definition_id)
    wanted = request.args.get("file")
    if wanted:
        if wanted not in (definition.sources or {}):
            raise NotFound(_("Not found."))
        return _xml_response(definition.sources[wanted])
    return _xml_response(drafts.definition_source(requestdb.session(), definition.id)[1])


@blueprint.route("/compare")
@requires("definition.view")
def compare():
    """Two versions of a process (?old=&new=, definition ids) or a draft against the version it was opened from
    (?draft=): the changes as a list and on the diagrams."""
    draft_id = request.args.get("draft", type=int)
    if draft_id is not None:
        return _compare_draft(_draft(draft_id))
    old_id, new_id = request.args.get("old", type=int), request.args.get("new", type=int)
    if old_id is None or new_id is None:
        return _compare_page(None, None, choices=_all_versions())
    old, new = _definition(old_id), _definition(new_id)
    session = requestdb.session()
    old_name, old_xml = drafts.definition_source(session, old.id)
    _new_name, new_xml = drafts.definition_source(session, new.id)
    side = {"old": {"label": f"v{old.version}", "url": url_for("modeler.definition_source", definition_id=old.id)},
            "new": {"label": f"v{new.version}", "url": url_for("modeler.definition_source", definition_id=new.id)}}
    return _compare_page(diagram_diff.diff(old_xml, new_xml), side, choices=_all_versions(old.key),
                         old=old, new=new, is_bpmn=not old_name.lower().endswith(".dmn"))


def _compare_draft(draft):
    if draft.base_definition_id is None:
        return _compare_page(None, None, choices=[], draft=draft)
    base = _definition(draft.base_definition_id)
    old_xml = (base.sources or {}).get(draft.file_name)
    source_url = url_for("modeler.definition_source", definition_id=base.id, file=draft.file_name)
    if old_xml is None:
        old_xml = drafts.definition_source(requestdb.session(), base.id)[1]
        source_url = url_for("modeler.definition_source", definition_id=base.id)
    side = {"old": {"label": f"v{base.version}", "url": source_url},
            "new": {"label": _("draft"), "url": url_for("modeler.draft_source", draft_id=draft.id)}}
    return _compare_page(diagram_diff.diff(old_xml, draft.source), side, choices=[], draft=draft, old=base,
                         is_bpmn=draft.kind == "bpmn")


def _all_versions(key: str | None = None) -> list[dict]:
    query = select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version).order_by(
        ProcessDefinition.key, ProcessDefinition.version)
    if key is not None:
        query = query.where(ProcessDefinition.key == key)
    return [{"id": r.id, "label": f"{r.key} v{r.version}"} for r in requestdb.session().execute(query)]


def _compare_page(changes, side, *, choices, draft=None, old=None, new=None, is_bpmn=True):
    markers = {"added": [], "changed": [], "removed": []}
    for change in changes or []:
        markers.setdefault(change.kind, []).append(change.element_id)
    return render_template("modeler/compare.html", changes=changes, side=side, choices=choices, draft=draft,
                           old=old, new=new, markers=markers, is_bpmn=is_bpmn,
                           kind_labels=CHANGE_LABELS)


CHANGE_LABELS = {"added": lazy_gettext("added"), "removed": lazy_gettext("removed"),
                 "changed": lazy_gettext("changed")}


# ---------------------------------------------------------------------- moving running instances

def _previews(target: ProcessDefinition) -> list[dict]:
    """For each other version of the process with live instances: which of them can move to `target`."""
    session = requestdb.session()
    sources = session.execute(
        select(ProcessDefinition.id, ProcessDefinition.version)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == target.key, ProcessDefinition.id != target.id,
               ProcessInstance.status.in_(LIVE))
        .group_by(ProcessDefinition.id, ProcessDefinition.version).order_by(ProcessDefinition.version)).all()
    return [{"version": s.version, "rows": instance_moves.preview_moves(
        engine(), session, from_definition_id=s.id, to_definition_id=target.id)} for s in sources]


def _move_page(target: ProcessDefinition, results=None):
    return render_template("modeler/move.html", target=target, groups=_previews(target), results=results,
                           can_move=user().can("definition.deploy"))


@blueprint.route("/definitions/<int:definition_id>/move")
@requires("definition.edit")
def move_preview(definition_id):
    return _move_page(_definition(definition_id))


@blueprint.route("/definitions/<int:definition_id>/move", methods=["POST"])
@requires("definition.deploy")
def move(definition_id):
    """Move the chosen instances, each on its own (one that cannot move stays exactly as it was)."""
    target = _definition(definition_id)
    chosen = sorted({int(v) for v in request.form.getlist("instance") if v.isdigit()})
    if not chosen:
        flash(_("Choose the instances to move."), "warning")
        return _move_page(target), 422
    results = instance_moves.move_instances(engine(), requestdb.session(), chosen, to_definition_id=target.id,
                                            user=user().username)
    moved = sum(1 for r in results if r.moved)
    flash(_("%(moved)s of %(chosen)s instance(s) moved to version %(version)s.", moved=moved, chosen=len(results),
            version=target.version), "success" if moved == len(results) else "warning")
    return _move_page(target, results)

"""The JSON API under /api/v1 for integrations (bearer tokens) and scripts: the inbox and its task actions,
process instances, definitions, and the OpenAPI document that describes them (webapp/openapi.py).

Every view carries `@requires` like the pages do; errors come back as {"error": {"code", "message", "fields"}}
with the stable codes of webapp.errors.CODES."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import or_, update
from werkzeug.exceptions import BadRequest

from core import clock
from core.errors import InvalidInput, NotFound, PermissionDenied
from engine import api_queries, worklist
from engine import queries as engine_queries
from engine.models import HumanTask
from erp.identity.models import ApiToken
from erp.identity.services import token_hash, user_for_token
from erp.masking import mask_data, personal_fields
from webapp import openapi, requestdb, visibility
from webapp.access_log import note_unmasked, personal_shown, present
from webapp.forms_render import fill_keys
from webapp.runtime import engine
from webapp.security import public, requires, user

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
#: ids and versions are 32-bit columns: a larger number names nothing (and would overflow SQLite's integers)
ID = "int(max=2147483647)"
INSTANCE_STATUSES = ("running", "incident", "suspended", "completed", "terminated")
#: a token's last_used_at is written at most this often (not on every request)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
_token_touched: dict[str, datetime] = {}  # token hash -> when this process last wrote its last_used_at


# ---------------------------------------------------------------------- request plumbing


@blueprint.before_request
def check_bearer_token():
    """A request that sends a bearer token needs a good one: a session cookie does not stand in for a bad
    token (such a request skipped the CSRF check), nor may the two name different people. A good token's
    last_used_at is kept roughly current without a write on every request."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or getattr(current_app.view_functions.get(request.endpoint), "erp_public",
                                                    False):
        return
    token = header[len("Bearer "):].strip()
    if not getattr(current_user, "via_token", False):  # the session cookie was read first: check the token too
        owner = user_for_token(requestdb.session(), token)
        if owner is None or owner.username != getattr(current_user, "username", None):
            abort(401)
    digest, now = token_hash(token), clock.now()
    last = _token_touched.get(digest)
    if last is not None and now - last < TOKEN_TOUCH_INTERVAL:
        return
    _token_touched[digest] = now
    requestdb.session().execute(update(ApiToken).where(
        ApiToken.token_hash == digest,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_TOUCH_INTERVAL))
        .values(last_used_at=now))


@blueprint.after_request
def api_headers(response):
    response.headers.setdefault("Cache-Control", "no-store")  # personal data and tokens stay out of caches
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="erp"')
    return response


def _body() -> dict:
    """The JSON object sent (numbers with a fraction as Decimal, so money keeps its digits); {} when empty."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput("the body must be a JSON object", {"": ["must be a JSON object"]})
    where = _nul_at(value, "")
    if where is not None:
        raise InvalidInput("text must not contain NUL characters", {where: ["contains a NUL character"]})
    return value


def _nul_at(value, path: str) -> str | None:
    """The path of the first text holding a NUL character (which no database column takes), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        inner = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return inner
        found = _nul_at(item, inner)
        if found is not None:
            return found
    return None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _object(body: dict, name: str, *, required: bool = False) -> dict:
    value = body.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be a JSON object", {name: ["must be a JSON object"]})
    return value


def _text(body: dict, name: str, *, required: bool = False, max_length: int = 2000) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{name} is required", {name: ["required"]})
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", {name: ["must be text"]})
    if len(value) > max_length:
        raise InvalidInput(f"{name} is too long", {name: [f"at most {max_length} characters"]})
    return value.strip()


def _int_arg(name: str, default: int, *, low: int = 1, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", {name: ["must be a whole number"]}) from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{name} must be {bounds}", {name: [f"must be {bounds}"]})
    return value


def _choice_arg(name: str, choices) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}", {name: [f"one of {', '.join(choices)}"]})
    return value


def _text_args(*names: str) -> None:
    """Query-string text goes to the database, where no column takes a NUL character."""
    for name in names:
        if "\x00" in "".join(request.args.getlist(name)):
            raise InvalidInput("text must not contain NUL characters", {name: ["contains a NUL character"]})


def _paging(default: int) -> tuple[int, int]:
    return _int_arg("page", 1, high=MAX_PAGE), _int_arg("per_page", default, high=MAX_PER_PAGE)


def _page(items, total, page, per_page) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


# ---------------------------------------------------------------------- who may see what


def _viewer() -> api_queries.Viewer | None:
    return visibility.viewer(requestdb.session(), user())


def _check_instance_visible(instance_id: int) -> None:
    db = requestdb.session()
    if not api_queries.instance_visible(db, instance_id, None):
        raise NotFound(f"process instance {instance_id} not found")
    if not api_queries.instance_visible(db, instance_id, _viewer()):
        raise PermissionDenied(f"you may not see process instance {instance_id}")


def found_definition(db, task) -> int:
    return api_queries.instance_definition(db, task.instance_id)


def _personal(definition_id: int) -> frozenset[str]:
    """The personal fields of the process's forms (for the access log)."""
    eng, db = engine(), requestdb.session()
    schemas = []
    for key in api_queries.form_keys(eng, db, definition_id):
        try:
            schemas.append(eng.forms.get(key).schema)
        except (NotFound, ValueError):
            continue
    return frozenset(personal_fields(schemas))


def _masker(definition_id: int):
    """A function hiding the personal fields of the process's forms, unless the user may see personal data."""
    if user().can("personal_data.view"):
        return lambda data: data
    fields = _personal(definition_id)
    return lambda data: mask_data(data, fields)


def _task_or_404(task_id: int) -> HumanTask:
    task = requestdb.session().get(HumanTask, task_id, populate_existing=True)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def _may_work(task: HumanTask) -> bool:
    if task.status != "open":
        return False
    return engine().may_work_on(requestdb.session(), task, user().username)


def _may_see(task: HumanTask) -> bool:
    me = user()
    if task.owner == me.username or task.completed_by == me.username or _may_work(task):
        return True
    return api_queries.instance_visible(requestdb.session(), task.instance_id, _viewer())


# ---------------------------------------------------------------------- me and the document


@blueprint.route("/openapi.json", endpoint="openapi")
@public
def openapi_document():
    return jsonify(openapi.document())


@blueprint.route("/me")
@requires(None)
def me():
    p = user()
    return jsonify({"username": p.username, "display_name": p.display_name, "email": p.email, "locale": p.locale,
                    "roles": list(p.roles), "groups": sorted(p.groups), "permissions": sorted(p.permissions),
                    "via_token": p.via_token})


# ---------------------------------------------------------------------- tasks


@blueprint.route("/tasks")
@requires("task.work")
def tasks():
    _choice_arg("view", worklist.VIEWS)
    _choice_arg("sort", tuple(worklist.SORTS))
    _int_arg("min_priority", 0, low=0, high=100)
    _text_args("process", "business_key", "q")
    page, per_page = _paging(current_app.config.get("INBOX_PAGE_SIZE", 25))
    me = user()
    flt = worklist.InboxFilter.from_args(request.args)
    rows, total = worklist.inbox(requestdb.session(), me.username, me.groups, flt, now=clock.now(), page=page,
                                 per_page=per_page)
    return jsonify(_page(rows, total, page, per_page))


@blueprint.route(f"/tasks/<{ID}:task_id>")
@requires("task.work")
def task(task_id):
    db, eng, me = requestdb.session(), engine(), user()
    found = _task_or_404(task_id)
    if not _may_see(found):
        raise PermissionDenied(f"you may not see task {task_id}")
    detail = api_queries.task_detail(db, task_id, now=clock.now())
    may_work = _may_work(found)
    form = None
    if found.form_key:
        definition = eng.forms.get(found.form_key)
        form = {"key": found.form_key, "schema": definition.schema, "ui_schema": definition.ui_schema}
    data = api_queries.task_data(eng, db, found)
    if not may_work:  # the person working the task needs its data as it is; onlookers see it masked
        data = _masker(api_queries.instance_definition(db, found.instance_id))(data)
    if may_work or user().can("personal_data.view"):
        personal_shown("task", task_id, present(data, _personal(found_definition(db, found))))
    return jsonify({**detail, "may_work": may_work, "form": form, "data": data,
                    "draft": eng.draft(db, task_id, me.username)})


def _after(task_id: int, status: int = 200):
    """What a task action answers: the task as it is now, its instance, and the instance's open tasks."""
    db, now = requestdb.session(), clock.now()
    detail = api_queries.task_detail(db, task_id, now=now)
    instance_id = detail["instance_id"]
    instance = {"id": instance_id, "status": detail["instance_status"]}
    return jsonify({"task": detail, "instance": instance,
                    "open_tasks": api_queries.open_tasks(db, instance_id, now=now)}), status


@blueprint.route(f"/tasks/<{ID}:task_id>/claim", methods=["POST"])
@requires("task.work")
def claim(task_id):
    engine().claim(requestdb.session(), task_id, user().username)
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/unclaim", methods=["POST"])
@requires("task.work")
def unclaim(task_id):
    engine().unclaim(requestdb.session(), task_id, user().username)
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/complete", methods=["POST"])
@requires("task.work")
def complete(task_id):
    data = _object(_body(), "data")
    engine().complete(requestdb.session(), task_id, data, user().username)
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/transfer", methods=["POST"])
@requires("task.work")
def transfer(task_id):
    body = _body()
    engine().transfer(requestdb.session(), task_id, user().username, _text(body, "to_user", required=True),
                      comment=_text(body, "comment"))
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/delegate", methods=["POST"])
@requires("task.work")
def delegate(task_id):
    body = _body()
    engine().delegate(requestdb.session(), task_id, user().username, _text(body, "to_user", required=True),
                      comment=_text(body, "comment"))
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/resolve", methods=["POST"])
@requires("task.work")
def resolve(task_id):
    body = _body()
    engine().resolve(requestdb.session(), task_id, user().username, data=_object(body, "data") or None,
                     comment=_text(body, "comment"))
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/add-signer", methods=["POST"])
@requires("task.work")
def add_signer(task_id):
    body = _body()
    engine().add_signer(requestdb.session(), task_id, user().username, _text(body, "signer", required=True),
                        position=body.get("position") or "before", comment=_text(body, "comment"))
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/return", methods=["POST"])
@requires("task.work")
def return_task(task_id):
    body = _body()
    engine().return_task(requestdb.session(), task_id, user().username, _text(body, "reason", required=True),
                         to=body.get("to") or "previous")
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/withdraw", methods=["POST"])
@requires("task.work")
def withdraw(task_id):
    engine().withdraw(requestdb.session(), task_id, user().username)
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/copy", methods=["POST"])
@requires("task.work")
def copy(task_id):
    body = _body()
    to_users = body.get("to_users")
    if not isinstance(to_users, list) or not to_users:
        raise InvalidInput("to_users must be a list of usernames", {"to_users": ["at least one user"]})
    copied = engine().copy_to(requestdb.session(), task_id, user().username, to_users, note=_text(body, "note"))
    response, status = _after(task_id)
    return jsonify({**response.get_json(), "copied_to": copied}), status


@blueprint.route(f"/tasks/<{ID}:task_id>/comments", methods=["POST"])
@requires("task.work")
def comment(task_id):
    engine().comment(requestdb.session(), task_id, user().username, _text(_body(), "text", required=True))
    return _after(task_id, 201)


@blueprint.route(f"/tasks/<{ID}:task_id>/dates", methods=["POST"])
@requires("task.work")
def dates(task_id):
    body = _body()
    given = {name: body[name] for name in ("due_at", "follow_up_at") if name in body}
    if not given:
        raise InvalidInput("give due_at or follow_up_at", {"due_at": ["nothing to change"]})
    engine().set_dates(requestdb.session(), task_id, user().username, supervise=user().can("task.supervise"),
                       **given)
    return _after(task_id)


@blueprint.route(f"/tasks/<{ID}:task_id>/draft", methods=["PUT"])
@requires("task.work")
def save_draft(task_id):
    db, eng, me = requestdb.session(), engine(), user()
    eng.save_draft(db, task_id, me.username, _object(_body(), "data", required=True))
    return jsonify({"task_id": task_id, "draft": eng.draft(db, task_id, me.username)})


# ---------------------------------------------------------------------- instances


@blueprint.route("/instances", methods=["POST"])
@requires("process.start")
def start_instance():
    db, eng, me = requestdb.session(), engine(), user()
    body = _body()
    key = _text(body, "process_key", required=True, max_length=200)
    business_key = _text(body, "business_key", max_length=200)
    data = dict(_object(body, "data"))
    try:
        definition_id = api_queries.definition_id(db, key)
    except NotFound:
        raise InvalidInput(f"no process {key!r} is deployed", {"process_key": [f"no process {key!r}"]}) from None
    form_key = api_queries.start_form_key(eng, db, definition_id)
    if form_key:
        for name, source in fill_keys(eng.forms.get(form_key).schema).items():
            if source == "current_user":
                data[name] = me.username  # who asks is who the request is from, whatever the body says
        eng.forms.validate(form_key, data)
    instance = eng.start(db, key, data, business_key=business_key, user=me.username, definition_id=definition_id)
    response = jsonify(_instance_detail(instance.id))
    response.status_code = 201
    response.headers["Location"] = url_for("api.instance", instance_id=instance.id)
    return response


@blueprint.route("/instances")
@requires("instance.view")
def instances():
    status = _choice_arg("status", INSTANCE_STATUSES)
    _text_args("process_key", "business_key")
    page, per_page = _paging(25)
    items, total = api_queries.instance_page(
        requestdb.session(), viewer=_viewer(), status=status, key=request.args.get("process_key") or None,
        business_key=request.args.get("business_key") or None, page=page, per_page=per_page)
    return jsonify(_page(items, total, page, per_page))


def _instance_detail(instance_id: int) -> dict:
    db = requestdb.session()
    shown = engine_queries.show(engine(), db, instance_id)
    shown.pop("history", None)  # paged at /instances/<id>/history
    shown["data"] = _masker(api_queries.instance_definition(db, instance_id))(shown["data"])
    note_unmasked("instance", instance_id, shown["data"], _personal(api_queries.instance_definition(db, instance_id)))
    shown["process_key"] = shown.pop("key")
    return shown


@blueprint.route(f"/instances/<{ID}:instance_id>")
@requires("instance.view")
def instance(instance_id):
    _check_instance_visible(instance_id)
    return jsonify(_instance_detail(instance_id))


@blueprint.route(f"/instances/<{ID}:instance_id>/history")
@requires("instance.view")
def history(instance_id):
    _check_instance_visible(instance_id)
    page, per_page = _paging(MAX_PER_PAGE)
    db = requestdb.session()
    items, total = api_queries.history_page(db, instance_id, page=page, per_page=per_page)
    masked = _masker(api_queries.instance_definition(db, instance_id))
    for item in items:
        item["data"] = masked(item["data"])
    note_unmasked("instance", instance_id, items, _personal(api_queries.instance_definition(db, instance_id)))
    return jsonify(_page(items, total, page, per_page))


def _administer(instance_id: int, action: str):
    db, eng, me = requestdb.session(), engine(), user()
    if not api_queries.instance_visible(db, instance_id, None):
        raise NotFound(f"process instance {instance_id} not found")
    if action == "terminate":
        eng.terminate(db, instance_id, me.username, reason=_text(_body(), "reason"))
    else:
        getattr(eng, action)(db, instance_id, me.username)
    return jsonify(_instance_detail(instance_id))


@blueprint.route(f"/instances/<{ID}:instance_id>/retry", methods=["POST"])
@requires("instance.administer")
def retry_instance(instance_id):
    return _administer(instance_id, "retry")


@blueprint.route(f"/instances/<{ID}:instance_id>/suspend", methods=["POST"])
@requires("instance.administer")
def suspend_instance(instance_id):
    return _administer(instance_id, "suspend")


@blueprint.route(f"/instances/<{ID}:instance_id>/resume", methods=["POST"])
@requires("instance.administer")
def resume_instance(instance_id):
    return _administer(instance_id, "resume")


@blueprint.route(f"/instances/<{ID}:instance_id>/terminate", methods=["POST"])
@requires("instance.administer")
def terminate_instance(instance_id):
    return _administer(instance_id, "terminate")


# ---------------------------------------------------------------------- definitions


@blueprint.route("/definitions")
@requires("process.start")
def definitions():
    rows = api_queries.definitions(engine(), requestdb.session(), all_versions=user().can("definition.view"))
    return jsonify({"items": rows})


@blueprint.route(f"/definitions/<key>/<{ID}:version>/xml")
@requires("instance.view")  # anyone who may look at instances may read the diagrams they run on
def definition_xml(key, version):
    if "\x00" in key:
        raise NotFound(f"no process definition {key!r}")
    _name, xml = api_queries.definition_source(requestdb.session(), key, version)
    return Response(xml, mimetype="application/xml")

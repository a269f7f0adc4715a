"""The OpenAPI 3.1 document of the JSON API (/api/v1/openapi.json): every endpoint of webapp.views.api (order-to-cash:
webapp/openapi_sales.py; procure-to-pay: webapp/openapi_purchasing.py), its parameters, bodies, answers and the
error shape with its stable codes. A test keeps it and the routes in step."""
from __future__ import annotations

import copy
from functools import cache

from engine.worklist import SORTS, VIEWS
from webapp.errors import CODES

API_VERSION = "1.0.0"
INSTANCE_STATUSES = ["running", "incident", "suspended", "completed", "terminated"]
TASK_STATUSES = ["open", "completed", "cancelled"]


def document() -> dict:
    """A fresh copy (callers may change it)."""
    return copy.deepcopy(_document())


# ---------------------------------------------------------------------- small builders


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description=None, **extra) -> dict:
    return _with({"type": "string"}, description, extra)


def _nullable(type_: str, description=None, **extra) -> dict:
    return _with({"type": [type_, "null"]}, description, extra)


def _with(schema, description, extra):
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def _object(properties: dict, required=(), description=None) -> dict:
    """An object in an answer: open, since answers may gain fields (clients must ignore what they don't know)."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return _with(schema, description, {})


def _closed(properties: dict, required=(), description=None) -> dict:
    """A request body: the fields it takes, and no others."""
    return {**_object(properties, required, description), "additionalProperties": False}


def _array(items: dict, description=None) -> dict:
    return _with({"type": "array", "items": items}, description, {})


def _page(item: str) -> dict:
    return _object({"items": _array(ref(item)), "total": {"type": "integer", "minimum": 0},
                    "page": {"type": "integer", "minimum": 1},
                    "per_page": {"type": "integer", "minimum": 1, "maximum": 100}},
                   ["items", "total", "page", "per_page"])


DATA = {"type": "object", "additionalProperties": True,
        "description": "Form data: a JSON object; numbers with a fraction are kept exactly (as decimals)."}
DATETIME = {"type": ["string", "null"], "format": "date-time"}


def _param(name, where, schema, description, required=False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema}


MAX_ID = 2**31 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _path_id(name: str, what: str) -> dict:
    return _param(name, "path", ID_SCHEMA, f"The {what}'s id.")


PAGE = _param("page", "query", {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1},
              "Page number, from 1.")


def _per_page(default: int) -> dict:
    return _param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": default},
                  "Items per page (at most 100).")


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _operation(operation_id: str, summary: str, tag: str, *, permission: str | None, description: str | None = None,
               parameters=(), body: str | None = None, body_required: bool = True, ok: tuple = (200, None),
               errors=(), public: bool = False) -> dict:
    status, schema = ok
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = {"required": body_required, "content": _json(ref(body))}
    ok_response = {"description": "Success."}
    if schema is not None:
        ok_response["content"] = schema if "application/xml" in schema else _json(schema)
    responses = {str(status): ok_response}
    if body:
        errors = ("bad_request", "invalid_input", *errors)
    if not public:
        errors = ("unauthenticated", "forbidden", *errors)
    for code in sorted(set(errors), key=lambda c: _STATUS_OF[c]):
        responses[str(_STATUS_OF[code])] = {"$ref": f"#/components/responses/{_RESPONSE_NAMES[code]}"}
    operation["responses"] = responses
    if public:
        operation["security"] = []
    operation["x-required-permission"] = None if public else (permission or "authenticated")
    return operation


_STATUS_OF = {code: status for status, code in CODES.items()}
_RESPONSE_NAMES = {"bad_request": "BadRequest", "unauthenticated": "Unauthenticated", "forbidden": "Forbidden",
                   "not_found": "NotFound", "method_not_allowed": "MethodNotAllowed", "conflict": "Conflict",
                   "too_large": "TooLarge", "invalid_input": "InvalidInput", "rate_limited": "RateLimited",
                   "internal_error": "InternalError"}
_RESPONSE_TEXT = {"bad_request": "The request is malformed (e.g. the body is not JSON).",
                  "unauthenticated": "No valid bearer token or session (missing, unknown, revoked, or its user "
                                     "deactivated).",
                  "forbidden": "The user lacks the permission or may not act on this task or instance.",
                  "not_found": "No such resource.", "method_not_allowed": "The path does not take this method.",
                  "conflict": "Someone else changed it first (e.g. the task was already completed), or the "
                              "instance is not in a state that allows this.",
                  "too_large": "The body is too large.",
                  "invalid_input": "The input was rejected; `fields` maps each field (dotted path) to its errors.",
                  "rate_limited": "Too many attempts; see Retry-After.",
                  "internal_error": "An unexpected error (logged on the server)."}


# ---------------------------------------------------------------------- schemas


def _schemas() -> dict:
    task_fields = {
        "id": {"type": "integer"}, "instance_id": {"type": "integer"}, "name": _nullable("string"),
        "element_id": _string("The BPMN element id of the task."),
        "form_key": _nullable("string", "The form (JSON Schema) the task is completed with."),
        "assignee": _nullable("string"), "candidate_users": _array({"type": "string"}),
        "candidate_groups": _array({"type": "string"}), "priority": {"type": "integer", "minimum": 0},
        "due_at": DATETIME, "created_at": DATETIME, "overdue": {"type": "boolean"},
        "due_soon": {"type": "boolean", "description": "Due within 24 hours."},
        "process_key": _string(), "process_name": _nullable("string"), "business_key": _nullable("string"),
        "started_by": _nullable("string"),
    }
    task_state_fields = {
        **task_fields, "status": _string(enum=TASK_STATUSES), "lane": _nullable("string"),
        "follow_up_at": DATETIME, "claimed_at": DATETIME, "completed_at": DATETIME,
        "completed_by": _nullable("string"),
        "owner": _nullable("string", "Who delegated the task (委派) and gets it back."),
        "delegation_state": {"type": ["string", "null"], "enum": ["pending", "resolved", None]},
        "signers_after": _array({"type": "string"}, "Signers still to sign after the assignee (后加签)."),
        "escalation_level": {"type": "integer", "minimum": 0},
        "instance_status": _string(enum=INSTANCE_STATUSES),
    }
    task_state = _object(task_state_fields, list(task_state_fields), "A task and where it stands.")
    instance_summary_fields = {
        "id": {"type": "integer"}, "process_key": _string(), "process_name": _nullable("string"),
        "version": {"type": "integer"}, "business_key": _nullable("string"),
        "status": _string(enum=INSTANCE_STATUSES), "started_by": _nullable("string"), "started_at": DATETIME,
        "updated_at": DATETIME, "ended_at": DATETIME,
    }
    engine_task = _object({
        "id": {"type": "integer"}, "instance_id": {"type": "integer"}, "element_id": _string(),
        "name": _nullable("string"), "form_key": _nullable("string"), "lane": _nullable("string"),
        "assignee": _nullable("string"), "candidate_users": _array({"type": "string"}),
        "candidate_groups": _array({"type": "string"}), "due_at": DATETIME, "priority": {"type": "integer"},
        "status": _string(enum=TASK_STATUSES), "created_at": DATETIME, "completed_by": _nullable("string"),
        "completed_at": DATETIME})
    return {
        "Error": _object({"error": _object({
            "code": _string("Stable, machine-readable.", enum=sorted(set(CODES.values()))),
            "message": _string("For people; may change and may be translated."),
            "fields": {"type": "object", "additionalProperties": _array({"type": "string"}),
                       "description": "Field path (dotted; '' for the whole input) -> its error messages."}},
            ["code", "message"])}, ["error"]),
        "Me": _object({
            "username": _string(), "display_name": _string(), "email": _nullable("string"),
            "locale": _string(enum=["zh_CN", "en"]), "roles": _array({"type": "string"}),
            "groups": _array({"type": "string"}), "permissions": _array({"type": "string"}),
            "via_token": {"type": "boolean", "description": "Whether this request came with a bearer token."}},
            ["username", "display_name", "locale", "roles", "groups", "permissions"]),
        "Task": _object(task_fields, list(task_fields), "An inbox row."),
        "TaskPage": _page("Task"),
        "TaskState": task_state,
        "TaskDetail": _object({
            **task_state_fields,
            "may_work": {"type": "boolean", "description": "Whether the caller may claim, complete or hand on "
                                                           "the task now."},
            "form": {"oneOf": [{"type": "null"}, _object({
                "key": _string(), "schema": {"type": "object", "description": "The form's JSON Schema (2020-12)."},
                "ui_schema": {"type": "object"}}, ["key", "schema", "ui_schema"])]},
            "data": {**DATA, "description": "The data the task sees now (personal fields masked for onlookers "
                                            "without personal_data.view)."},
            "draft": {"oneOf": [{"type": "null"}, DATA], "description": "The caller's saved draft."}},
            [*task_state_fields, "may_work", "form", "data", "draft"], "A task with its form and draft."),
        "ActionResult": _object({
            "task": ref("TaskState"),
            "instance": _object({"id": {"type": "integer"}, "status": _string(enum=INSTANCE_STATUSES)},
                                ["id", "status"]),
            "open_tasks": _array(ref("TaskState"), "The instance's open tasks after the action."),
            "copied_to": _array({"type": "string"}, "(copy) The users newly copied.")},
            ["task", "instance", "open_tasks"]),
        "DraftResult": _object({"task_id": {"type": "integer"}, "draft": {"oneOf": [{"type": "null"}, DATA]}},
                               ["task_id", "draft"]),
        "InstanceSummary": _object(instance_summary_fields, list(instance_summary_fields)),
        "InstancePage": _page("InstanceSummary"),
        "EngineTask": engine_task,
        "InstanceDetail": _object({
            "id": {"type": "integer"}, "process_key": _string(), "version": {"type": "integer"},
            "business_key": _nullable("string"), "status": _string(enum=INSTANCE_STATUSES),
            "started_by": _nullable("string"), "started_at": DATETIME, "updated_at": DATETIME,
            "ended_at": DATETIME, "next_timer_at": DATETIME,
            "tasks": _array(ref("EngineTask"), "The open tasks."),
            "timers": _array({"type": "object"}, "Waiting timers."),
            "subscriptions": _array(_object({"message": _string(), "correlation": _string(),
                                             "element_id": _string()})),
            "incidents": _array(_object({
                "id": {"type": "integer"}, "element_id": _nullable("string"), "error_type": _string(),
                "message": _string(), "open": {"type": "boolean"}, "created_at": DATETIME})),
            "data": {**DATA, "description": "The instance's current data; personal fields (`x-personal` in a "
                                            "form of the process) masked without personal_data.view."}},
            ["id", "process_key", "version", "status", "tasks", "incidents", "data"]),
        "HistoryEvent": _object({
            "id": {"type": "integer"}, "at": DATETIME, "kind": _string(), "actor": _nullable("string"),
            "element_id": _nullable("string"), "element_type": _nullable("string"),
            "data": {"type": ["object", "array", "string", "number", "boolean", "null"]},
            "message": _nullable("string")}, ["id", "at", "kind"]),
        "HistoryPage": _page("HistoryEvent"),
        "Definition": _object({
            "id": {"type": "integer"}, "key": _string(), "name": _nullable("string"),
            "version": {"type": "integer"}, "latest": {"type": "boolean"}, "deployed_at": DATETIME,
            "deployed_by": _nullable("string"), "message_starts": _array({"type": "string"}),
            "start_form_key": _nullable("string", "The start form; its `x-fill: current_user` fields are set to "
                                                  "the caller.")},
            ["id", "key", "name", "version", "latest", "start_form_key"]),
        "DefinitionList": _object({"items": _array(ref("Definition"))}, ["items"]),
        # bodies
        "CompleteBody": _closed({"data": DATA}),
        "TransferBody": _closed({"to_user": _string("The username the task goes to for good (转办)."),
                                 "comment": _string(maxLength=2000)}, ["to_user"]),
        "DelegateBody": _closed({"to_user": _string("Who works the task and resolves it back (委派)."),
                                 "comment": _string(maxLength=2000)}, ["to_user"]),
        "ResolveBody": _closed({"data": DATA, "comment": _string(maxLength=2000)},
                               description="The delegate hands the task back; `data` becomes the owner's draft."),
        "AddSignerBody": _closed({"signer": _string(), "position": _string(enum=["before", "after"],
                                                                          default="before"),
                                  "comment": _string(maxLength=2000)}, ["signer"]),
        "ReturnBody": _closed({"reason": _string(maxLength=2000),
                               "to": _string(enum=["previous", "requester"], default="previous")}, ["reason"]),
        "CopyBody": _closed({"to_users": _array({"type": "string"}) | {"minItems": 1},
                             "note": _string(maxLength=2000)}, ["to_users"]),
        "CommentBody": _closed({"text": _string(minLength=1, maxLength=2000)}, ["text"]),
        "DatesBody": _closed({
            "due_at": {**DATETIME, "description": "ISO 8601 with a time zone; null clears it; omitted: unchanged."},
            "follow_up_at": {**DATETIME, "description": "ISO 8601 with a time zone; null clears it."}},
            description="At least one of the two. Managers (task.supervise) may change others' tasks."),
        "DraftBody": _closed({"data": DATA}, ["data"]),
        "StartBody": _closed({
            "process_key": _string(maxLength=200), "business_key": _nullable("string", maxLength=200),
            "data": {**DATA, "description": "Start data, checked against the start form if the process has one; "
                                            "fields marked `x-fill: current_user` are set to the caller."}},
            ["process_key"]),
        "TerminateBody": _closed({"reason": _string(maxLength=2000)}),
    }


# ---------------------------------------------------------------------- paths


def _paths() -> dict:
    task_id = _path_id("task_id", "task")
    instance_id = _path_id("instance_id", "process instance")
    act = "ActionResult"

    def task_action(operation_id, summary, body=None, *, description=None, body_required=True, ok=200):
        return {"post": _operation(operation_id, summary, "tasks", permission="task.work", parameters=[task_id],
                                   body=body, body_required=body_required, ok=(ok, ref(act)),
                                   errors=("not_found", "conflict"), description=description)}

    def admin(operation_id, summary, body=None):
        return {"post": _operation(operation_id, summary, "administration", permission="instance.administer",
                                   parameters=[instance_id], body=body, body_required=False,
                                   ok=(200, ref("InstanceDetail")), errors=("not_found", "conflict"))}

    inbox_params = [
        _param("view", "query", {"type": "string", "enum": list(VIEWS), "default": "all"},
               "mine: assigned to me; group: offered to me or my groups and unclaimed; all: both."),
        _param("process", "query", {"type": "string"}, "Only tasks of this process key."),
        _param("business_key", "query", {"type": "string"}, "Business keys starting with this."),
        _param("overdue", "query", {"type": "boolean"}, "Only overdue tasks."),
        _param("due_soon", "query", {"type": "boolean"}, "Only tasks due within 24 hours."),
        _param("min_priority", "query", {"type": "integer", "minimum": 0, "maximum": 100}, "Lowest priority."),
        _param("q", "query", {"type": "string", "maxLength": 100}, "Text in the task name or business key."),
        _param("sort", "query", {"type": "string", "enum": list(SORTS), "default": "due"}, "Sort key."),
        _param("desc", "query", {"type": "boolean"}, "Sort descending."),
        PAGE, _per_page(25)]
    return {
        "/openapi.json": {"get": _operation(
            "getOpenApiDocument", "This document", "meta", permission=None, public=True,
            ok=(200, {"type": "object"}))},
        "/me": {"get": _operation("getMe", "Who am I: the caller's user, roles, groups and permissions", "meta",
                                  permission=None, ok=(200, ref("Me")))},
        "/tasks": {"get": _operation("listTasks", "The caller's inbox (待办), filtered, sorted and paged", "tasks",
                                     permission="task.work", parameters=inbox_params, ok=(200, ref("TaskPage")),
                                     errors=("invalid_input",))},
        "/tasks/{task_id}": {"get": _operation(
            "getTask", "A task the caller may work on or see, with its form's JSON Schema and the caller's draft",
            "tasks", permission="task.work", parameters=[task_id], ok=(200, ref("TaskDetail")),
            errors=("not_found",))},
        "/tasks/{task_id}/claim": task_action("claimTask", "Claim (认领) a group task"),
        "/tasks/{task_id}/unclaim": task_action("unclaimTask", "Release (释放) a claimed task"),
        "/tasks/{task_id}/complete": task_action(
            "completeTask", "Complete a task with its form data", "CompleteBody",
            description="The data is validated against the task's form: 422 with per-field errors. A task "
                        "completed by someone else first: 409."),
        "/tasks/{task_id}/transfer": task_action("transferTask", "Transfer (转办) the task to someone else",
                                                 "TransferBody"),
        "/tasks/{task_id}/delegate": task_action("delegateTask", "Delegate (委派): someone works it, it comes back",
                                                 "DelegateBody"),
        "/tasks/{task_id}/resolve": task_action("resolveTask", "Resolve a delegated task back to its owner",
                                                "ResolveBody", body_required=False),
        "/tasks/{task_id}/add-signer": task_action("addSigner", "Add a signer (加签) before or after oneself",
                                                   "AddSignerBody"),
        "/tasks/{task_id}/return": task_action("returnTask", "Return (退回) to the previous step or the requester",
                                               "ReturnBody"),
        "/tasks/{task_id}/withdraw": task_action(
            "withdrawTask", "Withdraw (撤回) a task the caller completed, before the next step is taken up",
            description="`task_id` is the completed task."),
        "/tasks/{task_id}/copy": task_action("copyTask", "Copy (抄送) the task to people for information",
                                             "CopyBody"),
        "/tasks/{task_id}/comments": task_action("commentTask", "Comment on an open task", "CommentBody", ok=201),
        "/tasks/{task_id}/dates": task_action("setTaskDates", "Change the due and follow-up dates", "DatesBody"),
        "/tasks/{task_id}/draft": {"put": _operation(
            "saveTaskDraft", "Save the caller's draft of the task's form (not validated)", "tasks",
            permission="task.work", parameters=[task_id], body="DraftBody", ok=(200, ref("DraftResult")),
            errors=("not_found", "conflict"))},
        "/instances": {
            "get": _operation(
                "listInstances", "Process instances, newest first", "instances", permission="instance.view",
                description="Without instance.view_all: only those the caller (or someone reporting to them) "
                            "started, or the caller has or had a task in.",
                parameters=[_param("status", "query", {"type": "string", "enum": INSTANCE_STATUSES}, "Status."),
                            _param("process_key", "query", {"type": "string"}, "Process key."),
                            _param("business_key", "query", {"type": "string"}, "Business key (exact)."),
                            PAGE, _per_page(25)],
                ok=(200, ref("InstancePage")), errors=("invalid_input",)),
            "post": _operation(
                "startInstance", "Start the latest version of a process", "instances", permission="process.start",
                body="StartBody", ok=(201, ref("InstanceDetail")), errors=("conflict",)),
        },
        "/instances/{instance_id}": {"get": _operation(
            "getInstance", "One instance: status, open tasks, incidents and data", "instances",
            permission="instance.view", parameters=[instance_id], ok=(200, ref("InstanceDetail")),
            errors=("not_found",))},
        "/instances/{instance_id}/history": {"get": _operation(
            "getInstanceHistory", "What happened to the instance, oldest first", "instances",
            permission="instance.view", parameters=[instance_id, PAGE, _per_page(100)],
            ok=(200, ref("HistoryPage")), errors=("not_found", "invalid_input"))},
        "/instances/{instance_id}/retry": admin("retryInstance", "Retry the instance's open incidents"),
        "/instances/{instance_id}/suspend": admin("suspendInstance", "Suspend the instance"),
        "/instances/{instance_id}/resume": admin("resumeInstance", "Resume a suspended instance"),
        "/instances/{instance_id}/terminate": admin("terminateInstance", "Terminate the instance", "TerminateBody"),
        "/definitions": {"get": _operation(
            "listDefinitions", "Deployed processes: the latest version of each (every version with "
                               "definition.view)", "definitions", permission="process.start",
            ok=(200, ref("DefinitionList")))},
        "/definitions/{key}/{version}/xml": {"get": _operation(
            "getDefinitionXml", "The BPMN source of one version of a process", "definitions",
            permission="instance.view",
            parameters=[_param("key", "path", {"type": "string"}, "The process key."),
                        _param("version", "path", ID_SCHEMA, "The version.")],
            ok=(200, {"application/xml": {"schema": {"type": "string"}}}), errors=("not_found",))},
    }


@cache
def _document() -> dict:
    from webapp import openapi_purchasing, openapi_sales  # they build with the helpers above

    return {
        "openapi": "3.1.0",
        "info": {"title": "ERP API", "version": API_VERSION,
                 "description": "The task inbox, process instances and definitions of the BPMN-driven ERP, and "
                                "order-to-cash: quotations, orders, invoices, payments and process messages, and "
                                "procure-to-pay: requisitions, suppliers, RFQs, purchase orders and supplier "
                                "invoices. "
                                "Authenticate with `Authorization: Bearer <token>` (create one with "
                                "`erp token USERNAME`). Errors are `{\"error\": {\"code\", \"message\", "
                                "\"fields\"}}` with a stable `code`."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": n} for n in ("meta", "tasks", "instances", "administration", "definitions",
                                       *openapi_sales.TAGS, *openapi_purchasing.TAGS)],
        "paths": {**_paths(), **openapi_sales.paths(), **openapi_purchasing.paths()},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "erp_…",
                                               "description": "An API token from `erp token USERNAME`."}},
            "schemas": {**_schemas(), **openapi_sales.schemas(), **openapi_purchasing.schemas()},
            "responses": {name: {"description": _RESPONSE_TEXT[code], "content": _json(ref("Error"))}
                          for code, name in _RESPONSE_NAMES.items()},
        },
    }

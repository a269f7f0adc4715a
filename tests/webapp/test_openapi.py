"""The OpenAPI document and the API agree: every /api/v1 route is documented and every documented operation is a
route, with the permission its view requires; the document hangs together (responses everywhere, every $ref
resolves, valid JSON Schemas); and real answers validate against the schemas it gives for them."""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from tests.webapp.test_api_support import (
    build_engine,
    deploy_expense,
    first_task,
    make_people,
    write_forms,
)
from webapp import openapi
from webapp.errors import CODES

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="session")
def api_forms(tmp_path_factory):
    return write_forms(tmp_path_factory.mktemp("openapi_forms"))


@pytest.fixture
def engine(api_forms):
    """Overrides the shared engine fixture: the app and `deploy` use the expense forms."""
    return build_engine(api_forms)


@pytest.fixture(scope="module")
def doc() -> dict:
    return openapi.document()


def api_routes(app) -> dict[tuple[str, str], object]:
    """(OpenAPI path, method) -> view function, for every /api/v1 rule."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes[(path, method.lower())] = app.view_functions[rule.endpoint]
    return routes


def operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_api_route_is_documented_and_every_documented_operation_is_a_route(app, doc):
    routes = api_routes(app)
    documented = {(path, method) for path, method, _ in operations(doc)}
    assert len(routes) > 25
    assert set(routes) - documented == set(), "routes missing from the OpenAPI document"
    assert documented - set(routes) == set(), "documented operations without a route"
    assert doc["servers"] == [{"url": PREFIX}]


def test_each_operation_documents_the_permission_its_view_requires(app, doc):
    routes = api_routes(app)
    for path, method, operation in operations(doc):
        view = routes[(path, method)]
        if view.erp_public:
            assert operation.get("security") == [] and operation["x-required-permission"] is None, path
        else:
            assert "security" not in operation, path  # the document's default: bearerAuth
            assert operation["x-required-permission"] == (view.erp_permission or "authenticated"), (path, method)
            assert {"401", "403"} <= set(operation["responses"]), (path, method)


def test_operations_have_ids_responses_and_declared_path_parameters(doc):
    ids = []
    for path, method, operation in operations(doc):
        ids.append(operation["operationId"])
        assert operation.get("summary") and operation.get("tags"), (path, method)
        assert operation.get("responses"), (path, method)
        assert any(code.startswith("2") for code in operation["responses"]), (path, method)
        for response in operation["responses"].values():
            assert "$ref" in response or response.get("description"), (path, method)
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
        for parameter in operation.get("parameters", []):
            assert parameter["in"] in ("path", "query", "header") and "schema" in parameter, (path, parameter)
            assert parameter["required"] is True or parameter["in"] != "path"
        if method == "get":
            assert "requestBody" not in operation, path
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def _refs(value, found):
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            found.append(value["$ref"])
        for item in value.values():
            _refs(item, found)
    elif isinstance(value, list):
        for item in value:
            _refs(item, found)
    return found


def _resolve(doc, pointer: str):
    assert pointer.startswith("#/"), pointer
    node = doc
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {pointer}"
        node = node[part]
    return node


def test_every_ref_resolves_and_every_component_is_used(doc):
    refs = _refs(doc, [])
    assert refs
    for pointer in refs:
        _resolve(doc, pointer)
    used = set(refs)
    for kind in ("schemas", "responses"):
        for name in doc["components"][kind]:
            assert f"#/components/{kind}/{name}" in used or name in ("TooLarge", "RateLimited", "InternalError",
                                                                      "MethodNotAllowed"), name


def test_the_schemas_are_valid_json_schema_and_the_error_codes_are_the_stable_ones(doc):
    assert doc["openapi"].startswith("3.1")
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["properties"]["code"]["enum"]) == set(CODES.values())
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    for response in doc["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_document_is_valid_openapi_3_1(doc):
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    validate(doc, cls=OpenAPIV31SpecValidator)


def test_the_document_is_served_to_anyone(client, doc):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.get_json() == doc


# ---------------------------------------------------------------------- the answers match the document


def _validator(doc, schema):
    return Draft202012Validator({**schema, "components": doc["components"]})


def _answer_schema(doc, path, method, status):
    response = doc["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = _resolve(doc, response["$ref"])
    return response["content"]["application/json"]["schema"]


def check(doc, path, method, response):
    """The answer validates against the documented schema for its status, and its top-level fields are named."""
    schema = _answer_schema(doc, path, method, response.status_code)
    body = response.get_json()
    errors = [e.message for e in _validator(doc, schema).iter_errors(body)]
    assert errors == [], (path, method, response.status_code, errors[:5])
    target = _resolve(doc, schema["$ref"]) if "$ref" in schema else schema
    if "properties" in target and isinstance(body, dict):
        assert set(body) <= set(target["properties"]), (path, set(body) - set(target["properties"]))
    return body


def test_real_answers_validate_against_the_document(doc, make_user, client, database, engine):
    people = make_people(make_user, client)
    deploy_expense(database, engine)
    wang, lina, admin = people["wangfang"], people["lina"], people["admin"]

    check(doc, "/me", "get", wang.get("/me"))
    instance = check(doc, "/instances", "post", wang.post("/instances", {
        "process_key": "expense", "data": {"title": "办公用品", "amount": 88, "phone": "13812345678"}}))
    check(doc, "/instances", "post", wang.post("/instances", {"process_key": "expense", "data": {}}))  # 422
    task_id = first_task(instance)
    check(doc, "/tasks", "get", lina.get("/tasks"))
    check(doc, "/tasks", "get", lina.get("/tasks", per_page=500))  # 422
    check(doc, "/tasks/{task_id}", "get", lina.get(f"/tasks/{task_id}"))
    check(doc, "/tasks/{task_id}", "get", people["outsider"].get(f"/tasks/{task_id}"))  # 403
    check(doc, "/tasks/{task_id}/draft", "put", lina.put(f"/tasks/{task_id}/draft", {"data": {"comment": "稍后"}}))
    check(doc, "/tasks/{task_id}/claim", "post", lina.post(f"/tasks/{task_id}/claim"))
    check(doc, "/tasks/{task_id}/comments", "post", lina.post(f"/tasks/{task_id}/comments", {"text": "看过了"}))
    check(doc, "/tasks/{task_id}/complete", "post", lina.post(f"/tasks/{task_id}/complete", {"data": {}}))  # 422
    check(doc, "/tasks/{task_id}/complete", "post",
          lina.post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}))
    check(doc, "/tasks/{task_id}/complete", "post",
          lina.post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}))  # 409
    check(doc, "/tasks/{task_id}/claim", "post", client.post(f"{PREFIX}/tasks/{task_id}/claim"))  # 401
    check(doc, "/instances", "get", wang.get("/instances"))
    check(doc, "/instances/{instance_id}", "get", wang.get(f"/instances/{instance['id']}"))
    check(doc, "/instances/{instance_id}", "get", wang.get("/instances/999999"))  # 404
    check(doc, "/instances/{instance_id}/history", "get", wang.get(f"/instances/{instance['id']}/history"))
    check(doc, "/instances/{instance_id}/suspend", "post", admin.post(f"/instances/{instance['id']}/suspend"))
    check(doc, "/instances/{instance_id}/terminate", "post",
          admin.post(f"/instances/{instance['id']}/terminate", {"reason": "测试"}))
    check(doc, "/definitions", "get", people["liwei"].get("/definitions"))


ODD_BODIES = [None, {}, [], "text", 7, {"data": "x"}, {"data": {"approved": "maybe", "amount": "1e999"}},
              {"to_user": ["lina"], "signer": 5, "position": "sideways", "to": {}, "reason": "", "to_users": "x",
               "text": None, "due_at": "tomorrow", "follow_up_at": 17, "process_key": 5, "business_key": []},
              {"process_key": "expense", "business_key": "B" * 500, "data": {"title": "x" * 5000, "amount": 1}},
              {"process_key": "expense", "business_key": "a\x00b", "to_user": "li\x00na", "reason": "\x00",
               "signer": "\x00", "text": "\x00", "to_users": ["\x00"], "data": {"title": "\x00", "amount": 1}}]
ODD_QUERIES = [{}, {"page": "0"}, {"per_page": "-5"}, {"view": "x", "sort": "y", "min_priority": "z"},
               {"status": "nope", "process_key": "k" * 300, "overdue": "maybe", "q": "%_' OR 1=1 --"},
               {"process": "\x00", "process_key": "\x00", "business_key": "\x00", "q": "\x00"}]


def test_odd_input_never_breaks_the_api_and_every_answer_is_documented(doc, make_user, client, database, engine):
    """A small fuzz over every documented operation: odd bodies and query strings, ids that exist or not;
    each answer is JSON (or the XML source), never a 500, with a status the document lists."""
    people = make_people(make_user, client)
    deploy_expense(database, engine)
    instance = people["wangfang"].post("/instances", {"process_key": "expense", "data": {
        "title": "办公用品", "amount": 88}}).get_json()
    ids = {"task_id": [first_task(instance), 999999], "instance_id": [instance["id"], 999999],
           "key": ["expense", "no%00pe"], "version": [1, 42], "number": ["INV-2026-00001", "no%00pe"],
           "code": ["S-000001", "no%00pe"]}
    for path, method, operation in operations(doc):
        names = re.findall(r"{(\w+)}", path)
        for who in ("lina", "admin"):
            api = people[who]
            for n in range(2):
                concrete = path
                for name in names:
                    concrete = concrete.replace(f"{{{name}}}", str(ids[name][n]))
                for body, query in zip(ODD_BODIES, ODD_QUERIES * 2, strict=False):
                    kwargs = {"headers": api.headers, "query_string": query}
                    if method != "get":
                        kwargs["json" if body is not None else "data"] = body if body is not None else ""
                    response = client.open(f"{PREFIX}{concrete}", method=method.upper(), **kwargs)
                    status = response.status_code
                    assert status < 500, (method, concrete, body, response.get_data(as_text=True)[:300])
                    assert str(status) in operation["responses"], (method, concrete, body, status,
                                                                  response.get_json())
                    if response.mimetype == "application/json":
                        check(doc, path, method, response)

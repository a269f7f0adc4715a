"""Helpers (no tests) for the JSON API tests: an expense process with a start form (the requester filled in from
the caller, a personal phone number), its forms in a folder of their own, people with roles, a bearer-token
client."""
from __future__ import annotations

import json
from pathlib import Path

from core import db
from engine.operators import OperatorRegistry
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import create_token, get_user
from erp.wiring import user_exists
from forms import FormCatalog
from tests.bpmn_text import HEAD

FORMS = {
    "expense/request": {
        "type": "object", "required": ["title", "amount"],
        "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                       "amount": {"type": "number", "minimum": 0},
                       "phone": {"type": "string", "x-personal": True},
                       "requester": {"type": "string", "x-fill": "current_user"}}},
    "expense/review": {
        "type": "object", "required": ["approved"],
        "properties": {"approved": {"type": "boolean"}, "comment": {"type": "string", "maxLength": 200}}},
    "expense/pay": {"type": "object", "properties": {"paid": {"type": "boolean"},
                                                     "reference": {"type": "string"}}},
}


def _props(**props) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in props.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties>" \
           "</bpmn:extensionElements>"


def expense_bpmn(name: str = "报销 Expense") -> bytes:
    """start (form expense/request) → review (approvers) → pay (finance) → end."""
    return (HEAD + f'<bpmn:process id="expense" name="{name}" isExecutable="true">'
            f'<bpmn:startEvent id="start">{_props(formKey="expense/request")}'
            '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>'
            '<bpmn:userTask id="review" name="审批 Review">'
            + _props(formKey="expense/review", candidateGroups="'approvers'", dueDate="'P2D'", priority="60")
            + '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="pay"/>'
            '<bpmn:userTask id="pay" name="付款 Pay">'
            + _props(formKey="expense/pay", candidateGroups="'finance'")
            + '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end"/>'
            '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
            '</bpmn:process></bpmn:definitions>').encode()


def write_forms(root: Path) -> Path:
    for key, schema in FORMS.items():
        path = root / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}))
    return root


#: username -> (roles, groups, manager)
PEOPLE = {
    "wangfang": (["employee"], [], "zhaomin"),   # 王芳 submits expenses
    "lina": (["employee"], ["approvers"], None),  # 李娜 approves
    "zhaomin": (["manager"], ["approvers"], None),  # 赵敏, wangfang's manager
    "chenjie": (["employee"], ["finance"], None),  # 陈杰 pays
    "liwei": (["analyst"], [], None),
    "admin": (["administrator"], [], None),
    "outsider": (["employee"], ["sales"], None),
}


def build_engine(forms_dir: Path) -> Engine:
    return Engine(OperatorRegistry(), FormCatalog(forms_dir), groups_of=groups_of, script_cpu_seconds=1.0,
                  user_exists=user_exists)


def make_people(make_user, client) -> dict[str, Api]:
    """Everyone in PEOPLE, each with an API client holding their own token."""
    for name, (roles, groups, manager) in PEOPLE.items():
        make_user(name, roles=roles, groups=groups, manager=manager)
    return {name: Api(client, token_for(name)) for name in PEOPLE}


def deploy_expense(database, engine, name: str = "报销 Expense") -> None:
    with database.transaction() as session:
        engine.deploy(session, {"expense.bpmn": expense_bpmn(name)}, user="liwei")


def start_expense(api: Api, **data) -> dict:
    """Start an expense as the API's user; the answer (the instance) must be 201."""
    body = {"process_key": "expense", "business_key": data.pop("business_key", None),
            "data": {"title": "出差北京", "amount": 1280.5, "phone": "13812345678", **data}}
    response = api.post("/instances", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def first_task(instance: dict, element_id: str = "review") -> int:
    [task] = [t for t in instance["tasks"] if t["element_id"] == element_id]
    return task["id"]


def token_for(username: str, name: str = "test") -> str:
    with db.transaction() as session:
        return create_token(session, get_user(session, username), name)


class Api:
    """The test client speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **query):
        return self.client.get(f"/api/v1{path}", query_string=query, headers=self.headers)

    def post(self, path: str, body=None):
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers)

    def put(self, path: str, body=None):
        return self.client.put(f"/api/v1{path}", json=body, headers=self.headers)


def error_of(response) -> dict:
    body = response.get_json()
    assert body is not None and "error" in body, response.get_data(as_text=True)[:500]
    return body["error"]

"""The office the task, start and file pages are tested in: the product's approval process and forms deployed,
plus an expense claim with order lines (money) and a receipt upload, and the people who work them."""
from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select

from engine import queries
from engine.deploy import read_paths
from engine.models import HumanTask, ProcessInstance
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.wiring import build_registry, script_globals, user_exists
from forms import FormCatalog
from tests.conftest import ROOT
from tests.webapp.conftest import PASSWORD, login

EXPENSE_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "费用报销 Expense claim",
    "type": "object",
    "required": ["purpose", "lines"],
    "properties": {
        "purpose": {"type": "string", "title": "事由 Purpose", "minLength": 1},
        "lines": {"type": "array", "title": "明细 Lines", "minItems": 1, "items": {
            "type": "object", "required": ["item", "amount"],
            "properties": {"item": {"type": "string", "title": "项目 Item", "minLength": 1},
                           "amount": {"type": "number", "x-money": True, "title": "金额 Amount", "minimum": 0}}}},
        "receipt": {"type": "object", "x-file": True, "title": "发票 Receipt"},
        "claimant": {"type": "string", "title": "报销人 Claimant", "x-fill": "current_user"},
    },
}
CHECK_FORM = {"type": "object", "title": "审核 Check", "required": ["ok"],
              "properties": {"ok": {"type": "boolean", "title": "无误 Correct"},
                             "remark": {"type": "string", "title": "备注 Remark"}}}
EXPENSE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="expense_defs"
    targetNamespace="http://erp.example/test">
  <bpmn:process id="expense" name="费用报销 Expense claim" isExecutable="true">
    <bpmn:startEvent id="claimed"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="claimed" targetRef="check"/>
    <bpmn:userTask id="check" name="审核报销">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="expense/check"/>
        <spiffworkflow:property name="candidateGroups" value="'finance'"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="done"/>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

PEOPLE = [("wangfang", "王芳", ["employees"], ["employee"], "boss"),
          ("zhangwei", "张伟", ["dept_manager"], ["employee"], "boss"),
          ("lina", "李娜", ["finance_director"], ["employee"], None),
          ("liuyang", "刘洋", ["general_manager"], ["employee"], None),
          ("chenjing", "陈静", ["finance"], ["employee"], None),
          ("outsider", "路人", [], ["employee"], None),
          ("boss", "老板", [], ["manager"], None),
          ("auditor", "审计", [], ["analyst"], None)]


@pytest.fixture
def forms_dir(tmp_path):
    """The product's forms (forms/approval) and the expense claim's, in one catalogue."""
    root = tmp_path / "forms"
    shutil.copytree(ROOT / "forms" / "approval", root / "approval")
    (root / "expense").mkdir()
    (root / "expense" / "start.json").write_text(json.dumps(EXPENSE_FORM, ensure_ascii=False), encoding="utf-8")
    (root / "expense" / "check.json").write_text(json.dumps(CHECK_FORM, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture
def engine(forms_dir):
    """Replaces the shared engine fixture: the app under test runs on this one."""
    return Engine(build_registry(), forms=FormCatalog(forms_dir), groups_of=groups_of, user_exists=user_exists,
                  script_globals=script_globals())


@pytest.fixture
def office(database, engine):
    with database.transaction() as session:
        sources = read_paths([ROOT / "bpmn" / "approval"])
        sources["expense.bpmn"] = EXPENSE_BPMN.encode()
        engine.deploy(session, sources)
        for username, name, groups, roles, manager in PEOPLE:
            ensure_user(session, username, name, groups=groups, roles=roles, password=PASSWORD, manager=manager,
                        email=f"{username}@example.cn")
    return engine


@pytest.fixture
def browser(app, office):
    """browser("zhangwei") -> a test client logged in as that person (one per person)."""
    clients = {}

    def get(username):
        if username not in clients:
            clients[username] = app.test_client()
            login(clients[username], username)
        return clients[username]

    return get


def start_approval(browser, amount="5000", *, who="wangfang", business_key="PR-2025-001", **extra) -> int:
    """Start an approval through its start page; returns the instance id."""
    response = browser(who).post("/processes/approval/start", data={
        "title": "采购笔记本电脑", "amount": amount, "department": "研发部", "business_key": business_key, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/instances/")
    return int(location.rsplit("/", 1)[1])


def open_tasks(database, instance_id) -> list[HumanTask]:
    with database.transaction(readonly=True) as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "open").order_by(HumanTask.id)).all()
        session.expunge_all()
        return rows


def the_task(database, instance_id) -> HumanTask:
    [task] = open_tasks(database, instance_id)
    return task


def task_row(database, task_id) -> HumanTask:
    with database.transaction(readonly=True) as session:
        task = session.get(HumanTask, task_id)
        session.expunge_all()
        return task


def instance_row(database, instance_id) -> ProcessInstance:
    with database.transaction(readonly=True) as session:
        instance = session.get(ProcessInstance, instance_id)
        session.expunge_all()
        return instance


def instance_data(engine, database, instance_id) -> dict:
    with database.transaction(readonly=True) as session:
        _instance, workflow = engine.load(session, instance_id)
        return queries.current_data(workflow)


def history(database, instance_id) -> list:
    from engine.models import HistoryEvent

    with database.transaction(readonly=True) as session:
        rows = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                               .order_by(HistoryEvent.id)).all()
        session.expunge_all()
        return rows



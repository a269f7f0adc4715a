"""The sample approval process (bpmn/approval): the decision table picks the approver group by amount, and
each outcome — approve, reject, return for revision (退回) and resubmit — ends where it should."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidInput, PermissionDenied
from engine import queries
from engine.deploy import read_paths
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from forms import FormCatalog
from tests.conftest import ROOT


@pytest.fixture
def engine(tx):
    engine = Engine(forms=FormCatalog(ROOT / "forms"), groups_of=groups_of)
    with tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        ensure_user(session, "wangfang", "王芳", groups=["employees"])
        ensure_user(session, "zhangwei", "张伟", groups=["dept_manager"])
        ensure_user(session, "lina", "李娜", groups=["finance_director"])
        ensure_user(session, "liuyang", "刘洋", groups=["general_manager"])
    return engine


def _request(engine, tx, amount):
    with tx() as session:
        instance = engine.start(session, "approval", {"title": "采购", "amount": Decimal(amount),
                                                      "requester": "wangfang"}, user="wangfang")
        [task] = queries.tasks(session, instance_id=instance.id)
    return instance.id, task


def _complete(engine, tx, task_id, user, data):
    with tx() as session:
        engine.complete(session, task_id, data, user)


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


@pytest.mark.parametrize("amount, group", [
    ("9999.99", "dept_manager"), ("10000", "finance_director"), ("99999.99", "finance_director"),
    ("100000", "general_manager"), ("2500000", "general_manager"),
])
def test_the_decision_table_picks_the_approver_by_amount(engine, tx, amount, group):
    _, task = _request(engine, tx, amount)
    assert task["candidate_groups"] == [group] and task["element_id"] == "review"
    assert task["priority"] == (70 if Decimal(amount) >= 100000 else 50)


def test_approval_records_the_rounded_amount_and_ends_approved(engine, tx):
    instance_id, task = _request(engine, tx, "8000.505")
    _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "8000.51"
    assert ("element_completed", "approved_end") in [(h["kind"], h["element_id"]) for h in shown["history"]]


def test_rejection_needs_a_reason_and_ends_rejected(engine, tx):
    instance_id, task = _request(engine, tx, "50000")
    with pytest.raises(InvalidInput) as invalid:
        _complete(engine, tx, task["id"], "lina", {"decision": "reject"})
    assert "comment" in invalid.value.errors
    _complete(engine, tx, task["id"], "lina", {"decision": "reject", "comment": "预算不足"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and "approved" not in shown["data"]
    assert ("element_completed", "rejected") in [(h["kind"], h["element_id"]) for h in shown["history"]]


def test_returned_requests_go_back_to_the_requester_and_round_again(engine, tx):
    instance_id, task = _request(engine, tx, "12000")
    with pytest.raises(PermissionDenied):  # a department manager is not the approver of 12,000
        _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})
    _complete(engine, tx, task["id"], "lina", {"decision": "return", "comment": "请附报价单"})
    [revise] = _show(engine, tx, instance_id)["tasks"]
    assert revise["element_id"] == "revise" and revise["assignee"] == "wangfang"
    _complete(engine, tx, revise["id"], "wangfang", {"amount": 9000, "note": "已改为 9000 元"})
    [review] = _show(engine, tx, instance_id)["tasks"]
    assert review["element_id"] == "review" and review["candidate_groups"] == ["finance_director"]
    _complete(engine, tx, review["id"], "lina", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "9000.00"
    completed = [(h["element_id"], h["actor"]) for h in shown["history"] if h["kind"] == "task_completed"]
    assert completed == [("review", "lina"), ("revise", "wangfang"), ("review", "lina")]

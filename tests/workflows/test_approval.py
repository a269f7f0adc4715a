"""The reusable approval process (bpmn/approval): the decision table lists the approval levels by document type,
amount and department; the levels approve one after another; a return (退回) goes to the requester and a
resubmission starts again at the first level, as often as needed, with the saved state staying small; a
rejection ends it; nobody approves their own request; other processes call it through a call activity."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidInput, PermissionDenied
from engine import queries, worklist
from engine.deploy import read_paths
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.wiring import build_registry, script_globals
from forms import FormCatalog
from tests.conftest import ROOT

DM, FD, GM = "dept_manager", "finance_director", "general_manager"
APPROVER = {DM: "zhangwei", FD: "lina", GM: "liuyang"}


@pytest.fixture
def engine(tx):
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), groups_of=groups_of,
                    script_globals=script_globals())
    with tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        ensure_user(session, "wangfang", "王芳", groups=["employees"])
        ensure_user(session, "zhangwei", "张伟", groups=["dept_manager"])
        ensure_user(session, "lina", "李娜", groups=["finance_director"])
        ensure_user(session, "liuyang", "刘洋", groups=["general_manager"])
    return engine


def _request(engine, tx, amount, requester="wangfang", **extra):
    with tx() as session:
        instance = engine.start(session, "approval", {"title": "采购", "amount": Decimal(amount),
                                                      "requester": requester, **extra}, user=requester)
        [task] = queries.tasks(session, instance_id=instance.id)
    return instance.id, task


def _complete(engine, tx, task_id, user, data):
    with tx() as session:
        return engine.complete(session, task_id, data, user)


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


def _open(engine, tx, instance_id):
    [task] = _show(engine, tx, instance_id)["tasks"]
    return task


def _levels(engine, tx, amount, **extra):
    """Approve every level of a new request; the groups that were asked, in order."""
    instance_id, task = _request(engine, tx, amount, **extra)
    groups = []
    while True:
        [group] = task["candidate_groups"]
        groups.append(group)
        _complete(engine, tx, task["id"], APPROVER[group], {"decision": "approve"})
        shown = _show(engine, tx, instance_id)
        if shown["status"] == "completed":
            assert shown["data"]["approved"] is True
            return groups
        [task] = shown["tasks"]


@pytest.mark.parametrize("amount, extra, levels", [
    # general (also when document_type is missing): < 10,000 DM; < 100,000 + FD; from 100,000 + GM
    ("9999.99", {}, [DM]),
    ("5800", {"document_type": "general"}, [DM]),
    ("10000", {}, [DM, FD]),
    ("50000", {"department": "销售部"}, [DM, FD]),
    ("99999.99", {"document_type": ""}, [DM, FD]),
    ("100000", {}, [DM, FD, GM]),
    ("2500000", {"document_type": "general"}, [DM, FD, GM]),
    # purchase requisitions and expenses follow the general thresholds
    ("9000", {"document_type": "purchase_requisition"}, [DM]),
    ("20000", {"document_type": "expense"}, [DM, FD]),
    ("150000", {"document_type": "purchase_requisition"}, [DM, FD, GM]),
    # payments: finance from 5,000
    ("4999", {"document_type": "payment"}, [DM]),
    ("5000", {"document_type": "payment"}, [DM, FD]),
    ("100000", {"document_type": "payment"}, [DM, FD, GM]),
    # sales discounts: finance from 20,000, the general manager from 50,000
    ("19999", {"document_type": "sales_discount"}, [DM]),
    ("20000", {"document_type": "sales_discount"}, [DM, FD]),
    ("50000", {"document_type": "sales_discount"}, [DM, FD, GM]),
    # contracts: finance from 10,000, the general manager from 50,000
    ("9999", {"document_type": "contract"}, [DM]),
    ("10000", {"document_type": "contract"}, [DM, FD]),
    ("50000", {"document_type": "contract"}, [DM, FD, GM]),
    # the general manager's office: its head is the general manager (no department manager level)
    ("500", {"department": "总经办"}, [GM]),
    ("20000", {"department": "总经办"}, [FD, GM]),
    ("200000", {"department": "总经办", "document_type": "payment"}, [FD, GM]),
])
def test_the_decision_table_lists_the_levels_and_each_approves_in_turn(engine, tx, amount, extra, levels):
    assert _levels(engine, tx, amount, **extra) == levels


@pytest.mark.parametrize("amount, priority", [("99999.99", 50), ("100000", 70)])
def test_the_first_level_is_the_department_manager_with_the_priority_by_amount(engine, tx, amount, priority):
    _, task = _request(engine, tx, amount)
    assert task["candidate_groups"] == [DM] and task["element_id"] == "review"
    assert task["form_key"] == "approval/review" and task["priority"] == priority
    assert task["excluded_users"] == ["wangfang"]


def test_approval_records_the_rounded_amount_and_ends_approved(engine, tx):
    instance_id, task = _request(engine, tx, "8000.505")
    _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "8000.51"
    assert ("element_completed", "approved_end") in [(h["kind"], h["element_id"]) for h in shown["history"]]


def test_a_level_approves_only_for_itself_and_the_last_level_approves_the_request(engine, tx):
    instance_id, task = _request(engine, tx, "120000")
    with pytest.raises(PermissionDenied):  # the finance director is the second level, not the first
        _complete(engine, tx, task["id"], "lina", {"decision": "approve"})
    _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})
    task = _open(engine, tx, instance_id)
    assert task["candidate_groups"] == [FD] and task["element_id"] == "review"
    _complete(engine, tx, task["id"], "lina", {"decision": "approve"})
    task = _open(engine, tx, instance_id)
    assert task["candidate_groups"] == [GM]
    assert _show(engine, tx, instance_id)["status"] == "running"
    _complete(engine, tx, task["id"], "liuyang", {"decision": "approve", "comment": "同意"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "120000.00"
    completed = [(h["element_id"], h["actor"]) for h in shown["history"] if h["kind"] == "task_completed"]
    assert completed == [("review", "zhangwei"), ("review", "lina"), ("review", "liuyang")]


@pytest.mark.parametrize("level", [0, 1, 2])
def test_rejection_at_any_level_needs_a_reason_and_ends_rejected(engine, tx, level):
    instance_id, task = _request(engine, tx, "300000")
    for _ in range(level):
        _complete(engine, tx, task["id"], APPROVER[task["candidate_groups"][0]], {"decision": "approve"})
        task = _open(engine, tx, instance_id)
    approver = APPROVER[task["candidate_groups"][0]]
    with pytest.raises(InvalidInput) as invalid:
        _complete(engine, tx, task["id"], approver, {"decision": "reject"})
    assert "comment" in invalid.value.errors
    _complete(engine, tx, task["id"], approver, {"decision": "reject", "comment": "预算不足"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and "approved" not in shown["data"]
    assert ("element_completed", "rejected") in [(h["kind"], h["element_id"]) for h in shown["history"]]


def test_a_return_at_a_later_level_goes_to_the_requester_and_the_resubmission_starts_at_level_one(engine, tx):
    instance_id, task = _request(engine, tx, "12000")
    _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})
    task = _open(engine, tx, instance_id)
    assert task["candidate_groups"] == [FD]
    _complete(engine, tx, task["id"], "lina", {"decision": "return", "comment": "请附报价单"})
    revise = _open(engine, tx, instance_id)
    assert revise["element_id"] == "revise" and revise["assignee"] == "wangfang"
    assert revise["form_key"] == "approval/revise"
    with pytest.raises(PermissionDenied):
        _complete(engine, tx, revise["id"], "lina", {"amount": 9000})
    # the revised amount is decided again: 9,000 needs the department manager only
    _complete(engine, tx, revise["id"], "wangfang", {"amount": 9000, "note": "已改为 9000 元"})
    review = _open(engine, tx, instance_id)
    assert review["element_id"] == "review" and review["candidate_groups"] == [DM]
    _complete(engine, tx, review["id"], "zhangwei", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "9000.00"
    completed = [(h["element_id"], h["actor"]) for h in shown["history"] if h["kind"] == "task_completed"]
    assert completed == [("review", "zhangwei"), ("review", "lina"), ("revise", "wangfang"), ("review", "zhangwei")]


def test_thirty_rounds_of_return_and_resubmit_keep_the_saved_state_small(engine, tx):
    instance_id, task = _request(engine, tx, "150000")
    sizes = []
    for round_ in range(30):
        # approve the first levels, return at the last, resubmit
        for group in (DM, FD):
            assert task["candidate_groups"] == [group]
            _complete(engine, tx, task["id"], APPROVER[group], {"decision": "approve"})
            task = _open(engine, tx, instance_id)
        assert task["candidate_groups"] == [GM]
        _complete(engine, tx, task["id"], "liuyang", {"decision": "return", "comment": f"第 {round_ + 1} 次退回"})
        revise = _open(engine, tx, instance_id)
        assert revise["element_id"] == "revise"
        instance = _complete(engine, tx, revise["id"], "wangfang", {"amount": 150000 + round_})
        sizes.append(len(instance.state))
        task = _open(engine, tx, instance_id)
    assert max(sizes) <= sizes[0] * 1.1 and max(sizes) < 20_000, sizes
    for group in (DM, FD, GM):
        _complete(engine, tx, task["id"], APPROVER[group], {"decision": "approve"})
        if group != GM:
            task = _open(engine, tx, instance_id)
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "150029.00"
    completed = [h["element_id"] for h in shown["history"] if h["kind"] == "task_completed"]
    assert completed.count("revise") == 30 and completed.count("review") == 30 * 3 + 3


def test_nobody_approves_their_own_request_even_in_the_approver_group(engine, tx):
    with tx() as session:
        ensure_user(session, "zhaoli", "赵丽", groups=["employees", "dept_manager"])
    instance_id, task = _request(engine, tx, "3000", requester="zhaoli")
    assert task["candidate_groups"] == [DM] and task["excluded_users"] == ["zhaoli"]
    with tx() as session:
        # hidden from the requester's inbox (both inbox reads), offered to the other department manager
        assert [t["id"] for t in queries.tasks(session, user="zhaoli", groups=groups_of(session, "zhaoli"))] == []
        assert [t["id"] for t in queries.tasks(session, user="zhangwei",
                                               groups=groups_of(session, "zhangwei"))] == [task["id"]]
        flt = worklist.InboxFilter()
        from core import clock
        mine = worklist.inbox_page(session, "zhaoli", groups_of(session, "zhaoli"), flt, now=clock.now())
        theirs = worklist.inbox_page(session, "zhangwei", groups_of(session, "zhangwei"), flt, now=clock.now())
        assert mine.total == 0 and [r["id"] for r in theirs.rows] == [task["id"]]
        assert worklist.counts(session, "zhaoli", groups_of(session, "zhaoli"), now=clock.now())["group"] == 0
        human = engine._open_task(session, task["id"])
        assert not engine.may_work_on(session, human, "zhaoli") and engine.may_work_on(session, human, "zhangwei")
    with pytest.raises(PermissionDenied, match="no one approves their own request"):
        _complete(engine, tx, task["id"], "zhaoli", {"decision": "approve"})
    with pytest.raises(PermissionDenied, match="no one approves their own request"):
        with tx() as session:
            engine.claim(session, task["id"], "zhaoli")
    _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})
    assert _show(engine, tx, instance_id)["status"] == "completed"


CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="caller_defs"
                  targetNamespace="http://erp.example/test">
  <bpmn:process id="purchase_with_approval" name="采购 Purchase" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:callActivity id="approve" name="审批 Approval" calledElement="approval">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="note"/>
    <bpmn:scriptTask id="note" name="记录 Note">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>outcome = "approved" if approved else "not approved"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="note" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_another_process_calls_the_approval_through_a_call_activity(engine, tx):
    with tx() as session:
        engine.deploy(session, {"purchase_with_approval.bpmn": CALLER.encode(), **read_paths([ROOT / "bpmn"])})
        instance = engine.start(session, "purchase_with_approval", {
            "title": "服务器", "amount": Decimal("20000"), "department": "研发部",
            "document_type": "purchase_requisition", "requester": "wangfang", "approved": False}, user="wangfang")
    for approver in ("zhangwei", "lina"):
        task = _open(engine, tx, instance.id)
        assert task["element_id"] == "review" and task["excluded_users"] == ["wangfang"]
        _complete(engine, tx, task["id"], approver, {"decision": "approve"})
    shown = _show(engine, tx, instance.id)
    assert shown["status"] == "completed"
    assert shown["data"]["approved"] is True and shown["data"]["approved_amount"] == "20000.00"
    assert shown["data"]["outcome"] == "approved"

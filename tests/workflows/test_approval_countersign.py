"""Countersign (会签) in the approval process: a level in mode "all" gives every active member of its group a review
task of their own (a parallel multi-instance user task); all must approve for the level to pass, the first return
or rejection decides it at once and withdraws the others' tasks; the requester is never asked; return and
resubmit repeat the countersign as often as needed with the saved state staying small."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.errors import PermissionDenied
from engine.deploy import read_paths
from engine.models import HumanTask
from engine.runtime import Engine
from erp.identity.models import GroupMembership, User
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.wiring import build_registry, script_globals
from forms import FormCatalog
from tests.conftest import ROOT
from tests.workflows.test_approval import _complete, _show

COMMITTEE = ["lina", "zhangwei", "zhoumin"]  # 合同评审委员会


@pytest.fixture
def engine(tx):
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), groups_of=groups_of,
                    script_globals=script_globals())
    with tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn" / "approval"]))
        ensure_user(session, "wangfang", "王芳", groups=["employees"])
        ensure_user(session, "zhangwei", "张伟", groups=["dept_manager", "contract_committee"])
        ensure_user(session, "lina", "李娜", groups=["finance_director", "contract_committee"])
        ensure_user(session, "zhoumin", "周敏", groups=["legal", "contract_committee"])
        ensure_user(session, "liuyang", "刘洋", groups=["general_manager"])
    return engine


def _contract(engine, tx, amount="600000", requester="wangfang", **extra):
    with tx() as session:
        instance = engine.start(session, "approval", {
            "title": "年度框架合同", "amount": Decimal(amount), "requester": requester,
            "document_type": "contract", **extra}, user=requester)
    return instance.id


def _open(engine, tx, instance_id):
    return _show(engine, tx, instance_id)["tasks"]


def _approve_single(engine, tx, instance_id, approver):
    [task] = _open(engine, tx, instance_id)
    assert task["element_id"] == "review"
    _complete(engine, tx, task["id"], approver, {"decision": "approve"})


def _to_committee(engine, tx, instance_id):
    """Approve the department manager and finance director levels; the countersign tasks, by assignee."""
    _approve_single(engine, tx, instance_id, "zhangwei")
    _approve_single(engine, tx, instance_id, "lina")
    return {t["assignee"]: t for t in _open(engine, tx, instance_id)}


def _task_status(tx, task_ids):
    with tx(readonly=True) as session:
        return dict(session.execute(select(HumanTask.id, HumanTask.status).where(HumanTask.id.in_(task_ids))).all())


def test_a_contract_from_500000_is_countersigned_by_every_committee_member_before_the_general_manager(engine, tx):
    instance_id = _contract(engine, tx)
    tasks = _to_committee(engine, tx, instance_id)
    assert sorted(tasks) == COMMITTEE
    for task in tasks.values():
        assert task["element_id"] == "countersign" and task["form_key"] == "approval/review"
        assert task["excluded_users"] == ["wangfang"] and task["priority"] == 70
    with pytest.raises(PermissionDenied):  # each member signs their own task only
        _complete(engine, tx, tasks["zhoumin"]["id"], "lina", {"decision": "approve"})
    _complete(engine, tx, tasks["zhoumin"]["id"], "zhoumin", {"decision": "approve", "comment": "条款无误"})
    _complete(engine, tx, tasks["lina"]["id"], "lina", {"decision": "approve"})
    [last] = _open(engine, tx, instance_id)
    assert last["assignee"] == "zhangwei" and last["element_id"] == "countersign"
    _complete(engine, tx, last["id"], "zhangwei", {"decision": "approve"})
    [gm] = _open(engine, tx, instance_id)
    assert gm["element_id"] == "review" and gm["candidate_groups"] == ["general_manager"]
    _complete(engine, tx, gm["id"], "liuyang", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed"
    assert shown["data"]["approved"] is True and shown["data"]["approved_amount"] == "600000.00"
    completed = [(h["element_id"], h["actor"]) for h in shown["history"] if h["kind"] == "task_completed"]
    assert completed == [("review", "zhangwei"), ("review", "lina"), ("countersign", "zhoumin"),
                         ("countersign", "lina"), ("countersign", "zhangwei"), ("review", "liuyang")]


def test_below_500000_a_contract_has_no_countersign(engine, tx):
    instance_id = _contract(engine, tx, amount="499999.99")
    _approve_single(engine, tx, instance_id, "zhangwei")
    _approve_single(engine, tx, instance_id, "lina")
    [task] = _open(engine, tx, instance_id)
    assert task["element_id"] == "review" and task["candidate_groups"] == ["general_manager"]


def test_one_rejection_rejects_at_once_and_withdraws_the_other_members_tasks(engine, tx):
    instance_id = _contract(engine, tx)
    tasks = _to_committee(engine, tx, instance_id)
    _complete(engine, tx, tasks["lina"]["id"], "lina", {"decision": "approve"})
    _complete(engine, tx, tasks["zhoumin"]["id"], "zhoumin", {"decision": "reject", "comment": "违约条款不可接受"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and "approved" not in shown["data"]
    assert shown["tasks"] == []
    assert ("element_completed", "rejected") in [(h["kind"], h["element_id"]) for h in shown["history"]]
    assert _task_status(tx, [t["id"] for t in tasks.values()]) == {
        tasks["lina"]["id"]: "completed", tasks["zhoumin"]["id"]: "completed", tasks["zhangwei"]["id"]: "cancelled"}


def test_a_return_goes_to_the_requester_and_the_resubmission_repeats_the_countersign(engine, tx):
    instance_id = _contract(engine, tx)
    tasks = _to_committee(engine, tx, instance_id)
    _complete(engine, tx, tasks["zhangwei"]["id"], "zhangwei", {"decision": "return", "comment": "请补充付款条款"})
    [revise] = _open(engine, tx, instance_id)
    assert revise["element_id"] == "revise" and revise["assignee"] == "wangfang"
    assert _task_status(tx, [tasks["lina"]["id"], tasks["zhoumin"]["id"]]) == {
        tasks["lina"]["id"]: "cancelled", tasks["zhoumin"]["id"]: "cancelled"}
    _complete(engine, tx, revise["id"], "wangfang", {"amount": 620000, "note": "已补充付款条款"})
    again = _to_committee(engine, tx, instance_id)
    assert sorted(again) == COMMITTEE and not set(t["id"] for t in again.values()) & {t["id"] for t in tasks.values()}
    for user in COMMITTEE:
        _complete(engine, tx, again[user]["id"], user, {"decision": "approve"})
    [gm] = _open(engine, tx, instance_id)
    _complete(engine, tx, gm["id"], "liuyang", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == "620000.00"


def test_the_requester_who_is_a_committee_member_is_not_asked(engine, tx):
    instance_id = _contract(engine, tx, requester="zhoumin")
    tasks = _to_committee(engine, tx, instance_id)
    assert sorted(tasks) == ["lina", "zhangwei"]
    assert all(t["excluded_users"] == ["zhoumin"] for t in tasks.values())
    for user in ("lina", "zhangwei"):
        _complete(engine, tx, tasks[user]["id"], user, {"decision": "approve"})
    [gm] = _open(engine, tx, instance_id)
    assert gm["candidate_groups"] == ["general_manager"]


def test_a_countersign_group_with_no_one_but_the_requester_raises_an_incident(engine, tx):
    with tx() as session:
        others = select(User.id).where(User.username.in_(["lina", "zhangwei"]))
        session.execute(delete(GroupMembership).where(GroupMembership.group_name == "contract_committee",
                                                      GroupMembership.user_id.in_(others)))
    instance_id = _contract(engine, tx, requester="zhoumin")
    _approve_single(engine, tx, instance_id, "zhangwei")
    _approve_single(engine, tx, instance_id, "lina")
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "incident" and shown["tasks"] == []
    [incident] = shown["incidents"]
    assert incident["element_id"] == "find_countersigners" and "contract_committee" in incident["message"]


def test_an_inactive_member_is_not_asked(engine, tx):
    with tx() as session:
        session.scalars(select(User).where(User.username == "zhoumin")).one().active = False
    instance_id = _contract(engine, tx)
    assert sorted(_to_committee(engine, tx, instance_id)) == ["lina", "zhangwei"]


def test_twelve_rounds_of_countersign_and_return_keep_the_saved_state_small(engine, tx):
    instance_id = _contract(engine, tx)
    sizes = []
    rounds = 12
    for round_ in range(rounds):
        tasks = _to_committee(engine, tx, instance_id)
        assert sorted(tasks) == COMMITTEE
        # two members approve, the third returns; the order changes from round to round
        order = COMMITTEE[round_ % 3:] + COMMITTEE[:round_ % 3]
        for user in order[:2]:
            _complete(engine, tx, tasks[user]["id"], user, {"decision": "approve"})
        returner = order[2]
        _complete(engine, tx, tasks[returner]["id"], returner,
                  {"decision": "return", "comment": f"第 {round_ + 1} 次退回"})
        [revise] = _open(engine, tx, instance_id)
        assert revise["element_id"] == "revise"
        instance = _complete(engine, tx, revise["id"], "wangfang", {"amount": 600000 + round_})
        sizes.append(len(instance.state))
    assert max(sizes) <= sizes[0] * 1.1 and max(sizes) < 25_000, sizes
    tasks = _to_committee(engine, tx, instance_id)
    for user in COMMITTEE:
        _complete(engine, tx, tasks[user]["id"], user, {"decision": "approve"})
    [gm] = _open(engine, tx, instance_id)
    _complete(engine, tx, gm["id"], "liuyang", {"decision": "approve"})
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved_amount"] == f"{600000 + rounds - 1}.00"
    completed = [h["element_id"] for h in shown["history"] if h["kind"] == "task_completed"]
    assert completed.count("revise") == rounds
    assert completed.count("countersign") == rounds * 3 + 3 and completed.count("review") == rounds * 2 + 3

"""Standing delegation (代理): from one date to another a user's new tasks go to a colleague — a task assigned to
them is assigned to the delegate, a task offered to their group is offered to the delegate too — and the history
says on behalf of whom; outside the dates or for another process it does not apply; a delegate who is the
requester still cannot approve; ending a delegation leaves handed-over tasks with the delegate."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, PermissionDenied
from engine import queries
from engine.deploy import read_paths
from engine.runtime import Engine
from erp.audit.models import AuditEntry
from erp.identity.queries import active_delegations, delegation_of, groups_of
from erp.identity.services import end_delegation, ensure_user, set_delegation
from erp.wiring import build_registry, script_globals
from forms import FormCatalog
from tests.conftest import ROOT

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def engine(tx):
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), groups_of=groups_of,
                    script_globals=script_globals(), delegations=active_delegations)
    with tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn" / "approval"]))
        ensure_user(session, "wangfang", "王芳", groups=["employees"])
        ensure_user(session, "zhangwei", "张伟", groups=["dept_manager", "contract_committee"])
        ensure_user(session, "lina", "李娜", groups=["finance_director", "contract_committee"])
        ensure_user(session, "zhoumin", "周敏", groups=["contract_committee"])
        ensure_user(session, "chenjing", "陈静", groups=["finance"])
    with clock.frozen(NOW):
        yield engine


def _delegate(tx, delegator, delegate, starts_on=date(2026, 3, 9), ends_on=date(2026, 3, 13), process_key=None):
    with tx() as session:
        set_delegation(session, delegator, delegate=delegate, starts_on=starts_on, ends_on=ends_on,
                       process_key=process_key)


def _request(engine, tx, amount="3000", requester="wangfang", **extra):
    with tx() as session:
        instance = engine.start(session, "approval", {"title": "采购", "amount": Decimal(amount),
                                                      "requester": requester, **extra}, user=requester)
    return instance.id


def _open(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)["tasks"]


def _inbox(tx, user):
    with tx(readonly=True) as session:
        return [t["id"] for t in queries.tasks(session, user=user, groups=groups_of(session, user))]


def _complete(engine, tx, task_id, user, data):
    with tx() as session:
        return engine.complete(session, task_id, data, user)


def _history(engine, tx, instance_id, kind):
    with tx(readonly=True) as session:
        return [h for h in queries.show(engine, session, instance_id)["history"] if h["kind"] == kind]


def test_a_group_task_is_also_offered_to_the_delegate_and_the_history_says_on_behalf_of(engine, tx):
    _delegate(tx, "zhangwei", "chenjing")
    instance_id = _request(engine, tx)
    [task] = _open(engine, tx, instance_id)
    assert task["candidate_groups"] == ["dept_manager"] and task["candidate_users"] == ["chenjing"]
    assert _inbox(tx, "chenjing") == [task["id"]] and _inbox(tx, "zhangwei") == [task["id"]]
    [handed] = _history(engine, tx, instance_id, "task_on_behalf")
    assert handed["data"] == {"to": "chenjing", "on_behalf_of": "zhangwei"} and "代理" in handed["message"]
    _complete(engine, tx, task["id"], "chenjing", {"decision": "approve", "comment": "代张伟审批"})
    [completed] = _history(engine, tx, instance_id, "task_completed")
    assert completed["actor"] == "chenjing" and "on behalf of zhangwei" in completed["message"]


def test_an_assigned_task_goes_to_the_delegate_instead(engine, tx):
    _delegate(tx, "zhoumin", "chenjing", process_key="approval")
    instance_id = _request(engine, tx, "600000", document_type="contract")
    for approver in ("zhangwei", "lina"):
        [task] = _open(engine, tx, instance_id)
        _complete(engine, tx, task["id"], approver, {"decision": "approve"})
    assignees = sorted(t["assignee"] for t in _open(engine, tx, instance_id))
    assert assignees == ["chenjing", "lina", "zhangwei"]
    task = next(t for t in _open(engine, tx, instance_id) if t["assignee"] == "chenjing")
    with pytest.raises(PermissionDenied):
        _complete(engine, tx, task["id"], "zhoumin", {"decision": "approve"})
    _complete(engine, tx, task["id"], "chenjing", {"decision": "approve"})
    [handed] = _history(engine, tx, instance_id, "task_on_behalf")
    assert handed["data"] == {"to": "chenjing", "on_behalf_of": "zhoumin"}


@pytest.mark.parametrize("starts_on, ends_on, process_key", [
    (date(2026, 3, 11), date(2026, 3, 13), None),  # not yet
    (date(2026, 3, 1), date(2026, 3, 9), None),  # over (set while it still ran)
    (date(2026, 3, 9), date(2026, 3, 13), "purchase_order"),  # for another process
])
def test_outside_its_dates_or_for_another_process_a_delegation_does_nothing(engine, tx, starts_on, ends_on,
                                                                             process_key):
    with clock.frozen(datetime(2026, 3, 1, 2, 0, tzinfo=UTC)):
        _delegate(tx, "zhangwei", "chenjing", starts_on, ends_on, process_key)
    instance_id = _request(engine, tx)
    [task] = _open(engine, tx, instance_id)
    assert task["candidate_users"] == [] and _inbox(tx, "chenjing") == []
    assert _history(engine, tx, instance_id, "task_on_behalf") == []


def test_a_delegate_who_is_the_requester_still_cannot_approve(engine, tx):
    _delegate(tx, "zhangwei", "wangfang")
    instance_id = _request(engine, tx)
    [task] = _open(engine, tx, instance_id)
    assert task["candidate_users"] == [] and task["excluded_users"] == ["wangfang"]
    assert task["id"] not in _inbox(tx, "wangfang")
    with pytest.raises(PermissionDenied, match="no one approves their own request"):
        _complete(engine, tx, task["id"], "wangfang", {"decision": "approve"})
    _complete(engine, tx, task["id"], "zhangwei", {"decision": "approve"})


def test_an_assigned_task_stays_with_its_assignee_when_the_delegate_is_the_requester(engine, tx):
    _delegate(tx, "zhoumin", "wangfang")
    instance_id = _request(engine, tx, "600000", document_type="contract")
    for approver in ("zhangwei", "lina"):
        [task] = _open(engine, tx, instance_id)
        _complete(engine, tx, task["id"], approver, {"decision": "approve"})
    assert sorted(t["assignee"] for t in _open(engine, tx, instance_id)) == ["lina", "zhangwei", "zhoumin"]


def test_ending_the_delegation_leaves_handed_over_tasks_and_stops_new_ones(engine, tx):
    _delegate(tx, "zhangwei", "chenjing")
    first = _request(engine, tx)
    with tx() as session:
        assert end_delegation(session, "zhangwei") == 1
        assert delegation_of(session, "zhangwei") is None
    [task] = _open(engine, tx, first)
    assert task["candidate_users"] == ["chenjing"] and _inbox(tx, "chenjing") == [task["id"]]
    second = _request(engine, tx)
    [new] = _open(engine, tx, second)
    assert new["candidate_users"] == [] and _inbox(tx, "chenjing") == [task["id"]]
    with tx(readonly=True) as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["delegation.set", "delegation.end"]


def test_a_new_delegation_replaces_the_current_one(engine, tx):
    _delegate(tx, "zhangwei", "chenjing")
    _delegate(tx, "zhangwei", "lina", process_key="approval")
    with tx(readonly=True) as session:
        assert active_delegations(session, clock.now()) == [("zhangwei", "lina", "approval")]
        assert delegation_of(session, "zhangwei")["delegate"] == "lina"


@pytest.mark.parametrize("delegate, starts_on, ends_on, field", [
    ("zhangwei", date(2026, 3, 9), date(2026, 3, 13), "delegate"),  # oneself
    ("nobody", date(2026, 3, 9), date(2026, 3, 13), "delegate"),
    ("", date(2026, 3, 9), date(2026, 3, 13), "delegate"),
    ("lina", date(2026, 3, 13), date(2026, 3, 9), "ends_on"),
    ("lina", date(2026, 3, 1), date(2026, 3, 9), "ends_on"),  # already over
])
def test_a_delegation_needs_another_user_and_dates_not_over(engine, tx, delegate, starts_on, ends_on, field):
    with pytest.raises(InvalidInput) as invalid:
        _delegate(tx, "zhangwei", delegate, starts_on, ends_on)
    assert field in invalid.value.errors

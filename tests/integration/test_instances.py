"""Instances and human tasks: start, the inbox projection, permissions, form validation, administration."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine import queries
from engine.errors import InstanceNotActive
from engine.models import HumanTask, ProcessInstance
from erp.identity.services import ensure_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def simple(deploy, tx):
    deploy("simple_task.bpmn")
    with tx() as session:
        ensure_user(session, "clerk", "王芳", groups=["clerks"])
        ensure_user(session, "clerk2", "李娜", groups=["clerks"])
        ensure_user(session, "outsider", "赵强", groups=["sales"])


def _start(engine, tx, data=None, **kwargs):
    with clock.frozen(T0), tx() as session:
        instance = engine.start(session, "simple_task", data or {"amount": Decimal("100.00")}, **kwargs)
        [task] = queries.tasks(session, instance_id=instance.id)
        return instance.id, task


def test_start_runs_to_the_first_user_task_and_puts_it_in_the_inbox(simple, engine, tx):
    instance_id, task = _start(engine, tx, business_key="SO-2026-0001", user="clerk")
    assert task["element_id"] == "approve" and task["name"] == "Approve"
    assert task["form_key"] == "simple/approve" and task["lane"] == "clerks"
    assert task["candidate_groups"] == ["clerks"] and task["assignee"] is None
    assert task["priority"] == 80
    assert task["due_at"] == (T0 + timedelta(days=2)).isoformat()
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "running" and shown["business_key"] == "SO-2026-0001"
    assert shown["history"][0]["kind"] == "started" and shown["history"][0]["actor"] == "clerk"
    assert shown["history"][0]["data"] == {"amount": "100.00"}


def test_a_users_inbox_holds_the_tasks_of_their_groups_only(simple, engine, tx):
    _start(engine, tx)
    with tx(readonly=True) as session:
        mine = queries.tasks(session, user="clerk", groups={"clerks"})
        theirs = queries.tasks(session, user="outsider", groups={"sales"})
    assert len(mine) == 1 and theirs == []


def test_completing_runs_the_instance_to_its_end_and_records_who_did_what(simple, engine, tx):
    instance_id, task = _start(engine, tx)
    with tx() as session:
        instance = engine.complete(session, task["id"], {"approved": True, "comment": "好"}, "clerk")
        assert instance.status == "completed"
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
        row = session.get(HumanTask, task["id"])
    assert (row.status, row.completed_by) == ("completed", "clerk")
    kinds = [(h["kind"], h["element_id"]) for h in shown["history"]]
    assert ("task_completed", "approve") in kinds and ("element_completed", "tally") in kinds
    assert kinds[-1] == ("completed", None)
    done = next(h for h in shown["history"] if h["kind"] == "task_completed")
    assert done["actor"] == "clerk" and done["data"] == {"approved": True, "comment": "好"}
    assert shown["data"]["vat"] == "13.00" and shown["data"]["tallied"] is True


def test_money_stays_decimal_through_save_and_load(simple, engine, tx):
    instance_id, task = _start(engine, tx, {"amount": Decimal("0.10")})
    with tx() as session:
        engine.complete(session, task["id"], {"approved": True, "amount": Decimal("19.99")}, "clerk")
    with tx(readonly=True) as session:
        _, workflow = engine.load(session, instance_id)
    assert workflow.data["vat"] == Decimal("2.60") and isinstance(workflow.data["amount"], Decimal)


def test_invalid_form_data_gets_field_errors_and_changes_nothing(simple, engine, tx):
    instance_id, task = _start(engine, tx)
    with tx(readonly=True) as session:
        before = session.get(ProcessInstance, instance_id)
        state, version = before.state, before.lock_version
    with pytest.raises(InvalidInput) as invalid:
        with tx() as session:
            engine.complete(session, task["id"], {"amount": -5, "comment": "x" * 30,
                                                  "lines": [{"sku": "A-1", "qty": 0}]}, "clerk")
    assert set(invalid.value.errors) == {"approved", "amount", "comment", "lines.0.qty"}
    with tx(readonly=True) as session:
        after = session.get(ProcessInstance, instance_id)
        assert (after.state, after.lock_version) == (state, version)
        assert session.get(HumanTask, task["id"]).status == "open"


def test_only_a_candidate_may_complete(simple, engine, tx):
    _, task = _start(engine, tx)
    with pytest.raises(PermissionDenied, match="outsider may not work on task"):
        with tx() as session:
            engine.complete(session, task["id"], {"approved": True}, "outsider")


def test_a_claimed_task_belongs_to_the_claimer(simple, engine, tx):
    _, task = _start(engine, tx)
    with tx() as session:
        engine.claim(session, task["id"], "clerk")
    with pytest.raises(Conflict, match="already claimed by clerk"):
        with tx() as session:
            engine.claim(session, task["id"], "clerk2")
    with pytest.raises(PermissionDenied):
        with tx() as session:
            engine.complete(session, task["id"], {"approved": True}, "clerk2")
    with tx(readonly=True) as session:
        assert queries.tasks(session, user="clerk2", groups={"clerks"}) == []
    with tx() as session:
        engine.unclaim(session, task["id"], "clerk")
        engine.complete(session, task["id"], {"approved": False}, "clerk2")


def test_a_task_cannot_be_completed_twice(simple, engine, tx):
    _, task = _start(engine, tx)
    with tx() as session:
        engine.complete(session, task["id"], {"approved": True}, "clerk")
    with pytest.raises(Conflict, match="already completed"):
        with tx() as session:
            engine.complete(session, task["id"], {"approved": True}, "clerk")


def test_suspend_blocks_work_and_resume_allows_it_again(simple, engine, tx):
    instance_id, task = _start(engine, tx)
    with tx() as session:
        engine.suspend(session, instance_id, user="admin")
    with pytest.raises(InstanceNotActive):
        with tx() as session:
            engine.complete(session, task["id"], {"approved": True}, "clerk")
    with tx() as session:
        engine.resume(session, instance_id, user="admin")
        engine.complete(session, task["id"], {"approved": True}, "clerk")
    with tx(readonly=True) as session:
        kinds = [h["kind"] for h in queries.show(engine, session, instance_id)["history"]]
    assert kinds.index("suspended") < kinds.index("resumed") < kinds.index("task_completed")


def test_terminate_cancels_open_work(simple, engine, tx):
    instance_id, task = _start(engine, tx)
    with tx() as session:
        engine.terminate(session, instance_id, user="admin", reason="客户取消")
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
        assert session.get(HumanTask, task["id"]).status == "cancelled"
    assert shown["status"] == "terminated" and shown["tasks"] == []
    assert shown["history"][-1]["kind"] == "terminated" and shown["history"][-1]["message"] == "客户取消"
    with pytest.raises(InstanceNotActive):
        with tx() as session:
            engine.terminate(session, instance_id)


def test_unknown_things_are_reported_as_not_found(simple, engine, tx):
    with pytest.raises(NotFound, match="no process definition with key 'nope'"):
        with tx() as session:
            engine.start(session, "nope")
    with pytest.raises(NotFound):
        with tx() as session:
            engine.complete(session, 999, {}, "clerk")
    with pytest.raises(NotFound):
        with tx(readonly=True) as session:
            queries.show(engine, session, 999)


def test_a_loop_reuses_the_inbox_for_each_round(deploy, engine, tx):
    deploy("rework.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "rework", {"target": 3}).id
    for _ in range(3):
        with tx() as session:
            [task] = queries.tasks(session, instance_id=instance_id)
            engine.complete(session, task["id"], {}, "anyone")
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
    assert shown["status"] == "completed" and shown["data"]["rounds"] == 3
    assert [r.status for r in rows] == ["completed"] * 3

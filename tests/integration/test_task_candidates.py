"""Candidate rows exist for open tasks only: completing, cancelling or terminating drops them, so inbox queries
read open work however long the history grows; the task row keeps its candidates as lists."""
from __future__ import annotations

from sqlalchemy import select

from engine import queries
from engine.models import HumanTask, TaskCandidate
from engine.store import EVERYONE
from erp.identity.services import ensure_user
from tests.bpmn_text import one_task


def _candidates(tx, task_id):
    with tx(readonly=True) as session:
        return sorted((c.user_name, c.group_name) for c in session.scalars(
            select(TaskCandidate).where(TaskCandidate.task_id == task_id)))


def _start(engine, tx):
    with tx() as session:
        instance = engine.start(session, "simple_task", {}, user="wangfang")
        [task] = queries.tasks(session, instance_id=instance.id)
    return instance, task


def test_completion_drops_the_task_candidates_but_not_its_lists(database, engine, deploy, tx):
    deploy("simple_task.bpmn")
    with tx() as session:
        ensure_user(session, "lisi", groups=["clerks"])
    _instance, task = _start(engine, tx)
    assert _candidates(tx, task["id"]) == [(None, "clerks")]
    with tx() as session:
        engine.complete(session, task["id"], {"approved": True}, "lisi")
    assert _candidates(tx, task["id"]) == []
    with tx(readonly=True) as session:
        assert session.get(HumanTask, task["id"]).candidate_groups == ["clerks"]


def test_termination_drops_the_candidates_of_its_open_tasks(database, engine, deploy, tx):
    deploy("simple_task.bpmn")
    instance, task = _start(engine, tx)
    with tx() as session:
        engine.terminate(session, instance.id, user="admin", reason="test")
    assert _candidates(tx, task["id"]) == []


def test_a_task_naming_nobody_is_open_to_everyone_who_may_then_see_and_copy_it(database, engine, tx):
    with tx() as session:
        engine.deploy(session, {"open.bpmn": one_task("open_to_all", '<bpmn:userTask id="t" name="Note"/>')})
        for name in ("wangfang", "zhangwei", "lina"):
            ensure_user(session, name)
        instance = engine.start(session, "open_to_all", {}, user="wangfang")
        [task] = queries.tasks(session, instance_id=instance.id)
    assert _candidates(tx, task["id"]) == [(None, EVERYONE)]
    with tx(readonly=True) as session:
        assert [t["id"] for t in queries.tasks(session, user="zhangwei")] == [task["id"]]
        assert engine.can_see_instance(session, instance, "zhangwei")
    with tx() as session:
        assert engine.copy_to(session, task["id"], "zhangwei", ["lina"]) == ["lina"]

"""Saved state is bounded by live work, not history: long rework loops and long script loops."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import queries
from engine.models import HistoryEvent, HumanTask, ProcessInstance


def test_a_rework_loop_of_1000_rounds_keeps_its_state_flat_and_ends_correctly(deploy, engine, tx):
    deploy("rework.bpmn")
    rounds = 1000
    with tx() as session:
        instance_id = engine.start(session, "rework", {"target": rounds}).id
    sizes = {}
    for n in range(1, rounds + 1):
        with tx() as session:
            task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                 HumanTask.status == "open"))
            instance = engine.complete(session, task_id, {"note": f"round {n}"}, "worker")
            if n < rounds:
                assert instance.status == "running", f"reported {instance.status} after {n} rounds"
            if n in (10, 500, 999):
                sizes[n] = len(instance.state)
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
        completed = session.scalar(select(func.count()).select_from(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "task_completed"))
    assert shown["status"] == "completed" and shown["data"]["rounds"] == rounds
    assert completed == rounds
    assert sizes[999] <= sizes[10] * 1.1, sizes  # ~flat: the saved state does not grow with history


@pytest.mark.parametrize("n", [1000, 3000])
def test_a_script_back_edge_loop_runs_to_its_real_end_in_one_step(deploy, engine, tx, n):
    deploy("script_loop.bpmn")
    with tx() as session:
        instance = engine.start(session, "script_loop", {"i": 0, "total": 0, "n": n})
        instance_id = instance.id
        state_size = len(instance.state)
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
        steps = session.scalar(select(func.count()).select_from(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.element_id == "step"))
    assert shown["status"] == "completed", shown["incidents"]
    assert (shown["data"]["i"], shown["data"]["total"]) == (n, n * (n + 1) // 2)
    assert steps == n  # every iteration is in the history exactly once
    assert state_size < 20_000


def test_a_compacted_instance_survives_a_reload_between_every_round(deploy, engine, tx):
    """Load → complete → compact → save per round, in a subprocess call too (call activity)."""
    deploy("rework.bpmn", "caller.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "caller", {"target": 60}).id
    for _ in range(60):
        with tx() as session:
            [task] = queries.tasks(session, instance_id=instance_id)
            engine.complete(session, task["id"], {}, "worker")
    with tx(readonly=True) as session:
        row = session.get(ProcessInstance, instance_id)
        assert row.status == "completed"

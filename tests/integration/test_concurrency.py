"""Two people completing the same task at the same moment, from two real connections."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.errors import Conflict
from engine import queries
from engine.models import HistoryEvent, ProcessInstance


def test_two_completions_of_the_same_task_exactly_one_wins(deploy, engine, tx, database, monkeypatch):
    deploy("rework.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "rework", {"target": 5}).id
        [task] = queries.tasks(session, instance_id=instance_id)
        version_before = session.get(ProcessInstance, instance_id).lock_version

    # Hold each completion just before it writes, so both have read the same state (PostgreSQL). On SQLite
    # the second writer cannot even begin while the first holds the write lock; the wait then times out.
    barrier = threading.Barrier(2)
    save = engine._save

    def save_after_both_read(step):
        try:
            barrier.wait(timeout=1.5)
        except threading.BrokenBarrierError:
            pass
        save(step)

    monkeypatch.setattr(engine, "_save", save_after_both_read)
    outcomes = []

    def complete(user):
        try:
            with database.transaction() as session:
                engine.complete(session, task["id"], {}, user)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc}")

    threads = [threading.Thread(target=complete, args=(u,)) for u in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes

    with tx(readonly=True) as session:
        assert session.get(ProcessInstance, instance_id).lock_version == version_before + 1
        completions = session.scalar(select(func.count()).select_from(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "task_completed"))
        assert completions == 1
        shown = queries.show(engine, session, instance_id)
    assert shown["data"]["rounds"] == 1 and len(shown["tasks"]) == 1

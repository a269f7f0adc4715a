"""The worker fires every due timer exactly once: in batches, with several worker processes, after a kill -9,
and wakes early for a nearer timer instead of sleeping through it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from engine import queries
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from erp.worker import Worker
from tests.conftest import ROOT

T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def _start_many(engine, tx, n, key="timers", data=None, at=None):
    with clock.frozen(at or T0), tx() as session:
        return [engine.start(session, key, data or {}).id for _ in range(n)]


def _fired_counts(tx, ids):
    with tx(readonly=True) as session:
        rows = session.execute(select(HistoryEvent.instance_id, func.count()).where(
            HistoryEvent.kind == "timer_fired", HistoryEvent.instance_id.in_(ids))
            .group_by(HistoryEvent.instance_id)).all()
    return dict(rows)


def _wait_for(predicate, timeout=60.0, every=0.1):
    """Liveness, not timing: poll until true or give up (the assertion is on the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def test_the_worker_fires_all_due_timers_in_batches_exactly_once(deploy, engine, tx, database):
    deploy("timers.bpmn")
    ids = _start_many(engine, tx, 45)
    worker = Worker(database, engine, batch=10)
    assert worker.next_due() == T0 + timedelta(minutes=10)
    assert worker.fire_due_timers() == 45  # all due: T0 is in the past
    assert worker.fire_due_timers() == 0
    assert _fired_counts(tx, ids) == {i: 1 for i in ids}
    # each now waits at the user task, guarded by its one-hour boundary timer
    assert worker.next_due() > T0 + timedelta(hours=1)


def test_after_downtime_a_cycle_timer_fires_once_and_skips_the_missed_occurrences(deploy, engine, tx, database):
    deploy("reminders.bpmn")
    [instance_id] = _start_many(engine, tx, 1, key="reminders")
    with tx() as session:  # the worker was down from T0 until 2.5 hours later
        engine.fire_due_timers(session, T0 + timedelta(hours=2, minutes=30))
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    kinds = [h["kind"] for h in shown["history"]]
    assert kinds.count("timer_fired") == 1 and kinds.count("timer_skipped") == 1
    assert [h["element_id"] for h in shown["history"]].count("remind") == 1
    assert shown["next_timer_at"] == (T0 + timedelta(hours=3)).isoformat()
    with tx() as session:
        engine.fire_due_timers(session, T0 + timedelta(hours=3, seconds=1))
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert [h["element_id"] for h in shown["history"]].count("remind") == 2  # R3: one of three was missed
    assert shown["next_timer_at"] is None


def test_a_running_worker_wakes_early_for_a_nearer_timer(deploy, engine, tx, database):
    deploy("quick_timer.bpmn")
    worker = Worker(database, engine, max_sleep=300, poll=0.2)
    worker.start()
    try:
        time.sleep(0.5)  # the worker is now asleep with nothing due for 300 s
        with tx() as session:
            instance_id = engine.start(session, "quick_timer", {"delay": "PT1S"}).id
        assert _wait_for(lambda: _fired_counts(tx, [instance_id]) == {instance_id: 1}, timeout=30)
    finally:
        worker.stop()
    # asleep for up to 300 s with nothing due, the worker still stops: its threads have ended (on PostgreSQL the
    # LISTEN loop waited for a notification up to max_sleep, and stop() gave up joining it after 30 s)
    assert not any(thread.is_alive() for thread in worker._threads)


def _worker_process(database_url, *args):
    env = {**os.environ, "ERP_DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "erp.cli", "worker", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_several_worker_processes_fire_1000_timers_each_exactly_once(deploy, engine, tx, database, database_url):
    deploy("timers.bpmn")
    ids = _start_many(engine, tx, 1000)
    processes = 3 if not database.is_sqlite else 2  # SQLite: one writer at a time, a second must not harm
    workers = [_worker_process(database_url, "--once", "--batch", "25") for _ in range(processes)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0] * processes, outputs
    fired_per_worker = [json.loads(out.strip().splitlines()[-1])["timers"] for out, _ in outputs]
    assert sum(fired_per_worker) == 1000
    assert _fired_counts(tx, ids) == {i: 1 for i in ids}
    with tx(readonly=True) as session:
        open_tasks = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id.in_(ids), HumanTask.status == "open"))
    assert open_tasks == 1000


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(deploy, engine, tx, database, database_url):
    deploy("timers.bpmn")
    ids = _start_many(engine, tx, 600)
    victim = _worker_process(database_url, "--batch", "50", "--max-sleep", "5")

    def some_fired():
        return sum(_fired_counts(tx, ids).values()) >= 50

    assert _wait_for(some_fired, timeout=120)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    survivor = _worker_process(database_url, "--once")
    out, err = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, err
    assert _fired_counts(tx, ids) == {i: 1 for i in ids}
    with tx(readonly=True) as session:
        waiting = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.id.in_(ids), ProcessInstance.next_timer_at <= T0 + timedelta(minutes=10)))
    assert waiting == 0


@pytest.mark.parametrize("when", ["date", "duration"])
def test_timer_expressions_from_data_are_honoured(deploy, engine, tx, database, when):
    deploy("quick_timer.bpmn")
    delay = "PT2H" if when == "duration" else None
    with clock.frozen(T0), tx() as session:
        instance_id = engine.start(session, "quick_timer", {"delay": delay or "PT30M"}).id
        due = session.get(ProcessInstance, instance_id).next_timer_at
    assert due == T0 + (timedelta(hours=2) if delay else timedelta(minutes=30))



def test_the_worker_process_sends_the_mail_its_timers_caused(deploy, tx, database, database_url, operators):
    """End to end through `erp worker --once`: a timer fires, the next task (due in two working days on the
    Chinese calendar) is mailed by the same worker run to a real SMTP server."""
    from engine.runtime import Engine
    from erp.identity.services import ensure_user
    from erp.wiring import calendar_cache, script_globals
    from forms import FormCatalog
    from tests.conftest import FIXTURES
    from tests.mail_server import MailServer

    server = MailServer()
    server.start()
    try:
        calendar_cache.clear()
        engine = Engine(operators, FormCatalog(FIXTURES / "forms"), script_globals=script_globals())
        deploy("timed_handoff.bpmn", engine_=engine)
        with tx() as session:
            ensure_user(session, "zhaoqiang", "赵强", email="zhaoqiang@example.cn")
        with clock.frozen(T0), tx() as session:
            instance_id = engine.start(session, "timed_handoff", {"starter": "zhaoqiang"}).id
        env = {"ERP_DATABASE_URL": database_url, "ERP_MAIL_SERVER": server.host, "ERP_MAIL_PORT": str(server.port),
               "ERP_MAIL_TIMEOUT": "5", "ERP_BASE_URL": "http://erp.test"}
        worker = subprocess.run([sys.executable, "-m", "erp.cli", "worker", "--once"], cwd=ROOT, timeout=300,
                                env={**os.environ, **env}, capture_output=True, text=True)
        assert worker.returncode == 0, worker.stderr
        assert json.loads(worker.stdout.strip().splitlines()[-1])["timers"] == 1
        [message] = server.messages
        assert message["To"] == "zhaoqiang@example.cn" and "Follow up" in message["Subject"]
        with tx(readonly=True) as session:
            [task] = queries.tasks(session, instance_id=instance_id)
        due = datetime.fromisoformat(task["due_at"])
        assert (due - datetime.fromisoformat(task["created_at"])) >= timedelta(days=2)
        assert f"http://erp.test/tasks/{task['id']}" in message.get_body(("plain",)).get_content()
    finally:
        server.stop()

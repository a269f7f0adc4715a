"""`erp bench engine`: our persisted engine against in-memory SpiffWorkflow, rework-loop flatness and SQL
statements per step, on SQLite and (when reachable) PostgreSQL. Prints `name: value` lines.

Floor and persisted runs alternate in batches and each figure is the median of its batches, so a noisy
neighbour on the machine hurts both sides alike.
"""
from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, event, select, text

from core.db import Database
from core.migrate import upgrade
from engine.deploy import read_paths
from engine.models import HumanTask
from engine.runtime import Engine
from forms import FormCatalog

DIAGRAM = Path(__file__).parent / "diagrams" / "bench.bpmn"
BATCHES = 5


def run(rounds: int, postgres_url: str | None, out=print) -> dict:
    figures = {}
    floor = _floor_runner()
    for name, url, cleanup in _databases(postgres_url, out):
        try:
            figures.update(_measure(name, url, floor, rounds, out))
        finally:
            cleanup()
    return figures


def _floor_runner():
    """SpiffWorkflow alone, in memory: parse once, then start → user task → complete → end."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(DIAGRAM))
    spec = parser.get_spec("bench_task")

    def one():
        workflow = BpmnWorkflow(spec)
        next(t for t in workflow.tasks.values() if t.state == TaskState.READY).data.update({"amount": 21})
        workflow.do_engine_steps()
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update({"ok": True})
        task.run()
        workflow.do_engine_steps()
        assert workflow.completed

    return one


def _persisted_runner(database: Database, engine: Engine):
    def one():
        with database.transaction() as session:
            instance = engine.start(session, "bench_task", {"amount": 21})
        with database.transaction() as session:
            task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
            done = engine.complete(session, task_id, {"ok": True}, "bench")
        assert done.status == "completed"

    return one


def _measure(name, url, floor, rounds, out) -> dict:
    upgrade(url)
    database = Database(url)
    engine = Engine(forms=FormCatalog(Path(tempfile.gettempdir())))
    with database.transaction() as session:
        engine.deploy(session, read_paths([DIAGRAM]))
    persisted = _persisted_runner(database, engine)
    for _ in range(20):  # warm caches and connections
        floor()
        persisted()
    per_batch = max(rounds // BATCHES, 1)
    floor_rates, persisted_rates = [], []
    for _ in range(BATCHES):
        floor_rates.append(_rate(floor, per_batch))
        persisted_rates.append(_rate(persisted, per_batch))
    floor_ops, persisted_ops = statistics.median(floor_rates), statistics.median(persisted_rates)
    sql_start, sql_complete = _sql_counts(database, engine)
    rework = _rework_ratio(database, engine)
    figures = {
        f"{name}.floor_ops_per_s": round(floor_ops, 1),
        f"{name}.persisted_ops_per_s": round(persisted_ops, 1),
        f"{name}.persisted_vs_floor_ratio": round(persisted_ops / floor_ops, 3),
        f"{name}.rework_1000_vs_10_ratio": round(rework, 3),
        f"{name}.sql_per_start": sql_start,
        f"{name}.sql_per_completion": sql_complete,
    }
    for key, value in figures.items():
        out(f"{key}: {value}")
    database.dispose()
    return figures


def _rate(fn, n) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


@contextmanager
def _counting(database):
    counted = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            counted.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def _sql_counts(database, engine) -> tuple[int, int]:
    """Statements a start and a completion issue (transaction control not counted)."""
    with _counting(database) as started:
        with database.transaction() as session:
            instance = engine.start(session, "bench_task", {"amount": 21})
    with database.transaction() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    with _counting(database) as completed:
        with database.transaction() as session:
            engine.complete(session, task_id, {"ok": True}, "bench")
    return len(started), len(completed)


def _rework_ratio(database, engine, window: int = 30) -> float:
    """Median seconds per round over rounds 10-40 against rounds 1,000-1,030."""
    with database.transaction() as session:
        instance_id = engine.start(session, "bench_rework", {"rounds": 0, "target": 10_000}).id

    def round_():
        with database.transaction() as session:
            task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                 HumanTask.status == "open"))
            engine.complete(session, task_id, {}, "bench")

    timings = {}
    done = 0
    for mark in (10, 1000):
        while done < mark:
            round_()
            done += 1
        samples = []
        for _ in range(window):
            start = time.perf_counter()
            round_()
            samples.append(time.perf_counter() - start)
        done += window
        timings[mark] = statistics.median(samples)
    return timings[1000] / timings[10]


def _databases(postgres_url, out):
    folder = tempfile.mkdtemp(prefix="erp-bench-")
    yield "sqlite", f"sqlite:///{folder}/bench.sqlite3", lambda: None
    if not postgres_url:
        return
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except Exception as exc:
        out(f"postgresql: skipped ({type(exc).__name__}: not reachable)")
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    yield "postgresql", admin.url.set(database=name).render_as_string(hide_password=False), drop

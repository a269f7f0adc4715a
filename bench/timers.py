"""`erp bench timers`: how late the worker fires timers, and what it costs while idle.

Creates N instances waiting on date timers spread over a few minutes plus a batch of 5-second timers, starts
one `erp worker` process, waits until every timer has fired, and reads each firing's lateness (history time
minus due time) from the database. Then measures the worker's CPU while nothing is due. Prints `name: value`.
"""
from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.engine import _databases
from core import clock
from core.db import Database
from core.migrate import upgrade
from engine.deploy import read_paths
from engine.models import HistoryEvent, ProcessInstance
from engine.runtime import Engine
from forms import FormCatalog

DIAGRAM = Path(__file__).parent / "diagrams" / "timer_bench.bpmn"
ROOT = Path(__file__).resolve().parent.parent


def run(timers: int, spread: float, quick: int, postgres_url: str | None, out=print) -> dict:
    figures = {}
    for name, url, cleanup in _databases(postgres_url, out):
        try:
            figures.update(_measure(name, url, timers, spread, quick, out))
        finally:
            cleanup()
    return figures


def _measure(name, url, timers, spread, quick, out) -> dict:
    upgrade(url)
    database = Database(url)
    engine = Engine(forms=FormCatalog(Path(tempfile.gettempdir())))
    with database.transaction() as session:
        engine.deploy(session, read_paths([DIAGRAM]))
    setup_started = time.monotonic()
    lead = timedelta(seconds=20 + timers / 120)  # creating the instances takes a while; nothing may fall due yet
    first = clock.now() + lead
    dues = [first + timedelta(seconds=random.uniform(0, spread)) for _ in range(timers)]
    for chunk in range(0, timers, 500):
        with database.transaction() as session:
            for due in dues[chunk:chunk + 500]:
                engine.start(session, "bench_timer", {"due": due.isoformat()})
    out(f"{name}.setup_s: {time.monotonic() - setup_started:.1f}")
    if clock.now() > first:
        out(f"{name}.warning: setup outlasted the lead time; timers due during setup fired when created")
    worker = subprocess.Popen([sys.executable, "-m", "erp.cli", "worker", "--max-sleep", "30"], cwd=ROOT,
                              env={**os.environ, "ERP_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_until(first + timedelta(seconds=spread / 2))
        with database.transaction() as session:  # 5-second timers created while the worker is busy
            for _ in range(quick):
                engine.start(session, "bench_timer", {"due": (clock.now() + timedelta(seconds=5)).isoformat()})
        total = timers + quick
        deadline = time.monotonic() + spread + 300
        while _pending(database) and time.monotonic() < deadline:
            time.sleep(1)
        lateness = _lateness(database)
        idle = _idle_cpu_percent(worker.pid, seconds=10)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    database.dispose()
    lateness.sort()
    figures = {
        f"{name}.timers_fired": len(lateness),
        f"{name}.timers_expected": total,
        f"{name}.lateness_p50_s": round(statistics.median(lateness), 3),
        f"{name}.lateness_p99_s": round(lateness[int(len(lateness) * 0.99) - 1], 3),
        f"{name}.lateness_max_s": round(lateness[-1], 3),
        f"{name}.idle_cpu_percent": round(idle, 2),
    }
    for key, value in figures.items():
        out(f"{key}: {value}")
    return figures


def _wait_until(moment: datetime) -> None:
    while clock.now() < moment:
        time.sleep(0.5)


def _pending(database) -> int:
    with database.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.next_timer_at.is_not(None)))


def _lateness(database) -> list[float]:
    with database.transaction(readonly=True) as session:
        rows = session.execute(select(HistoryEvent.at, HistoryEvent.data).where(
            HistoryEvent.kind == "timer_fired")).all()
        pending = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.next_timer_at.is_not(None)))
    if pending:
        print(f"warning: {pending} timers still pending", file=sys.stderr)
    return [(at - datetime.fromisoformat(data["due_at"])).total_seconds() for at, data in rows]


def _idle_cpu_percent(pid: int, seconds: float) -> float:
    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before, started = cpu(), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu() - before) / (time.monotonic() - started)

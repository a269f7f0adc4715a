"""The worker process: APScheduler fires BPMN timers when they are due, sends the mail outbox, escalates
overdue tasks and runs the registered periodic jobs. This is the only module that imports APScheduler.

Timers are not polled by loading instances: the worker asks the database for the earliest due time (one
indexed MIN query), sleeps until then (at most `max_sleep`), and is woken early when a nearer timer appears:
on PostgreSQL by a NOTIFY the engine sends when it commits an instance with a timer, on SQLite (one worker)
by re-reading the earliest due time every `poll` seconds. Due instances are claimed one batch per short
transaction (FOR UPDATE SKIP LOCKED on PostgreSQL), so any number of workers fire each timer exactly once and
a killed worker loses nothing: its open transaction rolls back and the timers stay due.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

from core import clock
from core.errors import Conflict
from engine.models import ProcessInstance
from engine.stepping import ACTIVE, TIMER_CHANNEL

log = logging.getLogger(__name__)


def cron_trigger(schedule: str, timezone: str = "Asia/Shanghai") -> CronTrigger:
    """A crontab schedule ("minute hour day month weekday") in the company's time zone."""
    return CronTrigger.from_crontab(schedule, timezone=timezone)


class Worker:
    def __init__(self, database, engine, *, batch: int = 20, max_sleep: float = 30.0, poll: float = 1.0,
                 periodic_jobs=None, outbox_sender=None, outbox_every: float = 5.0,
                 timezone: str = "Asia/Shanghai", name: str | None = None):
        self.database = database
        self.engine = engine
        self.batch = batch
        self.max_sleep = max_sleep
        self.poll = poll
        self.periodic_jobs = periodic_jobs
        self.outbox_sender = outbox_sender
        self.outbox_every = outbox_every
        self.timezone = timezone
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.scheduler: BackgroundScheduler | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ one pass (also `erp worker --once`)

    def fire_due_timers(self) -> int:
        """Fire every timer due now, one short transaction per batch; returns how many instances moved."""
        total, busy = 0, 0
        while not self._stopping.is_set():
            try:
                with self.database.transaction() as session:
                    fired = self.engine.fire_due_timers(session, clock.now(), limit=self.batch)
            except Conflict:  # another worker holds the SQLite write lock or changed the instance first
                busy += 1
                if busy > 20:
                    log.warning("database busy; leaving the remaining due timers for the next run")
                    break
                self._stopping.wait(min(0.05 * busy, 1.0))
                continue
            total += len(fired)
            if len(fired) < self.batch:
                break
        return total

    def next_due(self) -> datetime | None:
        with self.database.transaction(readonly=True) as session:
            return session.scalar(select(func.min(ProcessInstance.next_timer_at))
                                  .where(ProcessInstance.status.in_(ACTIVE)))

    def run_once(self) -> dict:
        """What is due now, once: timers, then the mail they caused (periodic jobs keep their schedules)."""
        done = {"timers": self.fire_due_timers()}
        if self.outbox_sender is not None:
            done["mail"] = self.outbox_sender()
        return done

    # ------------------------------------------------------------------ the long-running scheduler

    def start(self) -> None:
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                      "misfire_grace_time": None})
        self.scheduler = scheduler
        scheduler.add_job(self._timers_job, "interval", seconds=self.max_sleep, id="timers",
                          next_run_time=clock.now())
        if self.outbox_sender is not None:
            scheduler.add_job(self.outbox_sender, "interval", seconds=self.outbox_every, id="outbox")
        for job in (self.periodic_jobs.all() if self.periodic_jobs is not None else []):
            scheduler.add_job(self.periodic_jobs.run, cron_trigger(job.schedule, self.timezone),
                              args=[job.name], id=f"job:{job.name}")
        scheduler.start()
        waker = self._listen_postgres if self.database.engine.dialect.name == "postgresql" else self._poll_due
        threading.Thread(target=waker, name="timer-waker", daemon=True).start()
        log.info("worker %s started", self.name)

    def stop(self) -> None:
        self._stopping.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stopping.wait(1.0):
                pass
        finally:
            self.stop()

    def _timers_job(self) -> None:
        try:
            self.fire_due_timers()
        except Exception:  # keep the worker alive; the timers stay due and are tried again
            log.exception("firing due timers failed")
        self._reschedule()

    def _reschedule(self, only_earlier: bool = False) -> None:
        """Run the timers job at the earliest due time, but never later than max_sleep from now; with
        `only_earlier`, move it only if a nearer timer has appeared (the wake-up path)."""
        job = self.scheduler.get_job("timers") if self.scheduler else None
        if job is None:
            return
        now = clock.now()
        due = self.next_due()
        when = now + timedelta(seconds=self.max_sleep)
        if due is not None and due < when:
            when = max(due, now)
        if only_earlier and job.next_run_time is not None and when >= job.next_run_time:
            return
        if job.next_run_time is None or abs((job.next_run_time - when).total_seconds()) > 0.001:
            job.modify(next_run_time=when)

    def _poll_due(self) -> None:
        while not self._stopping.wait(self.poll):
            self._reschedule(only_earlier=True)

    def _listen_postgres(self) -> None:
        """LISTEN for the engine's NOTIFY; fall back to polling if the connection breaks."""
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {TIMER_CHANNEL}")
                    self._reschedule(only_earlier=True)
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=self.max_sleep, stop_after=1):
                            self._reschedule(only_earlier=True)
            except Exception:
                log.exception("timer LISTEN connection lost; polling until it is back")
                self._stopping.wait(self.poll)

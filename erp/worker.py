"""The worker process: fires BPMN timers when they are due, and through APScheduler sends the mail outbox
and runs the registered periodic jobs (escalation among them). This is the only module importing APScheduler.

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
from engine.models import ProcessInstance, TimerStart
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
        self._wake = threading.Event()
        self._sleeping_until = clock.now()

    # ------------------------------------------------------------------ one pass (also `erp worker --once`)

    def fire_due_timers(self) -> int:
        """Fire every timer due now, one short transaction per batch; returns how many instances moved."""
        total, busy = 0, 0
        while not self._stopping.is_set():
            try:
                with self.database.transaction() as session:
                    fired = self.engine.fire_due_timers(session, clock.now(), limit=self.batch)
                    fired += self.engine.start_scheduled_processes(session, clock.now(), limit=self.batch)
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
        """The earliest due timer of any instance, or start of a scheduled process."""
        with self.database.transaction(readonly=True) as session:
            timer = session.scalar(select(func.min(ProcessInstance.next_timer_at))
                                   .where(ProcessInstance.status.in_(ACTIVE)))
            start = session.scalar(select(func.min(TimerStart.next_at)))
        return min((d for d in (timer, start) if d is not None), default=None)

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
        if self.outbox_sender is not None:
            scheduler.add_job(self.outbox_sender, "interval", seconds=self.outbox_every, id="outbox")
        for job in (self.periodic_jobs.all() if self.periodic_jobs is not None else []):
            scheduler.add_job(self.periodic_jobs.run, cron_trigger(job.schedule, self.timezone),
                              args=[job.name], id=f"job:{job.name}")
        scheduler.start()
        # Timers run in their own loop rather than as a self-rescheduling APScheduler job: moving a job's next
        # run from inside that job races with APScheduler's running-instance count and loses the wake-up.
        self._threads = [threading.Thread(target=self._timer_loop, name="timers", daemon=True),
                         threading.Thread(target=self._listen_postgres if self.database.engine.dialect.name
                                          == "postgresql" else self._poll_due, name="timer-waker", daemon=True)]
        for thread in self._threads:
            thread.start()
        log.info("worker %s started", self.name)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in getattr(self, "_threads", []):
            thread.join(timeout=30)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stopping.wait(1.0):
                pass
        finally:
            self.stop()

    def _timer_loop(self) -> None:
        """Fire what is due, then sleep until the next due time (at most max_sleep) or until woken."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.fire_due_timers()
                due = self.next_due()
            except Exception:  # keep the worker alive; the timers stay due and are tried again
                log.exception("firing due timers failed")
                due = None
            delay = self.max_sleep if due is None else (due - clock.now()).total_seconds()
            delay = min(max(delay, 0.0), self.max_sleep)
            self._sleeping_until = clock.now() + timedelta(seconds=delay)
            self._wake.wait(delay)

    def _nudge(self) -> None:
        """Wake the timer loop if a timer now falls due before it meant to wake up."""
        due = self.next_due()
        if due is not None and due < self._sleeping_until:
            self._wake.set()

    def _poll_due(self) -> None:
        while not self._stopping.wait(self.poll):
            try:
                self._nudge()
            except Exception:
                log.exception("reading the next due time failed")

    def _listen_postgres(self) -> None:
        """LISTEN for the engine's NOTIFY; fall back to polling if the connection breaks."""
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {TIMER_CHANNEL}")
                    self._nudge()
                    # waits of at most `poll` seconds, so a stop is seen within one (a wait of max_sleep
                    # kept `erp worker` alive up to half a minute after SIGTERM); waiting sends no query
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=min(self.poll, self.max_sleep), stop_after=1):
                            self._nudge()
            except Exception:
                log.exception("timer LISTEN connection lost; polling until it is back")
                self._stopping.wait(self.poll)

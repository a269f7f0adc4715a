"""The schedule of each registered periodic job and the record of every run."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class ScheduledJob(Base):
    __tablename__ = "scheduled_job"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: crontab "minute hour day month weekday" in the company's time zone (Asia/Shanghai)
    schedule: Mapped[str] = mapped_column(String(100))
    #: the schedule the code registered; an administrator's change lives in `schedule`
    default_schedule: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(200))


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_name", "slot", name="uq_job_run_slot"),
                      Index("ix_job_run_job_started", "job_name", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(ForeignKey("scheduled_job.name", ondelete="CASCADE"))
    #: the scheduled minute this run is for; unique per job, so two workers never run the same slot
    slot: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: running | ok | failed
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))

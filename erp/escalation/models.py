"""Escalation policies: the default row has no process; a process row or a process+task row overrides it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class EscalationPolicy(Base):
    __tablename__ = "escalation_policy"
    __table_args__ = (UniqueConstraint("process_key", "element_id", name="uq_escalation_policy_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None: every process; else the BPMN process id
    process_key: Mapped[str | None] = mapped_column(String(200))
    #: None: every task of the process; else the user task's element id
    element_id: Mapped[str | None] = mapped_column(String(200))
    #: remind the people on the task this long before it falls due (0: no reminder)
    remind_before_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    #: when overdue, tell the assignee's manager (or the group leads of an unclaimed task)
    notify_manager: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    raise_priority_by: Mapped[int] = mapped_column(Integer, default=20)
    #: when overdue, hand the task to this user
    reassign_to: Mapped[str | None] = mapped_column(String(200))
    #: escalate again this long after the last escalation while still overdue (None: once)
    repeat_after_minutes: Mapped[int | None] = mapped_column(Integer)
    max_level: Mapped[int] = mapped_column(Integer, default=3)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(200))

"""Personal-information protection tables: the consent ledger (同意记录), requests from people about their
information (个人信息权利请求) and personal-information security incidents (个人信息安全事件)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime

#: whose information: a customer's contact, a customer who is a natural person, a lead, or a user of the system
SUBJECT_TYPES = ("contact", "customer", "lead", "user")
#: 查阅 / 复制 / 更正 / 删除 (PIPL art. 45-47)
REQUEST_KINDS = ("access", "copy", "correct", "delete")
REQUEST_STATUSES = ("filed", "completed", "rejected")
CHANNELS = ("web", "paper", "phone", "email", "wechat", "in_person")
SEVERITIES = ("low", "medium", "high", "critical")
INCIDENT_STATUSES = ("reported", "assessed", "contained", "notified", "closed")
PERSONAL = {"personal": "personal", "grade": "general"}
SENSITIVE = {"personal": "sensitive", "grade": "general"}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Consent(Base):
    """One consent given by a person for one purpose (append-only: a withdrawal is stamped on the row, a
    renewed consent is a new row; erasure blanks the person's name but keeps the proof)."""

    __tablename__ = "privacy_consent"
    __table_args__ = (CheckConstraint(_in("subject_type", SUBJECT_TYPES), name="subject_type_known"),
                      CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
                      Index("ix_privacy_consent_subject", "subject_type", "subject_id", "purpose"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    #: the person's name when the consent was given ("已删除" after erasure)
    subject_name: Mapped[str] = mapped_column(String(200), info=PERSONAL)
    #: what the information is used for, e.g. marketing, order_fulfilment, after_sales
    purpose: Mapped[str] = mapped_column(String(60))
    #: which information the consent covers, e.g. ["mobile", "email"]
    scope: Mapped[list] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    #: set once, when the person withdraws (撤回同意); never cleared
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdrawal_channel: Mapped[str | None] = mapped_column(String(20))


class PrivacyRequest(Base):
    """A person's request to access, copy, correct or delete their information; worked by the pi_request
    process, due within a number of business days of filing."""

    __tablename__ = "privacy_request"
    __table_args__ = (CheckConstraint(_in("kind", REQUEST_KINDS), name="kind_known"),
                      CheckConstraint(_in("subject_type", SUBJECT_TYPES), name="subject_type_known"),
                      CheckConstraint(_in("status", REQUEST_STATUSES), name="status_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: PIR-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    #: who asked (the person, or who speaks for them) and where the answer goes
    requester_name: Mapped[str] = mapped_column(String(200), info=PERSONAL)
    requester_email: Mapped[str | None] = mapped_column(String(320), info=PERSONAL)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    details: Mapped[str | None] = mapped_column(Text)
    #: for a correction: {field: new value}
    corrections: Mapped[dict] = mapped_column(JSON, default=dict)
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(10), default="filed", index=True)
    identity_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: why a request was refused, or the officer's note
    reason: Mapped[str | None] = mapped_column(Text)
    #: what was done: counts of what was exported, corrected, anonymised or removed
    outcome: Mapped[dict | None] = mapped_column(JSON)
    #: access and copy: everything held on the person when the request was carried out
    export: Mapped[dict | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))


class SecurityIncident(Base):
    """A personal-information security incident (个人信息安全事件, PIPL art. 57) from report to review; worked by
    the security_incident process."""

    __tablename__ = "privacy_incident"
    __table_args__ = (CheckConstraint(_in("status", INCIDENT_STATUSES), name="status_known"),
                      CheckConstraint("severity IS NULL OR " + _in("severity", SEVERITIES), name="severity_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SI-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(100))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(12), default="reported", index=True)
    severity: Mapped[str | None] = mapped_column(String(10))
    sensitive_involved: Mapped[bool | None] = mapped_column(Boolean)
    people_affected: Mapped[int | None] = mapped_column(Integer)
    #: which kinds of information leaked, e.g. mobile numbers, bank accounts
    information_involved: Mapped[str | None] = mapped_column(Text)
    #: decided by the incident_notification table once assessed
    notify_regulator: Mapped[bool | None] = mapped_column(Boolean)
    notify_people: Mapped[bool | None] = mapped_column(Boolean)
    assess_by: Mapped[datetime] = mapped_column(UtcDateTime())
    notify_by: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    containment: Mapped[str | None] = mapped_column(Text)
    contained_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    regulator_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: the regulator's (网信部门) acknowledgement or case number
    regulator_reference: Mapped[str | None] = mapped_column(String(200))
    people_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    root_cause: Mapped[str | None] = mapped_column(Text)
    lessons: Mapped[str | None] = mapped_column(Text)
    #: each late step: [{"step": "assess" | "notify", "at": iso, "told": [usernames]}]
    escalations: Mapped[list] = mapped_column(JSON, default=list)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))

"""The outbox of email messages and each user's choice of which kinds of mail to receive."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime

#: every kind of mail; each has templates in both languages (notifications/templates)
KINDS = ("task_assigned", "task_due_soon", "task_overdue", "task_escalated",
         "instance_completed", "instance_failed", "daily_digest", "task_copied",
         "crm_follow_up", "sales_dunning", "purchase_rfq", "purchase_order", "purchase_delivery_reminder",
         "purchase_delivery_escalation", "purchase_dispute", "risk_alert", "risk_alert_cleared", "risk_review",
         "project_status_report", "privacy_request_answered", "privacy_incident_late")
#: kinds a user receives only after switching them on; every other kind is on until switched off
OPT_IN_KINDS = frozenset({"daily_digest"})
LOCALES = ("zh_CN", "en")

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class OutboxMessage(Base):
    """One email, rendered when it was enqueued, waiting for (or done with) delivery."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: one of KINDS
    kind: Mapped[str] = mapped_column(String(40))
    #: the user it was written for (None for a bare address)
    recipient_user: Mapped[str | None] = mapped_column(String(100))
    recipient_email: Mapped[str] = mapped_column(String(320))
    #: the language it was rendered in: zh_CN or en
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(998))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: pending → sending → sent; back to pending after a failed try; failed after the last try
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    #: failed tries so far (a lease that ran out counts as one)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: while 'sending': the sender's lease; after it, another sender may take the message over
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: RFC 5322 Message-ID, fixed at enqueue so a resend can be recognised as the same message
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    #: the event this mail is about (e.g. "task_assigned:42:zhangwei"); a second enqueue of it is ignored
    dedupe_key: Mapped[str | None] = mapped_column(String(250), unique=True)


class NotificationPreference(Base):
    """A user's explicit on/off for one kind of mail (absent: the kind's default)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("username", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean)

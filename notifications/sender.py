"""Sending the outbox through Flask-Mail (the only module here that imports Flask); the worker calls
`send_due` every few seconds.

How a message moves: `pending` → claimed as `sending` with a lease (`claimed_until`) in one short
transaction → handed to the SMTP server → `sent` in a second short transaction. A failed try puts it back to
`pending` with exponential backoff (30 s, 1 min, 2 min, … capped at 1 h, plus up to 10 % jitter) and the
error in `last_error`; after `max_attempts` tries (default 8, about an hour of retrying) it is `failed` and
is never tried again. A recipient the server refuses permanently (5xx on RCPT) fails at once. On PostgreSQL
the claim uses `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint messages without waiting; on
SQLite the claim transaction (BEGIN IMMEDIATE) is serialized anyway.

Delivery guarantee, stated honestly: a message is handed to the SMTP server *at least once* and, in every
case but one, *exactly once*. The exception is a crash (or a lost database connection) after the server
accepted the message and before the `sent` row committed: the lease then runs out, another run sends the
message again, and the recipient may get it twice. Both copies carry the same Message-ID (fixed when the
message was enqueued), so receiving systems that drop duplicates by Message-ID show it once. The window is
one message wide, because each message is marked sent in its own transaction right after the server
accepts it. A sender that is merely slow does not cause doubles: before each message it checks that enough
of its lease is left and otherwise hands the rest back unsent. Rolled-back transactions never produce mail,
since the outbox row is written in the same transaction as the change that caused it.
"""
from __future__ import annotations

import logging
import random
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import Flask
from flask_mail import Connection, Mail, Message
from sqlalchemy import and_, or_, select, update

from core import clock
from notifications.config import MailConfig, load_mail_config
from notifications.models import FAILED, PENDING, SENDING, SENT, OutboxMessage

log = logging.getLogger(__name__)

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
#: the shortest lease; a longer one is taken when a batch could need more time (see _lease)
MIN_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class _Claimed:
    """What the sender needs of a claimed message, read in the claim transaction."""

    id: int
    recipient_email: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    attempts: int
    claimed_until: datetime


def send_due(database, config: MailConfig | None = None, *, now: datetime | None = None,
             batch: int = 50) -> dict[str, int]:
    """Send up to `batch` due messages; returns how many were sent, put back for a retry, or given up."""
    config = config or load_mail_config()
    start = now or clock.now()
    counts = {"sent": 0, "retried": 0, "failed": 0}
    with database.transaction() as session:
        claimed = _claim(session, start, batch, _lease(config, batch), config, counts)
    if not claimed:
        return counts
    began = time.monotonic()

    def current() -> datetime:
        return start + timedelta(seconds=time.monotonic() - began)

    app = _flask_app(config)
    with app.app_context(), _Postman(app, config) as postman:
        for position, item in enumerate(claimed):
            if current() + timedelta(seconds=3 * config.timeout) >= item.claimed_until:
                _release(database, claimed[position:])
                break
            try:
                postman.send(item)
            except Exception as exc:  # every failure is recorded on the message and retried
                counts[_record_failure(database, item, exc, current(), config)] += 1
                if postman.unreachable:  # the server cannot be reached: the rest would fail the same way
                    for rest in claimed[position + 1:]:
                        counts[_record_failure(database, rest, exc, current(), config)] += 1
                    break
            else:
                _record_sent(database, item, current())
                counts["sent"] += 1
    return counts


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 30 s · 2^(attempts−1), at most 1 h, plus 0-10 % jitter
    (so that messages failed together do not all come back in the same second)."""
    seconds = min(BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS)
    return timedelta(seconds=seconds * (1 + random.uniform(0, 0.1)))


def _lease(config: MailConfig, batch: int) -> timedelta:
    # long enough for a whole batch at the worst case of every SMTP step timing out
    return max(MIN_LEASE, timedelta(seconds=4 * config.timeout * batch))


def _claim(session, now: datetime, batch: int, lease: timedelta, config: MailConfig,
           counts: dict[str, int]) -> list[_Claimed]:
    due = or_(and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
              and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until <= now))
    rows = session.scalars(select(OutboxMessage).where(due)
                           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(batch)
                           .with_for_update(skip_locked=True)).all()
    claimed = []
    for row in rows:
        if row.status == SENDING:  # its sender stopped before recording the outcome; count that as a try
            row.attempts += 1
            row.last_error = "the sender's lease ran out before it recorded the outcome (worker stopped?)"
            if row.attempts >= config.max_attempts:
                row.status, row.claimed_until = FAILED, None
                counts["failed"] += 1
                continue
        row.status, row.claimed_until = SENDING, now + lease
        claimed.append(_Claimed(row.id, row.recipient_email, row.subject, row.body_text, row.body_html,
                                row.message_id, row.attempts, row.claimed_until))
    return claimed


def _record_sent(database, item: _Claimed, at: datetime) -> None:
    with database.transaction() as session:
        done = session.execute(update(OutboxMessage).where(*_still_ours(item))
                               .values(status=SENT, sent_at=at, claimed_until=None)).rowcount
    if not done:
        log.warning("outbox message %s was sent after its lease ran out; it may be sent twice", item.id)


def _record_failure(database, item: _Claimed, exc: Exception, at: datetime, config: MailConfig) -> str:
    attempts = item.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if attempts >= config.max_attempts or _refused_for_good(exc):
        values, outcome = {"status": FAILED}, "failed"
    else:
        values, outcome = {"status": PENDING, "next_attempt_at": at + retry_delay(attempts)}, "retried"
    with database.transaction() as session:
        session.execute(update(OutboxMessage).where(*_still_ours(item))
                        .values(attempts=attempts, last_error=error, claimed_until=None, **values))
    log.warning("outbox message %s to %s not sent (%s, try %d): %s", item.id, item.recipient_email, outcome,
                attempts, error)
    return outcome


def _release(database, items: list[_Claimed]) -> None:
    """Hand messages back unsent (no try counted) when too little of the lease is left to send them."""
    with database.transaction() as session:
        for item in items:
            session.execute(update(OutboxMessage).where(*_still_ours(item))
                            .values(status=PENDING, claimed_until=None))


def _still_ours(item: _Claimed):
    """The message is still in the claim we made (no other sender took it over after our lease)."""
    return (OutboxMessage.id == item.id, OutboxMessage.status == SENDING,
            OutboxMessage.claimed_until == item.claimed_until)


def _refused_for_good(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return False


@lru_cache(maxsize=8)
def _flask_app(config: MailConfig) -> Flask:
    """A minimal Flask app that only hosts Flask-Mail, built once per configuration."""
    app = Flask("notifications.sender")
    app.config.update(
        MAIL_SERVER=config.server, MAIL_PORT=config.port, MAIL_USE_TLS=config.use_tls, MAIL_USE_SSL=False,
        MAIL_USERNAME=config.username, MAIL_PASSWORD=config.password,
        MAIL_DEFAULT_SENDER=config.default_sender,
        MAIL_SUPPRESS_SEND=False,  # Flask-Mail would otherwise send nothing whenever TESTING is on
    )
    Mail(app)
    return app


class _TimedConnection(Connection):
    """Flask-Mail's SMTP connection with a timeout on every socket operation."""

    def __init__(self, app: Flask, timeout: float):
        super().__init__(app.extensions["mail"])
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=self.timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _Postman:
    """One SMTP connection reused across a batch, reopened after an error."""

    def __init__(self, app: Flask, config: MailConfig):
        self.app, self.config = app, config
        self.connection: _TimedConnection | None = None
        self.unreachable = False

    def __enter__(self) -> _Postman:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.connection is not None:
            try:
                self.connection.host.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.host.close()

    def send(self, item: _Claimed) -> None:
        if self.connection is None:
            self._connect()
        message = Message(subject=item.subject, recipients=[item.recipient_email], body=item.body_text,
                          html=item.body_html, sender=self.config.default_sender,
                          extra_headers={"Auto-Submitted": "auto-generated"})
        message.msgId = item.message_id  # the same Message-ID on every try
        try:
            self.connection.send(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            raise
        except smtplib.SMTPException:
            self._reset()
            raise

    def _connect(self) -> None:
        connection = _TimedConnection(self.app, self.config.timeout)
        try:
            connection.host = connection.configure_host()
        except (smtplib.SMTPException, OSError):
            self.unreachable = True
            raise
        connection.num_emails = 0
        self.connection = connection

    def _reset(self) -> None:
        try:
            self.connection.host.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.host.close()
            self.connection = None

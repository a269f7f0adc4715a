"""Writing mails to the outbox inside the caller's transaction (never commits): a step that rolls back
leaves no mail behind, and the worker (notifications.sender) sends what was committed."""
from __future__ import annotations

import logging
from datetime import datetime
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import clock
from core.errors import InvalidInput
from erp.identity.models import User
from notifications.config import MailConfig, load_mail_config
from notifications.models import KINDS, LOCALES, OPT_IN_KINDS, PENDING, NotificationPreference, OutboxMessage
from notifications.personal import may_see_personal, note_shown, resolve
from notifications.rendering import render

log = logging.getLogger(__name__)


def enqueue(session, kind: str, *, to_user: str | None = None, to_email: str | None = None, context: dict,
            dedupe_key: str | None = None, at: datetime | None = None, locale: str | None = None,
            config: MailConfig | None = None) -> OutboxMessage | None:
    """Render a mail for `to_user` (their email and language) or a bare `to_email` (in `locale`, default
    zh_CN) and add it to the outbox, due at `at` (default now).

    Personal information of other people (notifications.personal.PersonalInfo in `context`) is shown as it is
    only to a user holding personal_data.view, and that showing is written to the access log in this
    transaction; every other recipient reads it masked.

    Returns None, changing nothing, when the user has no email address, has switched this kind off, or a
    mail with the same `dedupe_key` exists already (also one a concurrent transaction just committed)."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown notification kind {kind!r}")
    recipient = _recipient(session, kind, to_user, to_email, locale)
    if recipient is None:
        return None
    if dedupe_key is not None and _exists(session, dedupe_key):
        return None
    config = config or load_mail_config()
    email, locale, name, sees_personal = recipient
    context, shown = resolve(context, unmasked=sees_personal, locale=locale)
    mail = render(kind, locale, {"base_url": config.base_url, "recipient_name": name, **context})
    when = at or clock.now()
    message = OutboxMessage(
        created_at=clock.now(), kind=kind, recipient_user=to_user, recipient_email=email, locale=locale,
        subject=mail.subject, body_text=mail.text, body_html=mail.html, status=PENDING, attempts=0,
        next_attempt_at=when, message_id=make_msgid(domain=config.message_id_domain), dedupe_key=dedupe_key)
    if not _insert(session, message):
        return None
    if to_user is not None:
        note_shown(session, shown, recipient=to_user, kind=kind)
    return message


def set_preference(session, username: str, kind: str, enabled: bool) -> None:
    """Switch one kind of mail on or off for a user."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown notification kind {kind!r}")
    row = session.scalars(select(NotificationPreference).where(
        NotificationPreference.username == username, NotificationPreference.kind == kind)).first()
    if row is None:
        session.add(NotificationPreference(username=username, kind=kind, enabled=enabled))
    else:
        row.enabled = enabled
    session.flush()


def preferences(session, username: str) -> dict[str, bool]:
    """Every kind, on or off for this user (their own choice, else the kind's default)."""
    rows = session.execute(select(NotificationPreference.kind, NotificationPreference.enabled)
                           .where(NotificationPreference.username == username))
    chosen = {kind: enabled for kind, enabled in rows}
    return {kind: chosen.get(kind, kind not in OPT_IN_KINDS) for kind in KINDS}


def wants(session, username: str, kind: str) -> bool:
    enabled = session.scalar(select(NotificationPreference.enabled).where(
        NotificationPreference.username == username, NotificationPreference.kind == kind))
    return kind not in OPT_IN_KINDS if enabled is None else enabled


def _recipient(session, kind, to_user, to_email, locale) -> tuple[str, str, str | None, bool] | None:
    """(address, locale, display name, may see personal information unmasked), or None when this mail is not
    to be sent. A bare address is no user whose role we know: it sees personal information masked."""
    if to_user is None:
        if not to_email:
            raise InvalidInput("a mail needs to_user or to_email")
        return to_email, locale if locale in LOCALES else "zh_CN", None, False
    user = session.scalars(select(User).where(User.username == to_user)).first()
    if user is None:
        log.warning("no %s mail: there is no user %r", kind, to_user)
        return None
    address = to_email or user.email
    if not address or not wants(session, to_user, kind):
        return None
    return (address, user.locale if user.locale in LOCALES else "zh_CN", user.display_name,
            may_see_personal(user.roles))


def _exists(session, dedupe_key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def _insert(session, message: OutboxMessage) -> bool:
    """Insert inside a savepoint, so that losing a dedupe race to another transaction (a unique violation,
    which on PostgreSQL would poison the whole transaction) only undoes this one row."""
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        if message.dedupe_key is None or not _exists(session, message.dedupe_key):
            raise
        return False
    return True

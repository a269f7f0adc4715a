"""Login rate limiting kept in the database, so the limits hold across every web process sharing it.

After 5 failed attempts (a wrong password or a wrong second-factor code) for one username within 15 minutes,
or 20 from one address, further attempts are refused until the window has passed. A completed login forgives
the username's earlier failures (not the address's: one address guessing many usernames stays limited)."""
from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from core.errors import RateLimited
from erp.identity.models import LoginAttempt

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


def note_attempt(session, username: str, address: str | None, *, success: bool, factor: str = "password") -> None:
    """Store one attempt. `success` means a completed login: a right password that still needs its code is not
    stored at all, so knowing the password never forgives failed codes."""
    session.add(LoginAttempt(at=clock.now(), username=username, address=address, success=success, factor=factor))
    session.flush()


def check_limits(session, username: str, address: str | None) -> None:
    """Raise RateLimited (with the seconds until the oldest counted failure leaves the window) when the username
    or the address failed too often."""
    since = clock.now() - WINDOW
    failures = select(func.count(), func.min(LoginAttempt.at)).where(
        LoginAttempt.at > since, LoginAttempt.success.is_(False))
    last_login = select(func.max(LoginAttempt.id)).where(
        LoginAttempt.username == username, LoginAttempt.success.is_(True)).scalar_subquery()
    # ids rather than times: attempts within the same instant still fall before or after the login
    by_user = session.execute(failures.where(LoginAttempt.username == username,
                                             LoginAttempt.id > func.coalesce(last_login, 0))).one()
    by_address = session.execute(failures.where(LoginAttempt.address == address)).one() if address else (0, None)
    for (count, oldest), limit in ((by_user, MAX_FAILURES_PER_USER), (by_address, MAX_FAILURES_PER_ADDRESS)):
        if count >= limit:
            retry_after = max(1, math.ceil((oldest + WINDOW - clock.now()).total_seconds()))
            raise RateLimited(f"too many failed logins; try again in {minutes(retry_after)} minute(s)",
                              retry_after)


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up (what a person is told to wait)."""
    return (seconds + 59) // 60

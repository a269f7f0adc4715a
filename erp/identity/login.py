"""Password login with rate limiting: every attempt is stored, so the limit holds across web processes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from core.errors import RateLimited
from erp.audit.services import record
from erp.identity.models import LoginAttempt, User
from erp.identity.services import password_matches, user_by_name

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


def authenticate(session, username: str, password: str, address: str | None) -> User | None:
    """The user if the password is right and they are active; None otherwise. Raises RateLimited when the
    username or the address failed too often within the window (the attempt is then not even checked)."""
    username = (username or "").strip()[:100]
    _check_limits(session, username, address)
    user = user_by_name(session, username)
    ok = password_matches(user, password) and user is not None and user.active
    session.add(LoginAttempt(at=clock.now(), username=username, address=address, success=ok))
    record(session, "login" if ok else "login_failed", actor=username or None, target_type="user",
           target_id=username, address=address)
    session.flush()
    return user if ok else None


def _check_limits(session, username: str, address: str | None) -> None:
    since = clock.now() - WINDOW
    failures = select(func.count(), func.min(LoginAttempt.at)).where(
        LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    by_user = session.execute(failures.where(LoginAttempt.username == username)).one()
    by_address = (session.execute(failures.where(LoginAttempt.address == address)).one() if address
                  else (0, None))
    for (count, oldest), limit in ((by_user, MAX_FAILURES_PER_USER), (by_address, MAX_FAILURES_PER_ADDRESS)):
        if count >= limit:
            retry_after = max(1, int((oldest + WINDOW - clock.now()).total_seconds()) + 1)
            raise RateLimited(f"too many failed logins; try again in {(retry_after + 59) // 60} minute(s)",
                              retry_after)

"""Logging in: the password, then (for users who set one up) the TOTP code. Every attempt is stored for the rate
limits (erp.identity.login_attempts) and audited."""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import RateLimited
from erp.audit.services import record
from erp.identity.login_attempts import check_limits, note_attempt
from erp.identity.models import User
from erp.identity.services import password_matches, user_by_name
from erp.identity.totp import accept_code, has_second_factor


@dataclass(frozen=True)
class PasswordCheck:
    #: None: wrong username or password (or a deactivated user)
    user: User | None
    #: the password was right but the login completes only with the user's TOTP code (confirm_code)
    needs_code: bool = False


def authenticate(session, username: str, password: str, address: str | None) -> PasswordCheck:
    """Check a username and password. Raises RateLimited when the username or the address failed too often
    within the window (the password is then not even checked)."""
    username = (username or "").strip()[:100]
    _check_limits(session, username, address)
    user = user_by_name(session, username)
    ok = password_matches(user, password) and user is not None and user.active
    if ok and has_second_factor(session, user.id):
        record(session, "login_code_required", actor=username, target_type="user", target_id=username,
               address=address)
        return PasswordCheck(user, needs_code=True)
    note_attempt(session, username, address, success=ok)
    record(session, "login" if ok else "login_failed", actor=username or None, target_type="user",
           target_id=username, address=address)
    return PasswordCheck(user if ok else None)


def confirm_code(session, user: User, code: str, address: str | None) -> bool:
    """The second step: whether `code` is the user's current TOTP code. Rate-limited like passwords (a wrong
    code counts as a failed login of the username)."""
    _check_limits(session, user.username, address)
    ok = user.active and accept_code(session, user.id, code)
    note_attempt(session, user.username, address, success=ok, factor="code")
    record(session, "login" if ok else "login_code_failed", actor=user.username, target_type="user",
           target_id=user.username, address=address, detail="with TOTP code" if ok else None)
    return ok


def _check_limits(session, username: str, address: str | None) -> None:
    try:
        check_limits(session, username, address)
    except RateLimited:
        record(session, "login_blocked", actor=username or None, target_type="user", target_id=username,
               address=address)
        raise

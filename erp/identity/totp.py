"""The optional TOTP second factor (the six-digit codes of an authenticator app): enrolment confirmed with a
first code, checking a code at login (each code good once), removal by the user and reset by an administrator.
Every change is audited; the secret is never written to the audit log."""
from __future__ import annotations

import hmac

import pyotp
from sqlalchemy import select

from core import clock
from core.errors import InvalidInput
from erp.audit.services import record
from erp.identity.models import TotpCredential, User

ISSUER = "ERP"
#: codes of the previous and next 30-second step count too (the phone's clock may be a little off)
DRIFT_STEPS = 1

WRONG_CODE = "wrong code"
ALREADY_ENROLLED = "already set up"
NOT_ENROLLING = "start the set-up first"


def credential_of(session, user_id: int) -> TotpCredential | None:
    return session.scalars(select(TotpCredential).where(TotpCredential.user_id == user_id)).first()


def has_second_factor(session, user_id: int) -> bool:
    """Whether the user's login asks for a code (an enrolment not yet confirmed does not count)."""
    credential = credential_of(session, user_id)
    return credential is not None and credential.confirmed_at is not None


def start_enrolment(session, user: User) -> TotpCredential:
    """A fresh secret for the user to add to their authenticator app; it counts once confirmed with a code."""
    credential = credential_of(session, user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise InvalidInput("the second factor is already set up", {"code": [ALREADY_ENROLLED]})
    if credential is None:
        credential = TotpCredential(user_id=user.id)
        session.add(credential)
    credential.secret = pyotp.random_base32()
    credential.created_at = clock.now()
    credential.last_used_step = None
    session.flush()
    return credential


def provisioning_uri(credential: TotpCredential, username: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads (as text or as a QR code)."""
    return pyotp.TOTP(credential.secret).provisioning_uri(name=username, issuer_name=issuer)


def confirm_enrolment(session, user: User, code: str, *, address: str | None = None) -> None:
    """The user proves their app holds the secret; from now on their login asks for a code."""
    credential = credential_of(session, user.id)
    if credential is None or credential.confirmed_at is not None:
        raise InvalidInput("no set-up of a second factor in progress", {"code": [NOT_ENROLLING]})
    if not _accept(credential, code):
        raise InvalidInput("the code is wrong", {"code": [WRONG_CODE]})
    credential.confirmed_at = clock.now()
    session.flush()
    record(session, "user.totp_enrol", actor=user.username, target_type="user", target_id=user.username,
           address=address)


def accept_code(session, user_id: int, code: str) -> bool:
    """Whether `code` is the user's current code (and was not used before); a used code is spent."""
    credential = credential_of(session, user_id)
    if credential is None or credential.confirmed_at is None:
        return False
    accepted = _accept(credential, code)
    session.flush()
    return accepted


def remove_second_factor(session, user: User, code: str, *, address: str | None = None) -> None:
    """The user turns their second factor off, proving it with a current code."""
    if not accept_code(session, user.id, code):
        raise InvalidInput("the code is wrong", {"code": [WRONG_CODE]})
    session.delete(credential_of(session, user.id))
    session.flush()
    record(session, "user.totp_remove", actor=user.username, target_type="user", target_id=user.username,
           address=address)


def reset_second_factor(session, user: User, *, actor: str | None, address: str | None = None) -> bool:
    """An administrator removes another user's second factor (a lost phone); False if they had none."""
    credential = credential_of(session, user.id)
    if credential is None:
        return False
    was_confirmed = credential.confirmed_at is not None
    session.delete(credential)
    session.flush()
    record(session, "user.totp_reset", actor=actor, target_type="user", target_id=user.username,
           before={"second_factor": was_confirmed}, after={"second_factor": False}, address=address)
    return True


def _accept(credential: TotpCredential, code: str) -> bool:
    """Compare against the codes of the steps around now, refusing a step already used (no replay)."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(credential.secret)
    current = totp.timecode(clock.now())
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if credential.last_used_step is not None and step <= credential.last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            credential.last_used_step = step
            return True
    return False

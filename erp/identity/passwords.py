"""The password policy: what a new password must be. It applies wherever a password is set (the user's own
change, an administrator's reset or new user, `erp user create`), never at login, so passwords set before the
policy (the demo's) keep working.

Problems are reported as fixed English phrases (the web layer shows them in the reader's language)."""
from __future__ import annotations

from dataclasses import dataclass

from werkzeug.security import check_password_hash

from core.errors import InvalidInput
from core.settings import load_settings

#: the phrases of the rules other than the length ("at least N characters")
LETTERS_AND_DIGITS = "use both letters and digits"
NOT_THE_USERNAME = "must not be the username"
TOO_COMMON = "too common"
NOT_THE_CURRENT = "must differ from the current password"

#: passwords of ten characters or more with letters and digits that lists of leaked passwords (including the
#: ones most used in China) put near the top; the length and mix rules already stop the shorter ones
COMMON_PASSWORDS = frozenset({
    "1234567890a", "1234567890q", "123456789a", "123456789q", "123456abcd", "12345abcde", "1q2w3e4r5t",
    "1q2w3e4r5t6y", "1qaz2wsx3edc", "a1234567890", "a123456789", "a1b2c3d4e5", "aa123456789", "aa12345678",
    "abc1234567", "abc12345678", "abc123456789", "abcd123456", "abcd1234567", "admin12345", "admin123456",
    "admin2024", "admin2025", "admin2026", "changeme123", "iloveyou123", "letmein123", "password01",
    "password12", "password123", "password1234", "passw0rd123", "p@ssw0rd123", "q1w2e3r4t5", "qq123456789",
    "qwe1234567", "qwe123456789", "qwer123456", "qwerty12345", "qwerty123456", "test123456", "welcome123",
    "woaini1314", "woaini123456", "woaini520", "5201314woaini", "zxcvbnm123", "zxc123456789", "asd123456789",
    "wang123456", "zhang123456", "li12345678", "liu123456789", "chen123456", "root123456", "erp123456",
    "erp1234567", "demo123456", "demo1234567",
})


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10

    @classmethod
    def configured(cls) -> PasswordPolicy:
        """The policy the settings (ERP_PASSWORD_MIN_LENGTH) ask for."""
        return cls(min_length=max(load_settings().password_min_length, 1))


def too_short(min_length: int) -> str:
    return f"at least {min_length} characters"


def password_problems(password: str, *, username: str, current_hash: str | None = None,
                      policy: PasswordPolicy | None = None) -> list[str]:
    """What is wrong with `password` as `username`'s new password (empty: nothing)."""
    policy = policy or PasswordPolicy.configured()
    password = password or ""
    problems = []
    if len(password) < policy.min_length:
        problems.append(too_short(policy.min_length))
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        problems.append(LETTERS_AND_DIGITS)
    if username and password.strip().casefold() == username.strip().casefold():
        problems.append(NOT_THE_USERNAME)
    if password.casefold() in COMMON_PASSWORDS:
        problems.append(TOO_COMMON)
    if current_hash and password and check_password_hash(current_hash, password):
        problems.append(NOT_THE_CURRENT)
    return problems


def check_new_password(password: str, *, username: str, current_hash: str | None = None, field: str = "password",
                       policy: PasswordPolicy | None = None) -> None:
    """Raise InvalidInput (the problems under `field`) unless `password` may become the user's password."""
    problems = password_problems(password, username=username, current_hash=current_hash, policy=policy)
    if problems:
        raise InvalidInput("the password does not meet the password policy: " + "; ".join(problems),
                           {field: problems})

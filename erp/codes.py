"""Partner codes: C-000001 for customers, S-000001 for suppliers — the next free one, or a given one checked."""
from __future__ import annotations

from sqlalchemy import func, select

from core.errors import Conflict, InvalidInput


def next_code(session, column, prefix: str) -> str:
    """The code after the highest `<prefix>-nnnnnn` in `column` (a model's code column)."""
    last = session.scalar(select(func.max(column)).where(column.like(f"{prefix}-______")))
    start = len(prefix) + 1
    number = int(last[start:]) + 1 if last and last[start:].isdigit() else 1
    return f"{prefix}-{number:06d}"


def checked_code(session, column, code: str, label: str) -> str:
    """A code given by hand (an import keeps the legacy one): required and not taken."""
    code = (code or "").strip().upper()
    if not code:
        raise InvalidInput(f"a {label} code is required", {"code": ["required"]})
    if session.scalar(select(column).where(column == code)) is not None:
        raise Conflict(f"{label} code {code} is taken")
    return code

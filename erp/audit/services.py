"""Writing audit entries (take a session, never commit)."""
from __future__ import annotations

from core import clock
from engine.values import jsonable
from erp.audit.models import AuditEntry


def record(session, action: str, *, actor: str | None, target_type: str | None = None, target_id=None,
           before: dict | None = None, after: dict | None = None, address: str | None = None,
           detail: str | None = None) -> AuditEntry:
    entry = AuditEntry(at=clock.now(), actor=actor, action=action, target_type=target_type,
                       target_id=None if target_id is None else str(target_id),
                       before=jsonable(before) if before is not None else None,
                       after=jsonable(after) if after is not None else None, address=address, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}

"""The access log (访问日志): every time personal information is shown unmasked to a user — on a page, in an
export, printed, through the API or in a mail — who saw which fields of what, when and from where (PIPL).
Entries are append-only like the audit log; the pages, the API and the mail outbox write them, the auditor and the
privacy officer search them."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Text, cast, func, select

from core import clock
from engine.values import jsonable
from erp.audit.models import AccessEntry

#: the ways of access; "email": a mail showed it to its recipient (no address: it was not read from a network)
HOW = ("view", "export", "print", "api", "email")


def record_access(session, *, actor: str, how: str, entity: str, entity_id=None, fields: Iterable[str] = (),
                  address: str | None = None, detail: str | None = None) -> AccessEntry | None:
    """Note that `actor` was shown the personal `fields` of `entity` unmasked; nothing when no field was shown,
    except for an export, which is always noted (what left the system, and who took it)."""
    if how not in HOW:
        raise ValueError(f"unknown way of access {how!r}; one of {', '.join(HOW)}")
    shown = sorted(set(fields))
    if not shown and how != "export":
        return None
    entry = AccessEntry(at=clock.now(), actor=actor, how=how, entity=entity,
                        entity_id=None if entity_id is None else str(entity_id), fields=shown, address=address,
                        detail=detail)
    session.add(entry)
    return entry


def search(session, *, actor=None, how=None, entity=None, entity_id=None, field=None, since=None, until=None,
           page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Entries newest first, and how many match."""
    query = select(AccessEntry)
    for column, value in ((AccessEntry.actor, actor), (AccessEntry.how, how), (AccessEntry.entity, entity),
                          (AccessEntry.entity_id, None if entity_id is None else str(entity_id))):
        if value:
            query = query.where(column == value)
    if field:
        query = query.where(func.lower(cast(AccessEntry.fields, Text)).contains(f'"{field.lower()}"'))
    if since:
        query = query.where(AccessEntry.at >= since)
    if until:
        query = query.where(AccessEntry.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(AccessEntry.at.desc(), AccessEntry.id.desc()).limit(per_page)
                           .offset((max(page, 1) - 1) * per_page)).all()
    return [_entry(e) for e in rows], total


def _entry(e: AccessEntry) -> dict:
    return {"id": e.id, "at": jsonable(e.at), "actor": e.actor, "how": e.how, "entity": e.entity,
            "entity_id": e.entity_id, "fields": list(e.fields or []), "address": e.address, "detail": e.detail}

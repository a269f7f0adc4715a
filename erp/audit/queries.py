"""Searching the audit trail (the auditor's and administrator's page): the explicit entries of audit_log and the
captured record changes of audit_change, as one list newest first; and the masking of personal values in them
for readers without personal_data.view."""
from __future__ import annotations

import json
from functools import cache

from sqlalchemy import Text, cast, func, literal, or_, select, union_all

from engine.values import jsonable
from erp.audit.models import AuditEntry, RecordChange
from erp.masking import mask

#: which table an entry comes from: its `kind`
EVENT, CHANGE = "event", "change"
#: escape character of LIKE patterns (not the backslash: JSON text is full of them)
ESCAPE = "!"


def _select(model, kind: str):
    return select(model.id, literal(kind).label("kind"), model.at, model.actor, model.action, model.target_type,
                  model.target_id, model.before, model.after, model.address, model.detail)


def _filtered(query, model, *, actor, action, target_type, target_id, since, until, text):
    if actor:
        query = query.where(model.actor == actor)
    if action:
        query = query.where(model.action.startswith(action, autoescape=True))
    if target_type:
        query = query.where(model.target_type == target_type)
    if target_id:
        query = query.where(model.target_id == str(target_id))
    if since:
        query = query.where(model.at >= since)
    if until:
        query = query.where(model.at < until)
    if text:
        query = query.where(_contains(model, text))
    return query


def _contains(model, text: str):
    """`text` anywhere in the before or after values, the detail or the target; JSON keeps non-ASCII characters
    as \\uXXXX escapes in some writers, so both spellings are looked for."""
    spellings = {text.lower(), json.dumps(text)[1:-1].lower()}
    columns = [cast(model.before, Text), cast(model.after, Text), model.detail, model.target_id]
    return or_(*(func.lower(column).like(_pattern(s), escape=ESCAPE) for column in columns for s in spellings))


def _pattern(text: str) -> str:
    for special in (ESCAPE, "%", "_"):
        text = text.replace(special, ESCAPE + special)
    return f"%{text}%"


def search(session, *, actor=None, action=None, target_type=None, target_id=None, since=None, until=None,
           text=None, kind: str | None = None, page: int = 1, per_page: int = 50,
           limit: int | None = None) -> tuple[list[dict], int]:
    """Entries matching every given filter and how many match: of one log (`kind` EVENT or CHANGE) newest
    recorded first, or of both (kind None) by time. `limit` instead of a page: the first `limit` entries (the
    CSV export)."""
    filters = {"actor": actor, "action": action, "target_type": target_type, "target_id": target_id,
               "since": since, "until": until, "text": text}
    parts = [_filtered(_select(model, name), model, **filters)
             for name, model in ((EVENT, AuditEntry), (CHANGE, RecordChange)) if kind in (None, name)]
    found = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    total = session.scalar(select(func.count()).select_from(found))
    order = (found.c.at.desc(), found.c.kind.desc(), found.c.id.desc()) if kind is None else (found.c.id.desc(),)
    query = select(found).order_by(*order)
    query = query.limit(limit) if limit is not None else query.limit(per_page).offset((max(page, 1) - 1) * per_page)
    return [_entry(row) for row in session.execute(query).mappings()], total


def _entry(row) -> dict:
    return {"id": row["id"], "kind": row["kind"], "at": jsonable(row["at"]), "actor": row["actor"],
            "action": row["action"], "target_type": row["target_type"], "target_id": row["target_id"],
            "before": _json(row["before"]), "after": _json(row["after"]), "address": row["address"],
            "detail": row["detail"]}


def _json(value):
    """A union loses the JSON type on some databases: its values may come back as text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def target_types(session) -> list[str]:
    """The target types present in the logs, for the page's filter."""
    both = union_all(select(AuditEntry.target_type.label("t")), select(RecordChange.target_type.label("t"))).subquery()
    return [t for t in session.scalars(select(both.c.t).distinct().order_by(both.c.t)) if t]


# ---------------------------------------------------------------------- personal values, for the page

@cache
def _personal_by_table() -> dict[str, frozenset[str]]:
    from erp.privacy.classification import inventory

    found: dict[str, set[str]] = {}
    for column in inventory():
        found.setdefault(column.table, set()).add(column.column)
    return {table: frozenset(columns) for table, columns in found.items()}


@cache
def _personal_names() -> frozenset[str]:
    """Every personal column's name, and the fields the domain marks personal in its query results: what an
    explicit entry's before and after may carry."""
    from erp.crm.models import PERSONAL_FIELDS as CRM
    from erp.purchasing.models import PERSONAL_FIELDS as PURCHASING

    names = {name for columns in _personal_by_table().values() for name in columns}
    return frozenset(names | set(CRM) | set(PURCHASING))


def personal_keys(entry: dict) -> frozenset[str]:
    """The keys of the entry's before and after that hold personal information."""
    if entry["kind"] == CHANGE:
        return _personal_by_table().get(entry["target_type"], frozenset())
    return _personal_names()


def masked(entry: dict) -> dict:
    """The entry with its personal values masked (138****5678), for readers without personal_data.view. The
    client's address stays: which address acted is what the audit log is for."""
    keys = personal_keys(entry)
    return {**entry, "before": _mask_keys(entry["before"], keys), "after": _mask_keys(entry["after"], keys)}


def shown_personal(entry: dict) -> set[str]:
    """The personal keys that carry a value in the entry (what an unmasked reader is shown). A recorded
    change keeps personal values masked already (erp.audit.changes): reading it shows nothing personal."""
    if entry["kind"] == CHANGE:
        return set()
    keys = personal_keys(entry)
    return {k for part in (entry["before"], entry["after"]) if isinstance(part, dict)
            for k, v in part.items() if k in keys and v is not None}


def _mask_keys(values, keys):
    if not isinstance(values, dict):
        return values
    return {k: mask(v) if k in keys else v for k, v in values.items()}

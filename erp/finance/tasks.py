"""BPMN service-task operators of finance, registered by name (see erp.wiring.OPERATOR_MODULES)."""
from __future__ import annotations

from datetime import date

from erp.finance import services


def post_entry(ctx, *, lines: list, description: str, date: str | None = None, source_type: str | None = None,
               source_id: str | None = None) -> dict:
    """finance.post_entry: post a balanced entry from the process data; returns its number and id."""
    parsed = [{**line, **({"due_date": _date(line["due_date"])} if line.get("due_date") else {})} for line in lines]
    entry = services.post_entry(ctx.session, date=_date(date) if date else services.today(), lines=parsed,
                                description=description, user=ctx.actor or "system",
                                source=(source_type, source_id) if source_type else None)
    return {"number": entry.number, "id": entry.id}


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def register(registry) -> None:
    registry.register("finance.post_entry", post_entry)

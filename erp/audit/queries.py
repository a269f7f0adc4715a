"""Searching the audit log (the auditor's and administrator's page)."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.values import jsonable
from erp.audit.models import AuditEntry


def search(session, *, actor=None, action=None, target_type=None, target_id=None, since=None, until=None,
           page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == str(target_id))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(per_page)
                           .offset((max(page, 1) - 1) * per_page)).all()
    return [{"id": e.id, "at": jsonable(e.at), "actor": e.actor, "action": e.action,
             "target_type": e.target_type, "target_id": e.target_id, "before": e.before, "after": e.after,
             "address": e.address, "detail": e.detail} for e in rows], total

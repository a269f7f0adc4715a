"""Reads for the privacy pages and for other modules: whether a person has consented to a purpose, the consent
ledger of a person, the requests and incidents, and the data classification inventory (数据分类分级清单)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import clock
from erp.privacy.classification import inventory
from erp.privacy.models import Consent, PrivacyRequest, SecurityIncident

SHOWN = 200


def has_consent(session, subject_type: str, subject_id: int, purpose: str, *, covering: str | None = None,
                at: datetime | None = None) -> bool:
    """Whether the person had, at `at` (default now), a consent for the purpose not withdrawn by then (and,
    with `covering`, one whose scope includes that information)."""
    at = at or clock.now()
    for consent in session.scalars(select(Consent).where(
            Consent.subject_type == subject_type, Consent.subject_id == int(subject_id), Consent.purpose == purpose,
            Consent.given_at <= at)):
        withdrawn = consent.withdrawn_at is not None and consent.withdrawn_at <= at
        if not withdrawn and (covering is None or covering in (consent.scope or [])):
            return True
    return False


def consents(session, subject_type: str | None = None, subject_id: int | None = None) -> list[Consent]:
    """The ledger, newest first: every consent ever recorded (withdrawn ones included), of one person or all."""
    query = select(Consent).order_by(Consent.given_at.desc(), Consent.id.desc()).limit(SHOWN)
    if subject_type:
        query = query.where(Consent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(Consent.subject_id == int(subject_id))
    return list(session.scalars(query))


def requests(session, status: str | None = None) -> list[PrivacyRequest]:
    query = select(PrivacyRequest).order_by(PrivacyRequest.due_at.desc(), PrivacyRequest.id.desc()).limit(SHOWN)
    if status:
        query = query.where(PrivacyRequest.status == status)
    return list(session.scalars(query))


def overdue_requests(session, now: datetime | None = None) -> list[PrivacyRequest]:
    now = now or clock.now()
    return list(session.scalars(select(PrivacyRequest).where(PrivacyRequest.status == "filed",
                                                             PrivacyRequest.due_at < now)
                                .order_by(PrivacyRequest.due_at)))


def incidents(session) -> list[SecurityIncident]:
    return list(session.scalars(select(SecurityIncident).order_by(SecurityIncident.reported_at.desc(),
                                                                  SecurityIncident.id.desc()).limit(SHOWN)))


def open_request_count(session, _user=None) -> int:
    return len(session.scalars(select(PrivacyRequest.id).where(PrivacyRequest.status == "filed")).all())


def classification_rows() -> list[dict]:
    """The inventory as rows for the page and its export: table, column, category, grade, note."""
    return [{"table": c.table, "column": c.column, "category": c.category, "grade": c.grade, "note": c.note or ""}
            for c in inventory()]

"""Service-task operators of the personal-information processes (bpmn/privacy): carrying out a person's request
(`privacy.record_decision`, `privacy.export_person`, `privacy.correct_person`, `privacy.erase_person`,
`privacy.tell_requester`) and recording the steps of a security incident (`privacy.record_assessment`,
`privacy.record_containment`, `privacy.record_notification`, `privacy.close_incident`,
`privacy.incident_late`)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput
from erp.identity.models import User
from erp.identity.queries import members_of
from erp.privacy import erasure
from erp.privacy.services import OFFICERS, find_incident, find_request
from erp.privacy.subjects import holdings
from notifications.outbox import enqueue

#: a late incident step is raised again every this many hours until it is done
RECHASE_HOURS = 4


def record_decision(ctx, request, decision, identity_verified, reason=None) -> dict:
    """The officer's decision; a request whose requester's identity was not verified is refused."""
    found = find_request(ctx.session, request)
    if decision not in ("approve", "reject"):
        raise InvalidInput(f"unknown decision {decision!r}", {"decision": ["approve or reject"]})
    approved = decision == "approve" and bool(identity_verified)
    found.identity_verified, found.reason = bool(identity_verified), (reason or "").strip() or None
    found.decided_by, found.decided_at = ctx.actor, clock.now()
    if not approved:
        found.status = "rejected"
        found.outcome = {"rejected": "identity not verified" if decision == "approve" else "refused"}
    ctx.session.flush()
    return {"approved": approved}


def export_person(ctx, request) -> dict:
    """Access and copy: everything held on the person, kept with the request for the officer to hand over."""
    found = find_request(ctx.session, request)
    found.export = holdings(ctx.session, found.subject_type, found.subject_id)
    found.outcome = {"exported": {k: len(v) for k, v in found.export.items() if isinstance(v, list)}}
    return _completed(ctx, found)


def correct_person(ctx, request) -> dict:
    found = find_request(ctx.session, request)
    found.outcome = erasure.correct_person(ctx.session, found.subject_type, found.subject_id, found.corrections,
                                           by=ctx.actor or "system")
    return _completed(ctx, found)


def erase_person(ctx, request) -> dict:
    found = find_request(ctx.session, request)
    found.outcome = erasure.erase_person(ctx.session, found.subject_type, found.subject_id,
                                         by=ctx.actor or "system")
    found.export = None
    return _completed(ctx, found)


def _completed(ctx, found) -> dict:
    found.status = "completed"
    ctx.session.flush()
    return dict(found.outcome)


def tell_requester(ctx, request) -> dict:
    """Mail the requester the outcome (to their address; a request filed without one is answered by hand)."""
    found = find_request(ctx.session, request)
    found.answered_at = clock.now()
    mailed = None
    if found.requester_email:
        mailed = enqueue(ctx.session, "privacy_request_answered", to_email=found.requester_email, context={
            "request_id": found.id, "request_number": found.number, "kind": found.kind, "status": found.status,
            "requester_name": found.requester_name, "reason": found.reason, "outcome": found.outcome or {},
            "answered_at": found.answered_at}, dedupe_key=f"privacy_request_answered:{found.id}")
    ctx.session.flush()
    return {"mailed_to": found.requester_email if mailed is not None else None}


def record_assessment(ctx, incident, severity, sensitive_involved, people_affected, information_involved,
                      notify_regulator, notify_people) -> dict:
    found = find_incident(ctx.session, incident)
    found.severity, found.sensitive_involved = severity, bool(sensitive_involved)
    found.people_affected, found.information_involved = int(people_affected or 0), information_involved
    found.notify_regulator, found.notify_people = bool(notify_regulator), bool(notify_people)
    found.assessed_at, found.status = clock.now(), "assessed"
    ctx.session.flush()
    return {"notify": found.notify_regulator or found.notify_people}


def record_containment(ctx, incident, containment) -> dict:
    found = find_incident(ctx.session, incident)
    found.containment, found.contained_at, found.status = containment, clock.now(), "contained"
    ctx.session.flush()
    return {"contained_at": found.contained_at.isoformat()}


def record_notification(ctx, incident, regulator_reference=None, people_notified=False) -> dict:
    found = find_incident(ctx.session, incident)
    now = clock.now()
    if found.notify_regulator:
        found.regulator_notified_at, found.regulator_reference = now, (regulator_reference or "").strip() or None
    if found.notify_people and people_notified:
        found.people_notified_at = now
    found.status = "notified"
    ctx.session.flush()
    return {"late": now > found.notify_by if found.notify_by else False}


def close_incident(ctx, incident, root_cause, lessons) -> dict:
    found = find_incident(ctx.session, incident)
    found.root_cause, found.lessons = root_cause, lessons
    found.closed_at, found.status = clock.now(), "closed"
    ctx.session.flush()
    return {"closed_at": found.closed_at.isoformat()}


def incident_late(ctx, incident, step, deadline) -> dict:
    """A timed step (assess, notify) is late: the officers and the administrators are told, the escalation is
    recorded, and the step is chased again in RECHASE_HOURS."""
    found = find_incident(ctx.session, incident)
    now = clock.now()
    told = people_to_tell(ctx.session)
    found.escalations = [*found.escalations, {"step": step, "at": now.isoformat(), "told": told}]
    due = datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    for user in told:
        enqueue(ctx.session, "privacy_incident_late", to_user=user, context={
            "incident_id": found.id, "incident_number": found.number, "title": found.title, "step": step,
            "deadline": due, "overdue_hours": max(0, int((now - due).total_seconds() // 3600)),
            "instance_id": ctx.instance_id}, dedupe_key=f"privacy_incident_late:{found.id}:{step}:"
                                                      f"{len(found.escalations)}:{user}")
    ctx.session.flush()
    return {"told": told, "chase_at": (now + timedelta(hours=RECHASE_HOURS)).isoformat()}


def people_to_tell(session) -> list[str]:
    """The officers and every active administrator."""
    admins = [u.username for u in session.scalars(select(User).where(User.active.is_(True)))
              if "administrator" in (u.roles or [])]
    return sorted(set(members_of(session, [OFFICERS])) | set(admins))


def register(registry) -> None:
    for name, fn in (("record_decision", record_decision), ("export_person", export_person),
                     ("correct_person", correct_person), ("erase_person", erase_person),
                     ("tell_requester", tell_requester), ("record_assessment", record_assessment),
                     ("record_containment", record_containment), ("record_notification", record_notification),
                     ("close_incident", close_incident), ("incident_late", incident_late)):
        registry.register(f"privacy.{name}", fn)

"""Recording consents and their withdrawal, filing requests from people about their information and reporting
security incidents (take a session, never commit)."""
from __future__ import annotations

from datetime import datetime, timedelta

from core import clock
from core.calendar import BEIJING, BusinessCalendar
from core.errors import Conflict, InvalidInput, NotFound
from core.settings import load_settings
from erp.privacy.models import CHANNELS, REQUEST_KINDS, Consent, PrivacyRequest, SecurityIncident
from erp.privacy.subjects import CORRECTABLE, find_subject, subject_email, subject_name
from erp.sales.pricing import next_number

#: the group of the person in charge of personal-information protection (个人信息保护负责人)
OFFICERS = "privacy_officers"


def due_workdays() -> int:
    """Working days to answer a person's request (PIPL practice: 15; setting ERP_PI_REQUEST_DUE_WORKDAYS)."""
    return load_settings().pi_request_due_workdays


def incident_hours() -> tuple[int, int]:
    """Hours to assess an incident and to notify the regulator and the people affected (24 and 72; settings
    ERP_INCIDENT_ASSESS_HOURS, ERP_INCIDENT_NOTIFY_HOURS)."""
    settings = load_settings()
    return settings.incident_assess_hours, settings.incident_notify_hours


def record_consent(session, subject_type: str, subject_id, *, purpose: str, scope, channel: str, by: str,
                   given_at: datetime | None = None) -> Consent:
    """A consent the person gave for one purpose covering the listed information (a new row each time)."""
    subject = find_subject(session, subject_type, subject_id)
    purpose = (purpose or "").strip()
    items = [s.strip() for s in (scope.split(",") if isinstance(scope, str) else scope or []) if s and s.strip()]
    errors = {}
    if not purpose:
        errors["purpose"] = ["required"]
    if not items:
        errors["scope"] = ["at least one kind of information"]
    if channel not in CHANNELS:
        errors["channel"] = [f"one of {', '.join(CHANNELS)}"]
    if errors:
        raise InvalidInput("the consent was not recorded", errors)
    consent = Consent(subject_type=subject_type, subject_id=subject.id,
                      subject_name=subject_name(subject, subject_type), purpose=purpose[:60], scope=items,
                      channel=channel, given_at=given_at or clock.now(),
                      recorded_by=by)
    session.add(consent)
    session.flush()
    return consent


def withdraw_consent(session, consent_id, *, by: str, channel: str = "web") -> Consent:
    """The person takes their consent back (撤回同意, PIPL art. 15); the record stays, stamped once."""
    consent = session.get(Consent, int(consent_id))
    if consent is None:
        raise NotFound(f"no consent {consent_id}")
    if consent.withdrawn_at is not None:
        raise Conflict(f"consent {consent.id} was withdrawn already")
    if channel not in CHANNELS:
        raise InvalidInput("unknown channel", {"channel": [f"one of {', '.join(CHANNELS)}"]})
    consent.withdrawn_at, consent.withdrawn_by, consent.withdrawal_channel = clock.now(), by, channel
    session.flush()
    return consent


def file_request(session, *, kind: str, subject_type: str, subject_id, by: str, requester_name: str | None = None,
                 requester_email: str | None = None, channel: str = "web", details: str | None = None,
                 corrections: dict | None = None) -> PrivacyRequest:
    """A request to access, copy, correct or delete a person's information, due within the set number of
    business days; the process is started by erp.privacy.process.start_request."""
    subject = find_subject(session, subject_type, subject_id)
    corrections = {k: v for k, v in (corrections or {}).items() if v not in (None, "")}
    _check_request(kind, subject_type, channel, corrections)
    now = clock.now()
    request = PrivacyRequest(
        number=next_number(session, PrivacyRequest, "PIR", now.astimezone(BEIJING).date()), kind=kind,
        subject_type=subject_type, subject_id=subject.id,
        requester_name=(requester_name or "").strip() or subject_name(subject, subject_type),
        requester_email=(requester_email or "").strip() or subject_email(subject, subject_type), channel=channel,
        details=(details or "").strip() or None, corrections=corrections, filed_by=by, filed_at=now,
        due_at=BusinessCalendar.load(session).add_workdays(now, due_workdays()), status="filed")
    session.add(request)
    session.flush()
    return request


def _check_request(kind, subject_type, channel, corrections) -> None:
    errors = {}
    if kind not in REQUEST_KINDS:
        errors["kind"] = [f"one of {', '.join(REQUEST_KINDS)}"]
    if channel not in CHANNELS:
        errors["channel"] = [f"one of {', '.join(CHANNELS)}"]
    if kind == "correct":
        unknown = sorted(set(corrections) - set(CORRECTABLE.get(subject_type, ())))
        if unknown or not corrections:
            errors["corrections"] = [f"the new values of: {', '.join(CORRECTABLE.get(subject_type, ()))}"]
    if errors:
        raise InvalidInput("the request was not filed", errors)


def find_request(session, request) -> PrivacyRequest:
    found = request if isinstance(request, PrivacyRequest) else session.get(PrivacyRequest, int(request))
    if found is None:
        raise NotFound(f"no personal-information request {request}")
    return found


def report_incident(session, *, title: str, description: str, by: str) -> SecurityIncident:
    """A personal-information security incident as first reported; the clock for its assessment starts now."""
    title, description = (title or "").strip(), (description or "").strip()
    errors = {name: ["required"] for name, value in (("title", title), ("description", description)) if not value}
    if errors:
        raise InvalidInput("the incident was not reported", errors)
    now = clock.now()
    assess, notify = incident_hours()
    incident = SecurityIncident(
        number=next_number(session, SecurityIncident, "SI", now.astimezone(BEIJING).date()), title=title[:200],
        description=description, reported_by=by, reported_at=now, status="reported",
        assess_by=now + timedelta(hours=assess), notify_by=now + timedelta(hours=notify), escalations=[])
    session.add(incident)
    session.flush()
    return incident


def find_incident(session, incident) -> SecurityIncident:
    found = incident if isinstance(incident, SecurityIncident) else session.get(SecurityIncident, int(incident))
    if found is None:
        raise NotFound(f"no security incident {incident}")
    return found


"""Starting the personal-information processes (bpmn/privacy): pi_request for a request from a person and
security_incident for a reported incident. Both work from their table row; the process carries its id."""
from __future__ import annotations

from erp.privacy.models import PrivacyRequest, SecurityIncident
from erp.privacy.services import OFFICERS, file_request, report_incident
from erp.privacy.subjects import CORRECTABLE

REQUEST_PROCESS, INCIDENT_PROCESS = "pi_request", "security_incident"


def start_request(session, engine, request: PrivacyRequest, *, user: str):
    """Hand a filed request to the officers' group, due on the request's due date."""
    data = {"request": request.id, "number": request.number, "kind": request.kind,
            "subject_type": request.subject_type, "subject_id": request.subject_id,
            "requester_name": request.requester_name, "details": request.details or "",
            "corrections": ", ".join(f"{k} → {v}" for k, v in request.corrections.items()
                                     if k in CORRECTABLE[request.subject_type]),
            "due_at": request.due_at.isoformat(), "officers": OFFICERS}
    instance = engine.start(session, REQUEST_PROCESS, data, business_key=request.number, user=user)
    request.instance_id = instance.id
    session.flush()
    return instance


def file_and_start(session, engine, *, user: str, **fields) -> PrivacyRequest:
    request = file_request(session, by=user, **fields)
    start_request(session, engine, request, user=user)
    return request


def start_incident(session, engine, incident: SecurityIncident, *, user: str):
    data = {"incident": incident.id, "number": incident.number, "title": incident.title,
            "description": incident.description, "officers": OFFICERS,
            "assess_by": incident.assess_by.isoformat(), "notify_by": incident.notify_by.isoformat()}
    instance = engine.start(session, INCIDENT_PROCESS, data, business_key=incident.number, user=user)
    incident.instance_id = instance.id
    session.flush()
    return instance


def report_and_start(session, engine, *, user: str, **fields) -> SecurityIncident:
    incident = report_incident(session, by=user, **fields)
    start_incident(session, engine, incident, user=user)
    return incident

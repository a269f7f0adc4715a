"""Starting the implementation process (bpmn/implementation) of a project: one running instance per project,
its business key the project code."""
from __future__ import annotations

from sqlalchemy import select

from core.errors import InvalidInput
from engine.models import ProcessInstance
from erp.projects.common import find_project

PROCESS = "implementation"
#: instance statuses that count as running (an instance with an incident still holds the project)
RUNNING = ("running", "incident", "suspended")


def running_instance(session, project) -> ProcessInstance | None:
    """The project's implementation instance still running, if any."""
    found = find_project(session, project)
    return session.scalar(select(ProcessInstance).where(ProcessInstance.process_key == PROCESS,
                                                        ProcessInstance.business_key == found.code,
                                                        ProcessInstance.status.in_(RUNNING))
                          .order_by(ProcessInstance.id.desc()).limit(1))


def start_implementation(session, engine, project, *, user: str | None):
    """Start the implementation process for `project` (code or id) and return the engine's instance record
    (id, status, ...); refused while one is running or once the project is closed."""
    found = find_project(session, project, lock=True)
    existing = running_instance(session, found)
    if existing is not None:
        raise InvalidInput(f"project {found.code} already has a running implementation process "
                           f"(instance {existing.id})", {"project": ["implementation already running"]})
    if found.status == "closed":
        raise InvalidInput(f"project {found.code} is closed", {"project": ["closed"]})
    return engine.start(session, PROCESS, {"project": found.code}, business_key=found.code, user=user)


def request_change(session, engine, project, *, title: str, requested_by: str, reason: str | None = None,
                   cost_impact=0, days_impact: int = 0):
    """A change request (变更请求) submitted and sent through its approval (process `change_request`, business key
    = its number); returns the change request."""
    from erp.projects.services import submit_change_request

    request = submit_change_request(session, project, title=title, reason=reason, cost_impact=cost_impact,
                                    days_impact=days_impact, requested_by=requested_by, by=requested_by)
    engine.start(session, "change_request", {"change_request": request.number, "requester": requested_by},
                 business_key=request.number, user=requested_by)
    return request

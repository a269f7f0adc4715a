"""Reads for the CLI, pages and the API: definitions, instances, tasks and one instance in full."""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, or_, select
from sqlalchemy.orm import load_only

from core import clock
from core.errors import InvalidInput, NotFound, PermissionDenied
from engine.models import (
    HistoryEvent,
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
    TaskInvolvement,
)
from engine.projection import all_tasks, timers
from engine.store import EVERYONE
from engine.values import jsonable
from engine.worklist import excluded_ids


def definitions(session) -> list[dict]:
    rows = session.scalars(select(ProcessDefinition).options(load_only(
        ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
        ProcessDefinition.deployed_at, ProcessDefinition.deployed_by, ProcessDefinition.content_hash,
        ProcessDefinition.message_starts))
        .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
    return [{"id": d.id, "key": d.key, "version": d.version, "name": d.name,
             "deployed_at": jsonable(d.deployed_at), "deployed_by": d.deployed_by,
             "content_hash": d.content_hash[:12], "message_starts": d.message_starts or []} for d in rows]


def instances(session, *, status=None, key=None, business_key=None, limit=100) -> list[dict]:
    query = (select(ProcessInstance, ProcessDefinition.version)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .options(load_only(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                                ProcessInstance.status, ProcessInstance.started_at, ProcessInstance.started_by,
                                ProcessInstance.updated_at, ProcessInstance.next_timer_at,
                                ProcessInstance.ended_at))
             .order_by(ProcessInstance.id.desc()).limit(limit))
    if status:
        query = query.where(ProcessInstance.status == status)
    if key:
        query = query.where(ProcessInstance.process_key == key)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    return [_instance_summary(i, v) for i, v in session.execute(query).all()]


def _instance_summary(instance, version) -> dict:
    return {"id": instance.id, "key": instance.process_key, "version": version,
            "business_key": instance.business_key, "status": instance.status,
            "started_by": instance.started_by, "started_at": jsonable(instance.started_at),
            "updated_at": jsonable(instance.updated_at), "ended_at": jsonable(instance.ended_at),
            "next_timer_at": jsonable(instance.next_timer_at)}


def tasks(session, *, user=None, groups=(), status="open", instance_id=None, limit=200) -> list[dict]:
    """Open tasks; for a user, those assigned to them or offered to them or to one of their groups."""
    query = select(HumanTask).order_by(HumanTask.priority.desc(), HumanTask.id).limit(limit)
    if status:
        query = query.where(HumanTask.status == status)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if user is not None:
        offered = select(TaskCandidate.task_id).where(or_(
            TaskCandidate.user_name == user, TaskCandidate.group_name.in_([*groups, EVERYONE])),
            TaskCandidate.task_id.not_in(excluded_ids(user)))
        query = query.where(or_(HumanTask.assignee == user,
                                (HumanTask.assignee.is_(None)) & HumanTask.id.in_(offered)))
    return [task_dict(t) for t in session.scalars(query).all()]


def task_dict(t: HumanTask) -> dict:
    return {"id": t.id, "instance_id": t.instance_id, "element_id": t.element_id, "name": t.name,
            "form_key": t.form_key, "lane": t.lane, "assignee": t.assignee,
            "candidate_users": t.candidate_users, "candidate_groups": t.candidate_groups,
            "due_at": jsonable(t.due_at), "priority": t.priority, "status": t.status,
            "created_at": jsonable(t.created_at), "completed_by": t.completed_by,
            "completed_at": jsonable(t.completed_at), "owner": t.owner, "delegation_state": t.delegation_state,
            "follow_up_at": jsonable(t.follow_up_at), "signers_after": list(t.signers_after or []),
            "return_to": list(t.return_to or []), "excluded_users": list(t.excluded_users or [])}


INVOLVEMENT_KINDS = ("handed_on", "delegated", "copied", "signer_requested")


def involved_tasks(session, user: str, kind: str | None = None, page: int = 1,
                   per_page: int = 25) -> tuple[list[dict], int]:
    """The tasks (and whole instances) `user` handed on, delegated, was copied on or asked a signer for,
    newest first: each task's fields plus the involvement's id, kind, by_user, at, note and read_at. A copied
    instance has no task: its id, name and the other task fields are None."""
    if kind is not None and kind not in INVOLVEMENT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(INVOLVEMENT_KINDS)}",
                           {"kind": [f"must be one of {', '.join(INVOLVEMENT_KINDS)}"]})
    if page < 1 or not 1 <= per_page <= 200:
        raise InvalidInput("page must be 1 or more and per_page 1 to 200",
                           {"page" if page < 1 else "per_page": ["out of range"]})
    where = [TaskInvolvement.user_name == user] + ([TaskInvolvement.kind == kind] if kind else [])
    total = session.scalar(select(func.count()).select_from(TaskInvolvement).where(*where))
    rows = session.execute(
        select(TaskInvolvement, HumanTask, ProcessInstance.process_key, ProcessInstance.business_key)
        .outerjoin(HumanTask, HumanTask.id == TaskInvolvement.task_id)
        .join(ProcessInstance, ProcessInstance.id == TaskInvolvement.instance_id)
        .where(*where).order_by(TaskInvolvement.at.desc(), TaskInvolvement.id.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    found = []
    for involvement, task, key, business_key in rows:
        fields = task_dict(task) if task is not None else {
            **{name: None for name in _TASK_FIELDS}, "instance_id": involvement.instance_id,
            "candidate_users": [], "candidate_groups": [], "signers_after": [], "return_to": [],
            "excluded_users": []}
        found.append({**fields, "process_key": key, "business_key": business_key,
                      "involvement_id": involvement.id, "kind": involvement.kind, "by_user": involvement.by_user,
                      "at": jsonable(involvement.at), "note": involvement.note,
                      "read_at": jsonable(involvement.read_at)})
    return found, total


def mark_read(session, involvement_id: int, user: str) -> bool:
    """Mark one of `user`'s involvements (e.g. a copy) read; False when it was read already."""
    involvement = session.get(TaskInvolvement, involvement_id)
    if involvement is None:
        raise NotFound(f"involvement {involvement_id} not found")
    if involvement.user_name != user:
        raise PermissionDenied(f"involvement {involvement_id} is not {user}'s")
    if involvement.read_at is not None:
        return False
    involvement.read_at = clock.now()
    session.flush()
    return True


_TASK_FIELDS = ("id", "element_id", "name", "form_key", "lane", "assignee", "due_at", "priority", "status",
                "created_at", "completed_by", "completed_at", "owner", "delegation_state", "follow_up_at")


def show(engine, session, instance_id: int) -> dict:
    """One instance in full: status, waiting tasks, timers, subscriptions, incidents, history and data."""
    row = session.execute(select(ProcessInstance, ProcessDefinition.version)
                          .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                          .where(ProcessInstance.id == instance_id)).first()
    if row is None:
        raise NotFound(f"process instance {instance_id} not found")
    instance, version = row
    workflow = engine._workflow(session, instance)
    result = _instance_summary(instance, version)
    result["tasks"] = tasks(session, instance_id=instance_id, status="open")
    result["timers"] = [jsonable(t) for t in timers(workflow)]
    result["subscriptions"] = [
        {"message": s.message_name, "correlation": s.correlation_key, "element_id": s.element_id}
        for s in session.scalars(select(MessageSubscription).where(
            MessageSubscription.instance_id == instance_id)).all()]
    result["incidents"] = [
        {"id": i.id, "element_id": i.element_id, "error_type": i.error_type, "message": i.message,
         "open": i.open, "created_at": jsonable(i.created_at)}
        for i in session.scalars(select(Incident).where(Incident.instance_id == instance_id)
                                 .order_by(Incident.id)).all()]
    result["history"] = [
        {"at": jsonable(h.at), "kind": h.kind, "actor": h.actor, "element_id": h.element_id,
         "spiff_task_id": h.spiff_task_id, "data": h.data, "message": h.message}
        for h in session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                 .order_by(HistoryEvent.id)).all()]
    result["data"] = jsonable(current_data(workflow))
    return result


def task_data_now(workflow, spiff_task_id: str | None) -> dict | None:
    """The data workflow task `spiff_task_id` sees now, or None when the saved state no longer holds it (a
    finished task compacted away)."""
    try:
        found = workflow.get_task_from_id(UUID(spiff_task_id))
    except (TaskNotFoundException, ValueError, TypeError, AttributeError):
        return None
    return dict(found.data) if found is not None else None


def current_data(workflow) -> dict:
    """The data as the instance sees it now: the workflow's data once ended, else the newest live task's."""
    if workflow.completed:
        return dict(workflow.data)
    live = [t for t in all_tasks(workflow) if not t.has_state(TaskState.FINISHED_MASK)
            and t.workflow is workflow]
    if not live:
        return dict(workflow.data)
    newest = max(live, key=lambda t: t.last_state_change)
    return dict(newest.data)


def timer_list(engine, session, limit=200) -> list[dict]:
    rows = session.scalars(select(ProcessInstance).where(ProcessInstance.next_timer_at.is_not(None))
                           .order_by(ProcessInstance.next_timer_at).limit(limit)).all()
    found = []
    for instance in rows:
        workflow = engine._workflow(session, instance)
        for timer in timers(workflow):
            found.append({"instance_id": instance.id, "key": instance.process_key, "status": instance.status,
                          **jsonable(timer)})
    return found

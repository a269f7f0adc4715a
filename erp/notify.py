"""Who is told what: turns engine events and escalations into outbox notifications for the right people."""
from __future__ import annotations

from sqlalchemy import select

from engine.events import (
    INCIDENT_RAISED,
    INSTANCE_COMPLETED,
    TASK_COPIED,
    TASK_CREATED,
    TASK_REASSIGNED,
    EngineEvent,
)
from engine.models import ProcessDefinition, ProcessInstance
from erp.identity.queries import display_name, members_of
from notifications.outbox import enqueue


def on_engine_event(session, event: EngineEvent) -> None:
    """Engine listener: new tasks go to their assignee (or every candidate), outcomes to the initiator."""
    if event.kind == TASK_CREATED:
        task = event.data
        people = [task["assignee"]] if task.get("assignee") else sorted(
            set(task.get("candidate_users") or []) | set(members_of(session, task.get("candidate_groups") or [])))
        context = _task_context(session, event, task)
        for user in people:
            enqueue(session, "task_assigned", to_user=user, context=context,
                    dedupe_key=f"task_assigned:{task['id']}:{user}")
    elif event.kind == TASK_REASSIGNED and event.data.get("assignee"):
        # transferred, delegated, resolved, handed to a signer or back: the new assignee hears of it
        task, user = event.data, event.data["assignee"]
        enqueue(session, "task_assigned", to_user=user, context=_task_context(session, event, task),
                dedupe_key=f"task_assigned:{task['id']}:{user}:{task.get('reason')}:{task.get('seq')}")
    elif event.kind == TASK_COPIED:
        copy = event.data
        context = {**_instance_context(session, event), "task_id": copy.get("task_id"),
                   "task_name": copy.get("task_name"), "due_at": copy.get("due_at"),
                   "priority": copy.get("priority"), "assignee": copy.get("assignee"),
                   "copied_by": display_name(session, copy.get("by")), "note": copy.get("note")}
        about = f"task:{copy['task_id']}" if copy.get("task_id") else f"instance:{event.instance_id}"
        for user in copy.get("to_users") or []:
            enqueue(session, "task_copied", to_user=user, context=context,
                    dedupe_key=f"task_copied:{about}:{user}")
    elif event.kind in (INSTANCE_COMPLETED, INCIDENT_RAISED) and event.started_by:
        kind = "instance_completed" if event.kind == INSTANCE_COMPLETED else "instance_failed"
        context = {**_instance_context(session, event), **({"error": event.data.get("message"),
                                                             "element_id": event.data.get("element_id")}
                                                            if event.kind == INCIDENT_RAISED else {})}
        enqueue(session, kind, to_user=event.started_by, context=context,
                dedupe_key=f"{kind}:{event.instance_id}:{event.data.get('element_id') or ''}")


def notify_task(session, kind: str, user: str, task, extra: dict) -> None:
    """For the escalation pass: one notification about an inbox row (an engine HumanTask)."""
    instance = session.get(ProcessInstance, task.instance_id)
    event = EngineEvent(kind, task.instance_id, instance.process_key, instance.business_key, instance.started_by)
    fields = {"id": task.id, "name": task.name, "element_id": task.element_id, "due_at": task.due_at,
              "priority": task.priority, "assignee": task.assignee}
    level = getattr(task, "escalation_level", 0)
    enqueue(session, kind, to_user=user, context={**_task_context(session, event, fields), **extra},
            dedupe_key=f"{kind}:{task.id}:{user}:{level}")


def _instance_context(session, event: EngineEvent) -> dict:
    name = session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.key == event.process_key)
                          .order_by(ProcessDefinition.version.desc()).limit(1))
    return {"instance_id": event.instance_id, "process_key": event.process_key,
            "process_name": name or event.process_key, "business_key": event.business_key,
            "started_by": event.started_by}


def _task_context(session, event: EngineEvent, task: dict) -> dict:
    return {**_instance_context(session, event), "task_id": task["id"],
            "task_name": task.get("name") or task.get("element_id"), "due_at": task.get("due_at"),
            "priority": task.get("priority"), "assignee": task.get("assignee")}


def enqueue_digests(session, now) -> int:
    """Each opted-in user's open tasks (assigned to them or offered to their groups) in one morning mail."""
    from sqlalchemy import or_

    from core.calendar import BEIJING
    from engine.models import HumanTask, TaskCandidate
    from erp.identity.queries import groups_of
    from notifications.digest import enqueue_daily_digests
    from notifications.models import NotificationPreference

    wanting = session.scalars(select(NotificationPreference.username).where(
        NotificationPreference.kind == "daily_digest", NotificationPreference.enabled.is_(True))).all()
    by_user = {}
    for username in wanting:
        groups = groups_of(session, username)
        offered = select(TaskCandidate.task_id).where(or_(TaskCandidate.user_name == username,
                                                          TaskCandidate.group_name.in_(groups or [""])))
        rows = session.execute(
            select(HumanTask, ProcessInstance.process_key, ProcessInstance.business_key)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.status == "open", or_(HumanTask.assignee == username,
                                                   HumanTask.assignee.is_(None) & HumanTask.id.in_(offered)))
            .order_by(HumanTask.due_at)).all()
        by_user[username] = [{"task_id": t.id, "task_name": t.name or t.element_id, "process_name": key,
                              "business_key": bk, "due_at": t.due_at} for t, key, bk in rows]
    return len(enqueue_daily_digests(session, by_user, now.astimezone(BEIJING).date(), at=now))

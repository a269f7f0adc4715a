"""Who is told what: turns engine events and escalations into outbox notifications for the right people.
Given the engine, a mail about a task shows what its form shows of the task's data, masked per recipient."""
from __future__ import annotations

import logging
from functools import partial

from sqlalchemy import select

from engine.api_queries import instance_data, start_form_key, task_data
from engine.events import (
    INCIDENT_RAISED,
    INSTANCE_COMPLETED,
    TASK_COPIED,
    TASK_CREATED,
    TASK_REASSIGNED,
    EngineEvent,
)
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from erp.identity.queries import display_name, members_of
from notifications.outbox import enqueue
from notifications.personal import PersonalInfo, form_details

log = logging.getLogger(__name__)

#: at most this many of a task's values in a mail: what the person needs to act on it, the task page has the rest
DETAIL_ROWS = 8
#: a longer text is cut in a mail
DETAIL_TEXT = 200


def subscribe(engine) -> None:
    """Tell people about `engine`'s events by mail (on_engine_event), the task mails with the task's data."""
    engine.listeners.append(partial(on_engine_event, engine=engine))


def on_engine_event(session, event: EngineEvent, *, engine=None) -> None:
    """Engine listener: new tasks go to their assignee (or every candidate), outcomes to the initiator. With
    the `engine` (see subscribe) a task mail shows the task's data; without it only the task."""
    if event.kind == TASK_CREATED:
        task = event.data
        people = [task["assignee"]] if task.get("assignee") else sorted(
            set(task.get("candidate_users") or []) | set(members_of(session, task.get("candidate_groups") or [])))
        context = _task_context(session, event, task, engine)
        for user in people:
            enqueue(session, "task_assigned", to_user=user, context=context,
                    dedupe_key=f"task_assigned:{task['id']}:{user}")
    elif event.kind == TASK_REASSIGNED and event.data.get("assignee"):
        # transferred, delegated, resolved, handed to a signer or back: the new assignee hears of it
        task, user = event.data, event.data["assignee"]
        enqueue(session, "task_assigned", to_user=user, context=_task_context(session, event, task, engine),
                dedupe_key=f"task_assigned:{task['id']}:{user}:{task.get('reason')}:{task.get('seq')}")
    elif event.kind == TASK_COPIED:
        copy = event.data
        context = {**_instance_context(session, event), "task_id": copy.get("task_id"),
                   "task_name": copy.get("task_name"), "due_at": copy.get("due_at"),
                   "priority": copy.get("priority"), "assignee": copy.get("assignee"),
                   "copied_by": display_name(session, copy.get("by")), "note": copy.get("note")}
        context = _with_details(engine, session, copy.get("task_id"), context)
        about = f"task:{copy['task_id']}" if copy.get("task_id") else f"instance:{event.instance_id}"
        for user in copy.get("to_users") or []:
            enqueue(session, "task_copied", to_user=user, context=context,
                    dedupe_key=f"task_copied:{about}:{user}")
    elif event.kind in (INSTANCE_COMPLETED, INCIDENT_RAISED) and event.started_by:
        kind = "instance_completed" if event.kind == INSTANCE_COMPLETED else "instance_failed"
        context = {**_instance_context(session, event), **({"error": event.data.get("message"),
                                                             "element_id": event.data.get("element_id")}
                                                            if event.kind == INCIDENT_RAISED else {})}
        if engine is not None:
            details = instance_details(engine, session, event.instance_id, mail=context)
            context = {**context, "details": details} if details is not None else context
        enqueue(session, kind, to_user=event.started_by, context=context,
                dedupe_key=f"{kind}:{event.instance_id}:{event.data.get('element_id') or ''}")


def notify_task(session, kind: str, user: str, task, extra: dict, *, engine=None) -> None:
    """For the escalation pass: one notification about an inbox row (an engine HumanTask); with the `engine`
    (partial(notify_task, engine=...)) it shows the task's data."""
    instance = session.get(ProcessInstance, task.instance_id)
    event = EngineEvent(kind, task.instance_id, instance.process_key, instance.business_key, instance.started_by)
    fields = {"id": task.id, "name": task.name, "element_id": task.element_id, "due_at": task.due_at,
              "priority": task.priority, "assignee": task.assignee}
    level = getattr(task, "escalation_level", 0)
    enqueue(session, kind, to_user=user, context={**_task_context(session, event, fields, engine), **extra},
            dedupe_key=f"{kind}:{task.id}:{user}:{level}")


def _instance_context(session, event: EngineEvent) -> dict:
    name = session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.key == event.process_key)
                          .order_by(ProcessDefinition.version.desc()).limit(1))
    return {"instance_id": event.instance_id, "process_key": event.process_key,
            "process_name": name or event.process_key, "business_key": event.business_key,
            "started_by": event.started_by}


def _task_context(session, event: EngineEvent, task: dict, engine=None) -> dict:
    context = {**_instance_context(session, event), "task_id": task["id"],
               "task_name": task.get("name") or task.get("element_id"), "due_at": task.get("due_at"),
               "priority": task.get("priority"), "assignee": task.get("assignee")}
    return _with_details(engine, session, task["id"], context)


def _with_details(engine, session, task_id: int | None, context: dict) -> dict:
    """The mail's context with the task's data as `details` when there is any to show."""
    if engine is None or task_id is None:
        return context
    # the engine writes tasks and instances with Core statements: read what it just saved, not an older copy
    task = session.execute(select(HumanTask).where(HumanTask.id == task_id)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    details = task_details(engine, session, task, mail=context) if task is not None else None
    return {**context, "details": details} if details is not None else context


def task_details(engine, session, task: HumanTask, *, mail: dict | None = None) -> PersonalInfo | None:
    """What a mail about the open `task` shows of its data: the plain values (text, numbers, yes/no; no lists
    or objects) of the fields its form shows read-only (x-context), of its own form and of the process's start
    form, in that order, at most DETAIL_ROWS; personal as those forms mark them. What the `mail`'s context says
    anyway (a value of the same name, the business key) is not repeated. None when there is nothing to show.

    A mail is not worth failing the step that sends it: when the data cannot be read, the mail goes without."""
    try:
        values, schemas = _task_values(engine, session, task, mail or {})
    except Exception:
        log.exception("task %s: its mail goes without the task's data", task.id)
        return None
    return form_details("task", task.id, values, schemas) if values else None


def _task_values(engine, session, task: HumanTask, mail: dict) -> tuple[dict, list[dict]]:
    catalog = engine.forms
    if task.status != "open" or not task.form_key or not catalog.exists(task.form_key):
        return {}, []
    # task_data reads the instance's state through the session: make it the state the engine just saved
    instance = session.execute(select(ProcessInstance).where(ProcessInstance.id == task.instance_id)
                               .execution_options(populate_existing=True)).scalar_one()
    data = task_data(engine, session, task)
    form = catalog.get(task.form_key).schema
    schemas = [form.get("x-context") or {}, form]
    start = start_form_key(engine, session, instance.definition_id)
    if start and start != task.form_key and catalog.exists(start):
        schemas.append(catalog.get(start).schema)
    return _plain_values(data, schemas, mail), schemas


def instance_details(engine, session, instance_id: int, *, mail: dict | None = None) -> PersonalInfo | None:
    """What a mail about a whole instance (completed, failed) shows of its data: the plain values of its start
    form's fields as the instance holds them now, at most DETAIL_ROWS, personal as the form marks them; None
    when the process has no start form or nothing to show. As for tasks, the mail goes without them when the
    data cannot be read."""
    try:
        definition_id = session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))
        start = start_form_key(engine, session, definition_id)
        if not start or not engine.forms.exists(start):
            return None
        schemas = [engine.forms.get(start).schema]
        values = _plain_values(instance_data(engine, session, instance_id), schemas, mail or {})
    except Exception:
        log.exception("instance %s: its mail goes without the instance's data", instance_id)
        return None
    return form_details("instance", instance_id, values, schemas) if values else None


def _plain_values(data: dict, schemas: list[dict], mail: dict) -> dict:
    """The plain values (text, numbers, yes/no) of the schemas' fields in `data`, in the schemas' order, at most
    DETAIL_ROWS, long text cut; without what the mail says anyway (a value of the same name, the business key)."""
    values = {}
    for name in dict.fromkeys(name for schema in schemas for name in schema.get("properties") or {}):
        value = data.get(name)
        if (name in mail or value in (None, "", mail.get("business_key"))
                or not isinstance(value, (str, int, float, bool))):
            continue
        values[name] = value[:DETAIL_TEXT - 1] + "…" if isinstance(value, str) and len(value) > DETAIL_TEXT else value
        if len(values) == DETAIL_ROWS:
            break
    return values


def enqueue_digests(session, now, engine=None) -> int:
    """Each opted-in user's open tasks (assigned to them or offered to their groups) in one morning mail; with
    the `engine` each task with its data."""
    from sqlalchemy import or_

    from core.calendar import BEIJING
    from engine.models import TaskCandidate
    from erp.identity.queries import groups_of
    from notifications.digest import enqueue_daily_digests
    from notifications.models import NotificationPreference

    wanting = session.scalars(select(NotificationPreference.username).where(
        NotificationPreference.kind == "daily_digest", NotificationPreference.enabled.is_(True))).all()
    by_user, details = {}, {}  # details: each task's, read once however many people it is offered to
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
        by_user[username] = [_digest_row(engine, session, t, key, bk, details) for t, key, bk in rows]
    return len(enqueue_daily_digests(session, by_user, now.astimezone(BEIJING).date(), at=now))


def _digest_row(engine, session, task, process_key: str, business_key: str | None, details: dict) -> dict:
    row = {"task_id": task.id, "task_name": task.name or task.element_id, "process_name": process_key,
           "business_key": business_key, "due_at": task.due_at}
    if engine is None:
        return row
    if task.id not in details:
        details[task.id] = task_details(engine, session, task, mail=row)
    return {**row, "details": details[task.id]} if details[task.id] is not None else row

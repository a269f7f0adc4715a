"""Reads the JSON API needs beyond engine.queries: start forms, definition sources, the instances a person may
see, one task with its process, a task's current data and paged history."""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import exists, func, or_, select

from core.errors import NotFound
from engine.models import (
    HistoryEvent,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
    TaskInvolvement,
)
from engine.parsing import form_key_of
from engine.queries import current_data, task_data_now
from engine.store import EVERYONE
from engine.values import jsonable
from engine.worklist import DUE_SOON

#: engine -> {definition id: (the start event's form key or None, process key)}; a version never changes
_start_forms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ---------------------------------------------------------------------- definitions


def start_form_key(engine, session, definition_id: int) -> str | None:
    """The form a person fills in to start the process: the `formKey` of its (none) start event, else by
    convention forms/<key>/start or forms/<key>/request if the catalogue has one."""
    known = _start_forms.setdefault(engine, {})
    if definition_id not in known:
        spec, _subprocesses = engine._spec(session, definition_id)
        starts = [ts for ts in spec.task_specs.values() if isinstance(ts, StartEvent)]
        plain = [ts for ts in starts if isinstance(getattr(ts, "event_definition", None), NoneEventDefinition)]
        keys = [form_key_of(ts) for ts in plain or starts]
        process_key = session.scalar(select(ProcessDefinition.key).where(ProcessDefinition.id == definition_id))
        known[definition_id] = (next((k for k in keys if k), None), process_key)
    named, key = known[definition_id]
    return named or next((k for k in (f"{key}/start", f"{key}/request") if engine.forms.exists(k)), None)


def definitions(engine, session, *, all_versions: bool) -> list[dict]:
    """Every deployed process, newest version only unless `all_versions`; ordered by key, then version."""
    latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    query = (select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
                    ProcessDefinition.deployed_at, ProcessDefinition.deployed_by,
                    ProcessDefinition.message_starts, latest.c.version.label("latest_version"))
             .join(latest, latest.c.key == ProcessDefinition.key)
             .order_by(ProcessDefinition.key, ProcessDefinition.version))
    if not all_versions:
        query = query.where(ProcessDefinition.version == latest.c.version)
    return [{"id": d.id, "key": d.key, "name": d.name, "version": d.version,
             "latest": d.version == d.latest_version, "deployed_at": jsonable(d.deployed_at),
             "deployed_by": d.deployed_by, "message_starts": d.message_starts or [],
             "start_form_key": start_form_key(engine, session, d.id)}
            for d in session.execute(query).all()]


def definition_id(session, key: str, version: int | None = None) -> int:
    query = select(ProcessDefinition.id).where(ProcessDefinition.key == key)
    query = query.where(ProcessDefinition.version == version) if version is not None else \
        query.order_by(ProcessDefinition.version.desc()).limit(1)
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"no process definition {key!r}" + (f" version {version}" if version is not None else ""))
    return found


def definition_source(session, key: str, version: int) -> tuple[str, str]:
    """(file name, BPMN XML) of the file that holds process `key` in that version."""
    sources = session.scalar(select(ProcessDefinition.sources).where(ProcessDefinition.key == key,
                                                                     ProcessDefinition.version == version))
    if sources is None:
        raise NotFound(f"no process definition {key!r} version {version}")
    pattern = re.compile(r"<(?:[\w.-]+:)?process\b[^>]*\bid=[\"']" + re.escape(key) + r"[\"']")
    name = next((n for n, text in sorted(sources.items()) if pattern.search(text)), None)
    name = name or next(n for n in sorted(sources) if not n.lower().endswith(".dmn"))
    return name, sources[name]


def form_keys(engine, session, definition_id: int) -> list[str]:
    """Every form a version of a process uses: its user tasks' and its start form."""
    keys = set((session.scalar(select(ProcessDefinition.forms).where(ProcessDefinition.id == definition_id))
                or {}).values())
    start = start_form_key(engine, session, definition_id)
    if start:
        keys.add(start)
    return sorted(keys)


# ---------------------------------------------------------------------- instances


@dataclass(frozen=True)
class Viewer:
    """Who looks at instances without seeing all of them: the instances `started_by` one of `starters` (the
    user and the people reporting to them), and those the user has or had a task in, was offered one, or
    was involved in (transfer, delegation, copy)."""

    user: str
    groups: frozenset[str] = frozenset()
    starters: frozenset[str] = field(default_factory=frozenset)


def visible_clause(viewer: Viewer):
    """The instances `viewer` may see, as a WHERE clause on process_instance."""
    instance_id = ProcessInstance.id
    return or_(
        ProcessInstance.started_by.in_(sorted({viewer.user, *viewer.starters})),
        exists().where(HumanTask.instance_id == instance_id,
                       or_(HumanTask.assignee == viewer.user, HumanTask.completed_by == viewer.user,
                           HumanTask.owner == viewer.user)),
        exists().where(HumanTask.instance_id == instance_id, HumanTask.status == "open",
                       HumanTask.assignee.is_(None), TaskCandidate.task_id == HumanTask.id,
                       or_(TaskCandidate.user_name == viewer.user,
                           TaskCandidate.group_name.in_([*sorted(viewer.groups), EVERYONE]))),
        exists().where(TaskInvolvement.instance_id == instance_id, TaskInvolvement.user_name == viewer.user),
    )


def instance_visible(session, instance_id: int, viewer: Viewer | None) -> bool:
    """Whether the instance exists and (for a viewer who may not see all instances) the viewer may see it."""
    query = select(ProcessInstance.id).where(ProcessInstance.id == instance_id)
    if viewer is not None:
        query = query.where(visible_clause(viewer))
    return session.scalar(query) is not None


def instance_page(session, *, viewer: Viewer | None, status=None, key=None, business_key=None, page=1,
                  per_page=25) -> tuple[list[dict], int]:
    """Instances newest first; all of them for viewer None."""
    query = (select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                    ProcessInstance.status, ProcessInstance.started_by, ProcessInstance.started_at,
                    ProcessInstance.updated_at, ProcessInstance.ended_at, ProcessDefinition.version,
                    ProcessDefinition.name)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id))
    if viewer is not None:
        query = query.where(visible_clause(viewer))
    if status:
        query = query.where(ProcessInstance.status == status)
    if key:
        query = query.where(ProcessInstance.process_key == key)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(ProcessInstance.id.desc()).limit(per_page)
                           .offset((page - 1) * per_page)).all()
    return [{"id": r.id, "process_key": r.process_key, "process_name": r.name, "version": r.version,
             "business_key": r.business_key, "status": r.status, "started_by": r.started_by,
             "started_at": jsonable(r.started_at), "updated_at": jsonable(r.updated_at),
             "ended_at": jsonable(r.ended_at)} for r in rows], total


def instance_definition(session, instance_id: int) -> int:
    found = session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))
    if found is None:
        raise NotFound(f"process instance {instance_id} not found")
    return found


def history_page(session, instance_id: int, *, page=1, per_page=100) -> tuple[list[dict], int]:
    query = select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(HistoryEvent.id).limit(per_page).offset((page - 1) * per_page)).all()
    return [{"id": h.id, "at": jsonable(h.at), "kind": h.kind, "actor": h.actor, "element_id": h.element_id,
             "element_type": h.element_type, "data": h.data, "message": h.message} for h in rows], total


# ---------------------------------------------------------------------- tasks


def _task_query():
    return (select(HumanTask, ProcessInstance.process_key, ProcessInstance.business_key, ProcessInstance.started_by,
                   ProcessInstance.status.label("instance_status"), ProcessDefinition.name.label("process_name"))
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .execution_options(populate_existing=True))  # the engine writes task rows with Core statements


def task_detail(session, task_id: int, *, now: datetime) -> dict | None:
    """One task (any status) with its process, in the shape of an inbox row plus its work state."""
    row = session.execute(_task_query().where(HumanTask.id == task_id)).first()
    return None if row is None else _task_dict(row, now)


def open_tasks(session, instance_id: int, *, now: datetime) -> list[dict]:
    rows = session.execute(_task_query().where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
                           .order_by(HumanTask.id)).all()
    return [_task_dict(row, now) for row in rows]


def _task_dict(row, now: datetime) -> dict:
    t = row[0]
    due = t.due_at
    is_open = t.status == "open"
    return {"id": t.id, "instance_id": t.instance_id, "name": t.name, "element_id": t.element_id,
            "form_key": t.form_key, "status": t.status, "lane": t.lane, "assignee": t.assignee,
            "candidate_users": t.candidate_users or [], "candidate_groups": t.candidate_groups or [],
            "priority": t.priority, "due_at": jsonable(due), "follow_up_at": jsonable(t.follow_up_at),
            "created_at": jsonable(t.created_at), "claimed_at": jsonable(t.claimed_at),
            "completed_at": jsonable(t.completed_at), "completed_by": t.completed_by,
            "owner": t.owner, "delegation_state": t.delegation_state,
            "signers_after": t.signers_after or [], "escalation_level": t.escalation_level,
            "overdue": bool(is_open and due and due < now),
            "due_soon": bool(is_open and due and now <= due < now + DUE_SOON),
            "process_key": row.process_key, "process_name": row.process_name, "business_key": row.business_key,
            "started_by": row.started_by, "instance_status": row.instance_status}


def instance_data(engine, session, instance_id: int) -> dict:
    """The data instance `instance_id` holds now (its final data once completed), as JSON values."""
    _record, workflow = engine.load(session, instance_id)
    return jsonable(current_data(workflow))


def task_data(engine, session, task: HumanTask) -> dict:
    """The data the open task sees now (what its form starts from); {} once it is no longer waiting."""
    if task.status != "open":
        return {}
    instance = session.get(ProcessInstance, task.instance_id)
    data = task_data_now(engine._workflow(session, instance), task.spiff_task_id)
    return jsonable(data) if data is not None else {}

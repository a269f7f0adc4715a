"""The engine's hot-path reads and writes in SQLAlchemy Core, with statements built once and executed on the
session's connection: one statement per table per step, the instance row guarded by its lock version."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update

from core.errors import Conflict, NotFound
from engine.models import (
    HistoryEvent,
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessInstance,
    TaskCandidate,
)


@dataclass
class InstanceRecord:
    id: int | None
    definition_id: int
    process_key: str
    business_key: str | None
    status: str
    state: str
    lock_version: int
    started_by: str | None
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    next_timer_at: datetime | None = None


_instances = ProcessInstance.__table__
_tasks = HumanTask.__table__
INSTANCE_COLUMNS = [_instances.c[f.name] for f in fields(InstanceRecord)]
_WRITABLE = ("status", "state", "updated_at", "ended_at", "next_timer_at")

_SELECT_INSTANCE = select(*INSTANCE_COLUMNS).where(_instances.c.id == bindparam("instance_id"))
_INSERT_INSTANCE = insert(_instances).returning(_instances.c.id)
_UPDATE_INSTANCE = (
    update(_instances)
    .where(_instances.c.id == bindparam("b_id"), _instances.c.lock_version == bindparam("b_version"))
    .values(lock_version=bindparam("b_next_version"), **{n: bindparam(n) for n in _WRITABLE}))
_INSERT_TASK = insert(_tasks).returning(_tasks.c.id)
_FINISH_TASK = (update(_tasks).where(_tasks.c.id == bindparam("b_id"))
                .values(status="completed", completed_at=bindparam("completed_at"),
                        completed_by=bindparam("completed_by")))
_DROP_CANDIDATES = delete(TaskCandidate.__table__).where(TaskCandidate.__table__.c.task_id == bindparam("b_id"))
_INSERTS = {model: insert(model.__table__)
            for model in (HistoryEvent, Incident, MessageSubscription, TaskCandidate)}
_INSERTS_RETURNING = {model: statement.returning(model.__table__.c.id) for model, statement in _INSERTS.items()}


def record_from(row) -> InstanceRecord:
    return InstanceRecord(*row)


def fetch_instance(session, instance_id: int) -> InstanceRecord:
    row = session.connection().execute(_SELECT_INSTANCE, {"instance_id": instance_id}).first()
    if row is None:
        raise NotFound(f"process instance {instance_id} not found")
    return record_from(row)


def insert_instance(session, record: InstanceRecord) -> int:
    values = {f.name: getattr(record, f.name) for f in fields(InstanceRecord) if f.name != "id"}
    record.id = session.connection().execute(_INSERT_INSTANCE, values).scalar_one()
    return record.id


def update_instance(session, record: InstanceRecord) -> None:
    """Write the record if nobody else wrote the instance since it was read; else raise Conflict."""
    params = {name: getattr(record, name) for name in _WRITABLE}
    params.update(b_id=record.id, b_version=record.lock_version, b_next_version=record.lock_version + 1)
    if session.connection().execute(_UPDATE_INSTANCE, params).rowcount != 1:
        raise Conflict(f"process instance {record.id} was changed by someone else at the same time; "
                       "reload and try again")
    record.lock_version += 1


#: the candidate group of a task that names no candidates (anyone may take it)
EVERYONE = "*"


def finish_task(session, task_id: int, user: str, at: datetime) -> None:
    conn = session.connection()
    conn.execute(_FINISH_TASK, {"b_id": task_id, "completed_by": user, "completed_at": at})
    conn.execute(_DROP_CANDIDATES, {"b_id": task_id})


def drop_candidates_of_closed(session, instance_id: int) -> None:
    """Forget the candidates of an instance's tasks that are no longer open: inbox queries then read only
    open work, however long the history grows (the task row keeps its candidates as lists)."""
    session.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status != "open"))))


def insert_human_tasks(session, instance_id: int, tasks: list[dict]) -> list[int]:
    conn = session.connection()
    ids = []
    for task in tasks:
        task_id = conn.execute(_INSERT_TASK, {"instance_id": instance_id, **task}).scalar_one()
        candidates = ([{"task_id": task_id, "user_name": u, "group_name": None} for u in task["candidate_users"]]
                      + [{"task_id": task_id, "user_name": None, "group_name": g}
                         for g in task["candidate_groups"]])
        # A task that names nobody is open to everyone: one row for the pseudo-group keeps inbox queries indexed.
        candidates = candidates or [{"task_id": task_id, "user_name": None, "group_name": EVERYONE}]
        # Excluded users (excludedUsers) get a row of their own, which the inbox subtracts from the task ids
        # the user's candidate rows find; it names no candidate, so no candidate lookup ever matches it.
        candidates = [{**row, "excluded_user": None} for row in candidates] + [
            {"task_id": task_id, "user_name": None, "group_name": None, "excluded_user": u}
            for u in task.get("excluded_users") or []]
        conn.execute(_INSERTS[TaskCandidate], candidates)
        ids.append(task_id)
    return ids


def _insert_rows(session, model, instance_id: int, rows: list[dict]) -> None:
    if rows:
        columns = model.__table__.c.keys()
        # executemany needs every row to name the same columns
        full = [{c: row.get(c) for c in columns if c != "id"} | {"instance_id": instance_id} for row in rows]
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            conn.execute(_INSERTS[model], full)  # executemany is cheap in-process
        else:
            # With RETURNING, SQLAlchemy sends many rows as one cached multi-row INSERT ("insertmanyvalues");
            # psycopg's own executemany would cost a round trip per row.
            conn.execute(_INSERTS_RETURNING[model], full).all()


def insert_history(session, instance_id: int, events: list[dict]) -> None:
    _insert_rows(session, HistoryEvent, instance_id, events)


def insert_incidents(session, instance_id: int, incidents: list[dict]) -> None:
    _insert_rows(session, Incident, instance_id, incidents)


def insert_subscriptions(session, instance_id: int, subscriptions: list[dict]) -> None:
    _insert_rows(session, MessageSubscription, instance_id, subscriptions)

"""The inbox reads: a user's tasks and their groups' unclaimed tasks, filtered, sorted and paginated, with
the counts shown in the navigation. Built for large inboxes: every branch is an indexed lookup."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, union

from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate
from engine.store import EVERYONE
from engine.values import jsonable

VIEWS = ("mine", "group", "all")
SORTS = {
    "due": (HumanTask.due_at,),
    "priority": (HumanTask.priority,),
    "created": (HumanTask.created_at,),
    "process": (ProcessInstance.process_key,),
    "business_key": (ProcessInstance.business_key,),
}
DUE_SOON = timedelta(hours=24)


@dataclass
class InboxFilter:
    view: str = "all"
    process: str | None = None
    business_key: str | None = None
    overdue: bool = False
    due_soon: bool = False
    min_priority: int | None = None
    text: str | None = None
    sort: str = "due"
    descending: bool = False

    @classmethod
    def from_args(cls, args) -> InboxFilter:
        """From a query string (the inbox page, the API and saved filters use the same names)."""
        def flag(name):
            return str(args.get(name, "")).lower() in ("1", "true", "yes", "on")

        view = args.get("view") if args.get("view") in VIEWS else "all"
        sort = args.get("sort") if args.get("sort") in SORTS else "due"
        priority = args.get("min_priority")
        return cls(view=view, process=args.get("process") or None, business_key=args.get("business_key") or None,
                   overdue=flag("overdue"), due_soon=flag("due_soon"),
                   min_priority=int(priority) if str(priority or "").isdigit() else None,
                   text=(args.get("q") or "").strip()[:100] or None, sort=sort, descending=flag("desc"))


def _visible_ids(user: str, groups, view: str):
    """Ids of the open tasks `user` sees: assigned to them (mine), offered to them or their groups and not yet
    claimed (group), or both (all)."""
    mine = select(HumanTask.id).where(HumanTask.status == "open", HumanTask.assignee == user)
    offered = (select(TaskCandidate.task_id)
               .join(HumanTask, HumanTask.id == TaskCandidate.task_id)
               .where(HumanTask.status == "open", HumanTask.assignee.is_(None),
                      or_(TaskCandidate.user_name == user,
                          TaskCandidate.group_name.in_([*sorted(groups), EVERYONE])))
               .distinct())
    if view == "mine":
        return mine
    if view == "group":
        return offered
    return union(mine, offered)


def _base(user, groups, flt: InboxFilter, now: datetime):
    ids = _visible_ids(user, groups, flt.view).subquery()
    query = (select(HumanTask, ProcessInstance.process_key, ProcessInstance.business_key,
                    ProcessInstance.started_by, ProcessDefinition.name.label("process_name"))
             .join(ids, ids.c[0] == HumanTask.id)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id))
    if flt.process:
        query = query.where(ProcessInstance.process_key == flt.process)
    if flt.business_key:
        query = query.where(ProcessInstance.business_key.startswith(flt.business_key, autoescape=True))
    if flt.overdue:
        query = query.where(HumanTask.due_at < now)
    if flt.due_soon:
        query = query.where(and_(HumanTask.due_at >= now, HumanTask.due_at < now + DUE_SOON))
    if flt.min_priority is not None:
        query = query.where(HumanTask.priority >= flt.min_priority)
    if flt.text:
        pattern = f"%{flt.text}%"
        query = query.where(or_(HumanTask.name.ilike(pattern), ProcessInstance.business_key.ilike(pattern)))
    return query


def inbox(session, user: str, groups, flt: InboxFilter, *, now: datetime, page: int = 1,
          per_page: int = 25) -> tuple[list[dict], int]:
    query = _base(user, groups, flt, now)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = []
    for column in SORTS[flt.sort]:
        key = column.desc() if flt.descending else column.asc()
        order.append(key.nulls_last())
    order.append(HumanTask.priority.desc())
    order.append(HumanTask.id)
    rows = session.execute(query.order_by(*order).limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return [row_dict(row, now) for row in rows], total


def row_dict(row, now: datetime) -> dict:
    task = row[0]
    due = task.due_at
    return {"id": task.id, "instance_id": task.instance_id, "name": task.name, "element_id": task.element_id,
            "form_key": task.form_key, "assignee": task.assignee, "candidate_groups": task.candidate_groups,
            "candidate_users": task.candidate_users, "priority": task.priority,
            "due_at": jsonable(due), "created_at": jsonable(task.created_at),
            "overdue": bool(due and due < now), "due_soon": bool(due and now <= due < now + DUE_SOON),
            "process_key": row.process_key, "process_name": row.process_name, "business_key": row.business_key,
            "started_by": row.started_by}


def counts(session, user: str, groups, *, now: datetime) -> dict:
    """The navigation's badges: my tasks, my groups' unclaimed tasks, and my overdue ones."""
    mine = session.scalar(select(func.count()).select_from(_visible_ids(user, groups, "mine").subquery()))
    group = session.scalar(select(func.count()).select_from(_visible_ids(user, groups, "group").subquery()))
    overdue = session.scalar(select(func.count()).where(
        HumanTask.status == "open", HumanTask.assignee == user, HumanTask.due_at < now))
    return {"mine": mine, "group": group, "overdue": overdue}


def processes_in_inbox(session, user: str, groups) -> list[str]:
    """The process keys the user has open tasks of (for the filter's choices)."""
    ids = _visible_ids(user, groups, "all").subquery()
    return list(session.scalars(select(ProcessInstance.process_key).distinct()
                                .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                                .join(ids, ids.c[0] == HumanTask.id).order_by(ProcessInstance.process_key)))

"""The inbox reads: a user's tasks and their groups' unclaimed tasks, filtered, sorted and paginated, with
the counts shown in the navigation. Built for large inboxes: every branch is an indexed lookup."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, any_, case, func, literal, or_, select, union_all

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


def _id_in(ids, dialect: str):
    """`human_task.id IN (ids)`, written so the database probes the primary key once per id the subquery
    returns instead of scanning every open task. For `IN (subquery)` PostgreSQL's planner prefers a hash join
    over a sequential scan of human_task; `= ANY(ARRAY(subquery))` runs the subquery once and probes the
    primary key index with its result."""
    if dialect == "postgresql":
        return HumanTask.id == any_(func.array(ids.scalar_subquery()))
    return HumanTask.id.in_(ids)


def _candidate_ids(user: str, groups):
    """Ids of the tasks offered to `user` or one of their groups, claimed or not, less those that exclude the
    user (excludedUsers): both sides are lookups in task_candidate's (name, task_id) indexes."""
    return select(TaskCandidate.task_id).where(
        or_(TaskCandidate.user_name == user, TaskCandidate.group_name.in_([*sorted(groups), EVERYONE])),
        TaskCandidate.task_id.not_in(excluded_ids(user)))


def excluded_ids(user: str):
    """Ids of the open tasks that exclude `user` (ix_task_candidate_excluded_task)."""
    return select(TaskCandidate.task_id).where(TaskCandidate.excluded_user == user)


def _visibility(user: str, groups, view: str, dialect: str) -> list:
    """The open tasks `user` sees, as one WHERE clause per branch: assigned to them (mine), offered to them or
    their groups and not yet claimed (group), or both (all). The branches never overlap, so their rows can be
    put together with UNION ALL; each branch reads only the rows it finds through an index (the user's
    assigned tasks, the tasks their candidate rows name), never every open task."""
    mine = and_(HumanTask.status == "open", HumanTask.assignee == user)
    offered = and_(HumanTask.status == "open", HumanTask.assignee.is_(None),
                   _id_in(_candidate_ids(user, groups), dialect))
    return {"mine": [mine], "group": [offered]}.get(view, [mine, offered])


def _visible_ids(user: str, groups, view: str, dialect: str):
    """SELECT the ids of the open tasks `user` sees in `view`."""
    return _union([select(HumanTask.id).where(clause) for clause in _visibility(user, groups, view, dialect)])


def _union(selects):
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def _filtered(columns, user, groups, flt: InboxFilter, now: datetime, dialect: str):
    """SELECT `columns` of the visible tasks that match the filter, plus `branch` (0: assigned to the user,
    1: offered to them), as a subquery (one UNION ALL branch per visibility clause, each filtered); the
    instance is joined only when a filter or the sort needs it."""
    branches = []
    clauses = _visibility(user, groups, flt.view, dialect)
    numbers = {"mine": [0], "group": [1]}.get(flt.view, [0, 1])
    for clause, number in zip(clauses, numbers, strict=True):
        query = select(*columns, literal(number).label("branch")).where(clause)
        if flt.process or flt.business_key or flt.text or flt.sort in ("process", "business_key"):
            query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
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
            # literal text: % and _ typed in the search box match themselves, not anything
            query = query.where(or_(HumanTask.name.icontains(flt.text, autoescape=True),
                                    ProcessInstance.business_key.icontains(flt.text, autoescape=True)))
        branches.append(query)
    return _union(branches).subquery()


@dataclass
class InboxPage:
    rows: list[dict]
    #: the tasks matching the filter
    total: int
    #: of those, assigned to the user and offered to them (unclaimed)
    mine: int
    offered: int


def inbox(session, user: str, groups, flt: InboxFilter, *, now: datetime, page: int = 1,
          per_page: int = 25) -> tuple[list[dict], int]:
    """One page of the user's inbox and the number of tasks that match the filter."""
    found = inbox_page(session, user, groups, flt, now=now, page=page, per_page=per_page)
    return found.rows, found.total


def inbox_page(session, user: str, groups, flt: InboxFilter, *, now: datetime, page: int = 1,
               per_page: int = 25) -> InboxPage:
    """One page of the user's inbox with its totals, in two statements: the page's ids and the totals (window
    counts) from one narrow walk over the visible tasks, then the full rows of those ids with their instance
    and process. Unfiltered, the totals are the navigation's counts too, so a page walks the inbox once."""
    dialect = _dialect(session)
    sort_columns = SORTS[flt.sort]
    columns = tuple(dict.fromkeys((HumanTask.id, HumanTask.priority, *sort_columns)))  # sort=priority: once
    visible = _filtered(columns, user, groups, flt, now, dialect)
    order = []
    for column in sort_columns:
        key = visible.c[column.key]
        order.append((key.desc() if flt.descending else key.asc()).nulls_last())
    order += [visible.c.priority.desc(), visible.c.id]
    page = max(page, 1)
    mine = func.sum(case((visible.c.branch == 0, 1), else_=0)).over()
    found = session.execute(select(visible.c.id, func.count().over().label("total"), mine.label("mine"))
                            .order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    if not found:
        if page == 1:
            return InboxPage([], 0, 0, 0)
        total, mine_total = session.execute(select(func.count(), func.coalesce(func.sum(
            case((visible.c.branch == 0, 1), else_=0)), 0)).select_from(visible)).one()
        return InboxPage([], total, mine_total, total - mine_total)
    ids = [row.id for row in found]
    rows = session.execute(
        select(HumanTask, ProcessInstance.process_key, ProcessInstance.business_key, ProcessInstance.started_by,
               ProcessDefinition.name.label("process_name"))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(HumanTask.id.in_(ids))).all()
    by_id = {row[0].id: row for row in rows}
    total, mine_total = found[0].total, int(found[0].mine or 0)
    return InboxPage([row_dict(by_id[i], now) for i in ids if i in by_id], total, mine_total, total - mine_total)


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
    dialect = _dialect(session)
    mine = session.scalar(select(func.count()).select_from(_visible_ids(user, groups, "mine", dialect).subquery()))
    group = session.scalar(select(func.count()).select_from(
        _visible_ids(user, groups, "group", dialect).subquery()))
    return {"mine": mine, "group": group, "overdue": overdue_count(session, user, now=now)}


def assigned_count(session, user: str) -> int:
    """My open tasks (an index lookup, unlike the count of my groups' offered tasks)."""
    return session.scalar(select(func.count()).where(HumanTask.status == "open", HumanTask.assignee == user))


def overdue_count(session, user: str, *, now: datetime) -> int:
    return session.scalar(select(func.count()).where(
        HumanTask.status == "open", HumanTask.assignee == user, HumanTask.due_at < now))


def is_unfiltered(flt: InboxFilter) -> bool:
    """Whether the filter shows everything of its view (then the page's totals are the navigation's counts)."""
    return not (flt.process or flt.business_key or flt.overdue or flt.due_soon or flt.min_priority is not None
                or flt.text)


def process_keys(session) -> list[str]:
    """The keys of the deployed processes (the inbox filter's choices)."""
    return list(session.scalars(select(ProcessDefinition.key).distinct().order_by(ProcessDefinition.key)))

"""Setting policies and running the reminder/escalation pass (take a session, never commit)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from core import clock
from core.errors import InvalidInput
from engine.models import HumanTask, ProcessInstance
from erp.escalation.models import EscalationPolicy
from erp.identity.queries import leads_of, manager_of, members_of

#: the policy when no row matches: remind a day ahead; once overdue, raise priority and tell the manager
DEFAULT = dict(remind_before_minutes=1440, notify_manager=True, raise_priority_by=20, reassign_to=None,
               repeat_after_minutes=None, max_level=3, enabled=True)
POLICY_FIELDS = tuple(DEFAULT)
LOOKAHEAD = timedelta(days=14)  # the longest reminder lead time considered


@dataclass(frozen=True)
class Policy:
    remind_before_minutes: int
    notify_manager: bool
    raise_priority_by: int
    reassign_to: str | None
    repeat_after_minutes: int | None
    max_level: int
    enabled: bool


def set_policy(session, *, process_key=None, element_id=None, user=None, **fields) -> EscalationPolicy:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown policy fields: {', '.join(sorted(unknown))}")
    if element_id and not process_key:
        raise InvalidInput("a task-level policy needs its process")
    row = session.scalars(select(EscalationPolicy).where(
        EscalationPolicy.process_key.is_(None) if process_key is None else EscalationPolicy.process_key == process_key,
        EscalationPolicy.element_id.is_(None) if element_id is None else EscalationPolicy.element_id == element_id,
    )).first()
    if row is None:
        row = EscalationPolicy(process_key=process_key, element_id=element_id, **DEFAULT)
        session.add(row)
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = clock.now(), user
    session.flush()
    return row


class PolicyBook:
    """All policies, read once per pass; the most specific row wins (task, then process, then default)."""

    def __init__(self, session):
        self._rows = {(r.process_key, r.element_id): r for r in session.scalars(select(EscalationPolicy))}

    def for_task(self, process_key: str, element_id: str) -> Policy:
        row = (self._rows.get((process_key, element_id)) or self._rows.get((process_key, None))
               or self._rows.get((None, None)))
        return Policy(**({f: getattr(row, f) for f in POLICY_FIELDS} if row is not None else DEFAULT))


def run_escalations(session, engine, notify, now: datetime | None = None, limit: int = 200) -> dict:
    """Send due-soon reminders and escalate overdue tasks. `notify(session, kind, username, task, extra)`
    writes one notification. Rows are claimed with SKIP LOCKED on PostgreSQL, so workers never share one."""
    now = now or clock.now()
    book = PolicyBook(session)
    done = {"reminded": 0, "escalated": 0}
    for task, key in _claim(session, now + LOOKAHEAD, limit, reminders=True):
        policy = book.for_task(key, task.element_id)
        if not policy.enabled or policy.remind_before_minutes <= 0 or task.due_at <= now:
            continue
        if task.due_at - timedelta(minutes=policy.remind_before_minutes) <= now:
            for user in _people_on(session, task):
                notify(session, "task_due_soon", user, task, {"process_key": key})
            engine.remind(session, task.id)
            done["reminded"] += 1
    for task, key in _claim(session, now, limit, reminders=False):
        policy = book.for_task(key, task.element_id)
        if not policy.enabled or task.escalation_level >= policy.max_level:
            continue
        if task.escalated_at is not None and (policy.repeat_after_minutes is None or task.escalated_at
                                              + timedelta(minutes=policy.repeat_after_minutes) > now):
            continue
        _escalate(session, engine, notify, task, key, policy)
        done["escalated"] += 1
    return done


def _claim(session, until, limit, *, reminders):
    query = (select(HumanTask, ProcessInstance.process_key)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.due_at <= until,
                    ProcessInstance.status.in_(("running", "incident")))
             .order_by(HumanTask.due_at).limit(limit))
    query = query.where(HumanTask.reminded_at.is_(None)) if reminders else query.where(or_(
        HumanTask.escalated_at.is_(None), HumanTask.escalation_level > 0))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=HumanTask, skip_locked=True)
    return session.execute(query).all()


def _people_on(session, task) -> list[str]:
    if task.assignee:
        return [task.assignee]
    return sorted(set(task.candidate_users) | set(members_of(session, task.candidate_groups)))


def _escalate(session, engine, notify, task, key, policy) -> None:
    people = _people_on(session, task)
    bosses = []
    if policy.notify_manager:
        if task.assignee:
            bosses = [m for m in [manager_of(session, task.assignee)] if m]
        else:
            bosses = sorted({lead for group in task.candidate_groups for lead in leads_of(session, group)})
    overdue_by = clock.now() - task.due_at
    reason = f"overdue by {int(overdue_by.total_seconds() // 3600)} h" + (
        f"; told {', '.join(bosses)}" if bosses else "; nobody to tell (no manager or group lead)"
        if policy.notify_manager else "")
    engine.escalate(session, task.id, reason=reason, raise_priority_by=policy.raise_priority_by,
                    reassign_to=policy.reassign_to)
    for user in people:
        notify(session, "task_overdue", user, task, {"process_key": key})
    for boss in bosses:
        notify(session, "task_escalated", boss, task, {"process_key": key, "reason": reason,
                                                       "escalated_from": task.assignee or ", ".join(people)})
    if policy.reassign_to:
        notify(session, "task_assigned", policy.reassign_to, task, {"process_key": key, "reason": reason})

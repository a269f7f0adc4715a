"""The daily digest: one mail per user who switched it on, listing their open tasks (the caller, which
knows the inbox, supplies the tasks; nothing here asks the engine)."""
from __future__ import annotations

from datetime import date, datetime, time

from notifications.models import OutboxMessage
from notifications.outbox import enqueue, wants
from notifications.rendering import BEIJING, as_datetime

KIND = "daily_digest"


def enqueue_daily_digests(session, open_tasks_by_user: dict[str, list[dict]], day: date,
                          *, at: datetime | None = None) -> list[OutboxMessage]:
    """Enqueue `day`'s digest for every user with open tasks who wants one (at most one per user and day,
    however often this runs). Each task is a dict with task_id, task_name, process_name and optionally
    business_key, due_at (aware datetime or ISO text), amount (CNY) and details (a PersonalInfo, e.g. the
    task's form data: masked or shown and logged per recipient, like in every mail)."""
    day_starts = datetime.combine(day, time.min, tzinfo=BEIJING)
    enqueued = []
    for username, tasks in sorted(open_tasks_by_user.items()):
        if not tasks or not wants(session, username, KIND):
            continue
        listed = sorted((_listed(task, day_starts) for task in tasks), key=_by_due)
        message = enqueue(session, KIND, to_user=username, context={"day": day, "tasks": listed},
                          dedupe_key=f"{KIND}:{username}:{day.isoformat()}", at=at)
        if message is not None:
            enqueued.append(message)
    return enqueued


def _listed(task: dict, day_starts: datetime) -> dict:
    due_at = task.get("due_at")
    return {"business_key": None, "amount": None, **task, "due_at": due_at,
            "overdue": due_at is not None and as_datetime(due_at) < day_starts}


def _by_due(task: dict) -> tuple:
    due_at = task["due_at"]
    return (due_at is None, as_datetime(due_at) if due_at is not None else None, str(task["task_name"]))

"""The people side of a project: requirements (需求) traced to processes and forms, the training plan
(培训计划) with attendance, and the communication plan (沟通计划) with its next dates."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import select

from erp.audit.services import record
from erp.projects.common import (
    add_error,
    checked_choice,
    checked_date,
    checked_number,
    checked_text,
    find_project,
    get,
    refuse_if,
    today,
)
from erp.projects.models import (
    CADENCES,
    COMMUNICATION_KINDS,
    PRIORITIES,
    REQUIREMENT_STATUSES,
    TRACE_KINDS,
    Communication,
    Requirement,
    TrainingAttendance,
    TrainingSession,
)

#: requirement status → the statuses it may move to
REQUIREMENT_MOVES = {"proposed": ("approved", "rejected"), "approved": ("implemented", "rejected"),
                     "implemented": ("verified", "approved"), "verified": (), "rejected": ("proposed",)}


# ---------------------------------------------------------------------- requirements

def add_requirement(session, project, *, code: str, title: str, description: str | None = None,
                    priority: str = "should", owner: str | None = None, traces=(), by: str | None = None
                    ) -> Requirement:
    """A proposed requirement; traces name the processes and forms that implement it."""
    project = find_project(session, project)
    errors: dict = {}
    code = checked_text(code, "code", errors, length=20)
    title = checked_text(title, "title", errors, length=300)
    priority = checked_choice(priority, PRIORITIES, "priority", errors)
    links = checked_traces(traces, errors)
    if code and session.scalar(select(Requirement.id).where(Requirement.project_id == project.id,
                                                            Requirement.code == code)) is not None:
        add_error(errors, "code", f"requirement {code} exists already")
    refuse_if(errors, "requirement not added")
    requirement = Requirement(project_id=project.id, code=code, title=title, description=description,
                              priority=priority, status="proposed", owner=owner, traces=links)
    session.add(requirement)
    session.flush()
    record(session, "projects.requirement_added", actor=by, target_type="project", target_id=project.id,
           after={"code": code, "title": title, "priority": priority, "owner": owner, "traces": links})
    return requirement


def checked_traces(traces, errors: dict) -> list[dict]:
    links = []
    for n, trace in enumerate(traces or ()):
        kind, ref = (trace.get("kind"), trace.get("ref")) if isinstance(trace, dict) else (None, None)
        if kind not in TRACE_KINDS or not isinstance(ref, str) or not ref.strip():
            add_error(errors, f"traces.{n}", f"give {{'kind': {' | '.join(TRACE_KINDS)}, 'ref': text}}")
            continue
        if {"kind": kind, "ref": ref.strip()} not in links:
            links.append({"kind": kind, "ref": ref.strip()})
    return links


def set_requirement_status(session, requirement, status: str, *, traces=None, by: str | None = None
                           ) -> Requirement:
    """Move a requirement along proposed → approved → implemented → verified (or rejected); `traces`, when
    given, replace its traces. Only an implemented requirement with at least one trace can be verified."""
    requirement = get(session, Requirement, requirement, "requirement")
    errors: dict = {}
    status = checked_choice(status, REQUIREMENT_STATUSES, "status", errors)
    links = checked_traces(traces, errors) if traces is not None else requirement.traces
    if status and status != requirement.status and status not in REQUIREMENT_MOVES[requirement.status]:
        add_error(errors, "status", f"a {requirement.status} requirement cannot become {status}")
    if status in ("implemented", "verified") and not links:
        add_error(errors, "traces", "trace it to the process or form that implements it first")
    refuse_if(errors, f"requirement {requirement.code} not changed")
    before = {"status": requirement.status, "traces": requirement.traces}
    requirement.status, requirement.traces = status, list(links)
    session.flush()
    record(session, "projects.requirement_changed", actor=by, target_type="project",
           target_id=requirement.project_id, before={"code": requirement.code, **before},
           after={"code": requirement.code, "status": status, "traces": links})
    return requirement


# ---------------------------------------------------------------------- training

def add_training_session(session, project, *, title: str, starts_at: datetime, duration_hours,
                         audience: str | None = None, trainer: str | None = None, location: str | None = None,
                         invitees=(), by: str | None = None) -> TrainingSession:
    project = find_project(session, project)
    errors: dict = {}
    title = checked_text(title, "title", errors)
    hours = checked_number(duration_hours, "duration_hours", errors, low=None)
    if hours is not None and hours <= 0:
        add_error(errors, "duration_hours", "must be more than zero")
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        add_error(errors, "starts_at", "a timezone-aware moment")
    refuse_if(errors, "training session not added")
    training = TrainingSession(project_id=project.id, title=title, audience=audience, trainer=trainer,
                               starts_at=starts_at, duration_hours=hours, location=location)
    session.add(training)
    session.flush()
    record(session, "projects.training_added", actor=by, target_type="project", target_id=project.id,
           after={"session": training.id, "title": title, "starts_at": starts_at, "duration_hours": hours,
                  "trainer": trainer})
    invite(session, training, invitees, by=by)
    return training


def invite(session, training, usernames, *, by: str | None = None) -> list[TrainingAttendance]:
    """Invite people to a session (those already invited are left as they are)."""
    training = get(session, TrainingSession, training, "training session")
    known = {a.username for a in _attendance(session, training)}
    added = []
    for username in dict.fromkeys(u.strip() for u in usernames if u and u.strip()):
        if username not in known:
            added.append(TrainingAttendance(session_id=training.id, username=username, attended=False))
    session.add_all(added)
    session.flush()
    if added:
        record(session, "projects.training_invited", actor=by, target_type="project",
               target_id=training.project_id, after={"session": training.id, "invited": [a.username for a in added]})
    return added


def record_attendance(session, training, username: str, attended: bool = True, *, by: str | None = None
                      ) -> TrainingAttendance:
    """Whether an invited person was there (someone not invited is invited and marked)."""
    training = get(session, TrainingSession, training, "training session")
    if not isinstance(username, str) or not username.strip():
        refuse_if({"username": ["required"]}, "attendance not recorded")
    row = next((a for a in _attendance(session, training) if a.username == username.strip()), None)
    if row is None:
        row = TrainingAttendance(session_id=training.id, username=username.strip())
        session.add(row)
    row.attended = bool(attended)
    session.flush()
    record(session, "projects.attendance_recorded", actor=by, target_type="project", target_id=training.project_id,
           after={"session": training.id, "username": row.username, "attended": row.attended})
    return row


def _attendance(session, training) -> list[TrainingAttendance]:
    return list(session.scalars(select(TrainingAttendance).where(TrainingAttendance.session_id == training.id)))


# ---------------------------------------------------------------------- the communication plan

def add_communication(session, project, *, name: str, kind: str, audience_group: str, cadence: str, owner: str,
                      weekday: int, starting=None, by: str | None = None) -> Communication:
    """A recurring meeting, report or email; it is first due on `weekday` on or after `starting` (today)."""
    project = find_project(session, project)
    errors: dict = {}
    name = checked_text(name, "name", errors)
    kind = checked_choice(kind, COMMUNICATION_KINDS, "kind", errors)
    audience_group = checked_text(audience_group, "audience_group", errors, length=100)
    cadence = checked_choice(cadence, CADENCES, "cadence", errors)
    owner = checked_text(owner, "owner", errors, length=100)
    weekday = checked_choice(weekday, range(7), "weekday", errors)
    first = checked_date(starting, "starting", errors, required=False) or today()
    refuse_if(errors, "communication not added")
    item = Communication(project_id=project.id, name=name, kind=kind, audience_group=audience_group,
                         cadence=cadence, owner=owner, weekday=weekday, next_on=on_weekday(first, weekday))
    session.add(item)
    session.flush()
    record(session, "projects.communication_added", actor=by, target_type="project", target_id=project.id,
           after={"communication": item.id, "name": name, "kind": kind, "audience_group": audience_group,
                  "cadence": cadence, "weekday": weekday, "next_on": item.next_on})
    return item


def on_weekday(day: date, weekday: int) -> date:
    """The first `weekday` (0 = Monday) on or after `day`."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def following(day: date, cadence: str, weekday: int) -> date:
    """The date after `day` a communication of this cadence is due: a week or two later, or for monthly the
    first `weekday` on or after the same day of the next month."""
    if cadence == "weekly":
        return day + timedelta(days=7)
    if cadence == "biweekly":
        return day + timedelta(days=14)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    same_day = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return on_weekday(same_day, weekday)


def next_dates(item: Communication, count: int) -> list[date]:
    dates = [item.next_on]
    while len(dates) < count:
        dates.append(following(dates[-1], item.cadence, item.weekday))
    return dates[:count]


def advance_communication(session, item, *, by: str | None = None) -> Communication:
    """It took place (or the report went out): move next_on to the following date."""
    item = get(session, Communication, item, "communication")
    before = item.next_on
    item.next_on = following(before, item.cadence, item.weekday)
    session.flush()
    record(session, "projects.communication_advanced", actor=by, target_type="project", target_id=item.project_id,
           before={"communication": item.id, "next_on": before}, after={"communication": item.id,
                                                                          "next_on": item.next_on})
    return item

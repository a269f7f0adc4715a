"""Changing an implementation project: the project with its five phases and seven KPIs, members, work packages,
tasks and progress, milestones, budget lines, timesheets and expenses. Take a session, never commit; refusals
write nothing. Gate reviews and change requests are in gates.py, requirements, training and the communication
plan in engagement.py; their functions are exported from here too."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core import clock
from erp.audit.services import record
from erp.catalog.money import to_cents
from erp.projects.common import (
    add_error,
    checked_choice,
    checked_date,
    checked_number,
    checked_percent,
    checked_text,
    find_phase,
    find_project,
    find_work_package,
    get,
    ordered,
    refuse_if,
    today,
)
from erp.projects.engagement import (  # noqa: F401  (exported)
    add_communication,
    add_requirement,
    add_training_session,
    advance_communication,
    invite,
    record_attendance,
    set_requirement_status,
)
from erp.projects.gates import (  # noqa: F401  (exported)
    decide_change_request,
    decide_gate,
    start_phase,
    submit_change_request,
    submit_gate,
)
from erp.projects.kpis import create_default_kpis
from erp.projects.models import (
    BUDGET_CATEGORIES,
    PHASE_KEYS,
    PHASES,
    ROLES,
    STREAMS,
    BudgetLine,
    Expense,
    Milestone,
    Project,
    ProjectMember,
    ProjectPhase,
    ProjectTask,
    Timesheet,
    WorkPackage,
)

HUNDRED = Decimal(100)


# ---------------------------------------------------------------------- the project

def create_project(session, *, code: str, name_zh: str, name_en: str, manager: str, start_date, planned_end,
                   sponsor: str | None = None, goals: str | None = None, scope: str | None = None,
                   by: str | None = None) -> Project:
    """A project in planning with its five phases (planned dates split evenly) and its seven KPIs."""
    errors: dict = {}
    code = checked_text(code, "code", errors, length=40)
    name_zh = checked_text(name_zh, "name_zh", errors)
    name_en = checked_text(name_en, "name_en", errors)
    manager = checked_text(manager, "manager", errors, length=100)
    start = checked_date(start_date, "start_date", errors)
    end = checked_date(planned_end, "planned_end", errors)
    ordered(start, end, "planned_end", errors)
    if start and end and end >= start and (end - start).days < len(PHASES) - 1:
        add_error(errors, "planned_end", f"at least {len(PHASES)} days, one per phase")
    if code and session.scalar(select(Project.id).where(Project.code == code.upper())) is not None:
        add_error(errors, "code", f"project {code.upper()} exists already")
    refuse_if(errors, "project not created")
    project = Project(code=code.upper(), name_zh=name_zh, name_en=name_en, manager=manager, sponsor=sponsor,
                      goals=goals, scope=scope, start_date=start, planned_end=end, status="planning",
                      created_at=clock.now(), created_by=by)
    session.add(project)
    session.flush()
    for seq, (key, (first, last)) in enumerate(zip(PHASE_KEYS, _split(start, end), strict=True), start=1):
        session.add(ProjectPhase(project_id=project.id, seq=seq, key=key, planned_start=first, planned_end=last,
                                 status="not_started"))
    create_default_kpis(session, project)
    session.flush()
    record(session, "projects.project_created", actor=by, target_type="project", target_id=project.id,
           after={"code": project.code, "name_zh": name_zh, "manager": manager, "start_date": start,
                  "planned_end": end})
    return project


def _split(start: date, end: date) -> list[tuple[date, date]]:
    """The days start..end (inclusive) cut into five consecutive ranges as even as whole days allow."""
    total, n = (end - start).days + 1, len(PHASES)
    firsts = [start + timedelta(days=i * total // n) for i in range(n)]
    return [(first, (firsts[i + 1] - timedelta(days=1)) if i + 1 < n else end) for i, first in enumerate(firsts)]


# ---------------------------------------------------------------------- members

def add_member(session, project, username: str, role: str, *, allocation_percent=Decimal(100),
               hourly_rate=Decimal(0), group_name: str | None = None, by: str | None = None) -> ProjectMember:
    """A person in a project role; the group defaults to the role's BPMN lane (models.ROLES)."""
    project = find_project(session, project)
    errors: dict = {}
    username = checked_text(username, "username", errors, length=100)
    role = checked_choice(role, tuple(ROLES), "role", errors)
    allocation = checked_percent(allocation_percent, "allocation_percent", errors)
    rate = checked_number(hourly_rate, "hourly_rate", errors)
    if username and role and _member(session, project, username, role) is not None:
        add_error(errors, "username", f"{username} is already {role} in {project.code}")
    refuse_if(errors, "member not added")
    member = ProjectMember(project_id=project.id, username=username, role=role,
                           group_name=group_name or ROLES[role], allocation_percent=allocation, hourly_rate=rate)
    session.add(member)
    session.flush()
    record(session, "projects.member_added", actor=by, target_type="project", target_id=project.id,
           after={"username": username, "role": role, "group_name": member.group_name,
                  "allocation_percent": allocation, "hourly_rate": rate})
    return member


def _member(session, project, username: str, role: str | None = None) -> ProjectMember | None:
    query = select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.username == username)
    if role is not None:
        query = query.where(ProjectMember.role == role)
    rows = session.scalars(query.order_by(ProjectMember.id)).all()
    return rows[0] if rows else None


# ---------------------------------------------------------------------- work packages and tasks

def add_work_package(session, project, phase_key: str, *, code: str, name: str, owner: str, planned_start,
                     planned_end, budget, stream: str | None = None, depends_on: str | None = None,
                     by: str | None = None) -> WorkPackage:
    project = find_project(session, project)
    phase = find_phase(session, project, phase_key)
    errors: dict = {}
    code = checked_text(code, "code", errors, length=20)
    name = checked_text(name, "name", errors)
    owner = checked_text(owner, "owner", errors, length=100)
    start = checked_date(planned_start, "planned_start", errors)
    end = checked_date(planned_end, "planned_end", errors)
    ordered(start, end, "planned_end", errors)
    amount = checked_number(budget, "budget", errors)
    stream = checked_choice(stream, STREAMS, "stream", errors, required=False)
    if code and session.scalar(select(WorkPackage.id).where(WorkPackage.project_id == project.id,
                                                            WorkPackage.code == code)) is not None:
        add_error(errors, "code", f"work package {code} exists already")
    predecessor = _predecessor(session, project, depends_on, errors)
    refuse_if(errors, "work package not added")
    package = WorkPackage(project_id=project.id, phase_id=phase.id, code=code, name=name, owner=owner,
                          stream=stream, planned_start=start, planned_end=end, budget=amount,
                          percent_complete=Decimal(0), status="not_started",
                          depends_on_id=predecessor.id if predecessor else None)
    session.add(package)
    session.flush()
    record(session, "projects.work_package_added", actor=by, target_type="project", target_id=project.id,
           after={"code": code, "name": name, "phase": phase.key, "owner": owner, "planned_start": start,
                  "planned_end": end, "budget": amount, "stream": stream})
    return package


def _predecessor(session, project, code, errors):
    if code is None:
        return None
    found = session.scalar(select(WorkPackage).where(WorkPackage.project_id == project.id,
                                                     WorkPackage.code == code))
    if found is None:
        add_error(errors, "depends_on", f"no work package {code}")
    return found


def add_task(session, project, work_package_code: str, *, name: str, planned_start, planned_end,
             assignee: str | None = None, deliverable: str | None = None, depends_on: int | None = None,
             by: str | None = None) -> ProjectTask:
    project = find_project(session, project)
    package = find_work_package(session, project, work_package_code)
    errors: dict = {}
    name = checked_text(name, "name", errors)
    start = checked_date(planned_start, "planned_start", errors)
    end = checked_date(planned_end, "planned_end", errors)
    ordered(start, end, "planned_end", errors)
    if depends_on is not None and _task_of(session, project, depends_on) is None:
        add_error(errors, "depends_on", f"no task {depends_on} in {project.code}")
    refuse_if(errors, "task not added")
    task = ProjectTask(work_package_id=package.id, name=name, assignee=assignee, planned_start=start,
                       planned_end=end, percent_complete=Decimal(0), status="open", deliverable=deliverable,
                       depends_on_id=depends_on)
    session.add(task)
    session.flush()
    record(session, "projects.task_added", actor=by, target_type="project", target_id=project.id,
           after={"task": task.id, "work_package": package.code, "name": name, "assignee": assignee,
                  "planned_start": start, "planned_end": end})
    return task


def _task_of(session, project, task_id) -> ProjectTask | None:
    return session.scalar(select(ProjectTask).join(WorkPackage, WorkPackage.id == ProjectTask.work_package_id)
                          .where(WorkPackage.project_id == project.id, ProjectTask.id == task_id))


def set_progress(session, work_package_or_task, percent, *, actual_start=None, actual_end=None,
                 by: str | None = None):
    """Percent complete (0-100) of a work package or task; work starts today unless `actual_start` is given and
    ends today at 100 % unless `actual_end` is given."""
    item = work_package_or_task
    if not isinstance(item, WorkPackage | ProjectTask):
        raise TypeError("set_progress takes a WorkPackage or a ProjectTask")
    errors: dict = {}
    value = checked_percent(percent, "percent", errors)
    start = checked_date(actual_start, "actual_start", errors, required=False) or item.actual_start
    end = checked_date(actual_end, "actual_end", errors, required=False)
    if value is not None and value > 0 and start is None:
        start = today()
    if value == HUNDRED and end is None:
        end = item.actual_end or max(today(), start)
    ordered(start, end, "actual_end", errors)
    refuse_if(errors, "progress not recorded")
    before = {"percent_complete": item.percent_complete, "status": item.status, "actual_start": item.actual_start,
              "actual_end": item.actual_end}
    item.percent_complete, item.actual_start = value, start
    item.actual_end = end if value == HUNDRED else None
    if isinstance(item, WorkPackage):
        item.status = "done" if value == HUNDRED else "in_progress" if value > 0 else "not_started"
        project_id, label = item.project_id, {"work_package": item.code}
    else:
        item.status = "done" if value == HUNDRED else "open"
        project_id = session.get(WorkPackage, item.work_package_id).project_id
        label = {"task": item.id}
    session.flush()
    record(session, "projects.progress_set", actor=by, target_type="project", target_id=project_id,
           before={**label, **before}, after={**label, "percent_complete": value, "status": item.status,
                                              "actual_start": item.actual_start, "actual_end": item.actual_end})
    return item


# ---------------------------------------------------------------------- milestones

def add_milestone(session, project, *, name: str, due_date, phase_key: str | None = None,
                  by: str | None = None) -> Milestone:
    project = find_project(session, project)
    phase = find_phase(session, project, phase_key) if phase_key else None
    errors: dict = {}
    name = checked_text(name, "name", errors)
    due = checked_date(due_date, "due_date", errors)
    refuse_if(errors, "milestone not added")
    milestone = Milestone(project_id=project.id, phase_id=phase.id if phase else None, name=name, due_date=due)
    session.add(milestone)
    session.flush()
    record(session, "projects.milestone_added", actor=by, target_type="project", target_id=project.id,
           after={"milestone": milestone.id, "name": name, "due_date": due, "phase": phase_key})
    return milestone


def achieve_milestone(session, milestone, *, on=None, by: str | None = None) -> Milestone:
    milestone = get(session, Milestone, milestone, "milestone")
    errors: dict = {}
    day = checked_date(on, "on", errors, required=False) or today()
    refuse_if(errors, "milestone not achieved")
    milestone.achieved_on = day
    session.flush()
    record(session, "projects.milestone_achieved", actor=by, target_type="project", target_id=milestone.project_id,
           after={"milestone": milestone.id, "name": milestone.name, "achieved_on": day})
    return milestone


# ---------------------------------------------------------------------- budget and actual cost

def add_budget_line(session, project, phase_key: str, *, category: str, amount, description: str | None = None,
                    by: str | None = None) -> BudgetLine:
    project = find_project(session, project)
    phase = find_phase(session, project, phase_key)
    errors: dict = {}
    category = checked_choice(category, BUDGET_CATEGORIES, "category", errors)
    value = checked_number(amount, "amount", errors, low=None)
    refuse_if(errors, "budget line not added")
    line = BudgetLine(project_id=project.id, phase_id=phase.id, category=category, amount=value,
                      description=description)
    session.add(line)
    session.flush()
    record(session, "projects.budget_line_added", actor=by, target_type="project", target_id=project.id,
           after={"phase": phase.key, "category": category, "amount": value, "description": description})
    return line


def log_time(session, project, work_package_code: str, username: str, work_date, hours, *,
             role: str | None = None, by: str | None = None) -> Timesheet:
    """Hours of a project member on a work package, costed at the member's hourly rate now (the rate of `role`
    when the person holds several roles, else of their first role)."""
    project = find_project(session, project)
    package = find_work_package(session, project, work_package_code)
    errors: dict = {}
    day = checked_date(work_date, "work_date", errors)
    amount = checked_number(hours, "hours", errors, low=Decimal("0.01"), high=Decimal(24))
    member = _member(session, project, username, role)
    if member is None:
        add_error(errors, "username", f"{username} is not a member of {project.code}"
                  + (f" as {role}" if role else ""))
    refuse_if(errors, "time not logged")
    sheet = Timesheet(project_id=project.id, work_package_id=package.id, username=username, work_date=day,
                      hours=amount, cost=to_cents(amount * member.hourly_rate))
    session.add(sheet)
    session.flush()
    record(session, "projects.time_logged", actor=by or username, target_type="project", target_id=project.id,
           after={"work_package": package.code, "username": username, "work_date": day, "hours": amount,
                  "cost": sheet.cost})
    return sheet


def add_expense(session, project, *, category: str, spent_on, amount, work_package_code: str | None = None,
                phase_key: str | None = None, description: str | None = None, by: str | None = None) -> Expense:
    project = find_project(session, project)
    package = find_work_package(session, project, work_package_code) if work_package_code else None
    phase = find_phase(session, project, phase_key) if phase_key else None
    errors: dict = {}
    category = checked_choice(category, BUDGET_CATEGORIES, "category", errors)
    day = checked_date(spent_on, "spent_on", errors)
    value = checked_number(amount, "amount", errors, low=Decimal("0.01"))
    refuse_if(errors, "expense not added")
    expense = Expense(project_id=project.id, work_package_id=package.id if package else None,
                      phase_id=phase.id if phase else package.phase_id if package else None, category=category,
                      spent_on=day, amount=value, description=description)
    session.add(expense)
    session.flush()
    record(session, "projects.expense_added", actor=by, target_type="project", target_id=project.id,
           after={"category": category, "spent_on": day, "amount": value, "work_package": work_package_code,
                  "phase": phase_key, "description": description})
    return expense

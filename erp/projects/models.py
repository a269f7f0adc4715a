"""Implementation-project tables (实施项目): the project and its five phases (阶段) with gate reviews (阶段评审),
work packages and tasks (工作包 / 任务), milestones (里程碑), members and roles, requirements (需求) traced to
processes and forms, training (培训), the communication plan (沟通计划), change requests (变更请求), budget
lines, baselines, timesheets and expenses (the actual cost of earned value), and KPIs (关键绩效指标).

Money is Decimal CNY rounded to the cent; percentages are Decimal 0-100.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime

Money = Numeric(18, 2)
Percent = Numeric(5, 2)
Hours = Numeric(8, 2)
Measure = Numeric(18, 4)
ZERO = Decimal("0.00")

PROJECT_STATUSES = ("planning", "active", "closed")
#: the five phases in order, with their Chinese and English names
PHASES = (("understanding", "理解与规划", "Understanding and planning"),
          ("preparation", "实施准备", "Preparation"),
          ("execution", "项目执行", "Execution"),
          ("go_live", "上线", "Go-live"),
          ("optimisation", "持续优化", "Continuous optimisation"))
PHASE_KEYS = tuple(key for key, _, _ in PHASES)
PHASE_STATUSES = ("not_started", "in_progress", "gate_review", "done")
GATE_DECISIONS = ("approved", "rejected")
WORK_PACKAGE_STATUSES = ("not_started", "in_progress", "done")
STREAMS = ("configuration", "data_migration", "training", "testing")
TASK_STATUSES = ("open", "done")
#: role → the BPMN lane / candidate group its members work in
ROLES = {"project_manager": "project_managers", "technical_expert": "technical_experts",
         "business_analyst": "business_analysts", "tester": "testers",
         "user_representative": "user_representatives"}
PRIORITIES = ("must", "should", "could", "wont")
REQUIREMENT_STATUSES = ("proposed", "approved", "implemented", "verified", "rejected")
TRACE_KINDS = ("process", "form")
COMMUNICATION_KINDS = ("meeting", "report", "email")
CADENCES = ("weekly", "biweekly", "monthly")
CHANGE_STATUSES = ("submitted", "approved", "rejected", "implemented")
BUDGET_CATEGORIES = ("labour", "software", "hardware", "consulting", "training", "travel", "other")
KPI_KEYS = ("spi", "cpi", "open_high_risks", "overdue_tasks", "uat_pass_rate", "migration_error_rate",
            "training_completion")
KPI_UNITS = ("ratio", "count", "percent")
DIRECTIONS = ("higher_is_better", "lower_is_better")
KPI_SOURCES = ("computed", "manual", "migration")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _percent_range(column: str = "percent_complete") -> str:
    return f"{column} >= 0 AND {column} <= 100"


class Project(Base):
    """An ERP implementation project (实施项目)."""

    __tablename__ = "project"
    __table_args__ = (CheckConstraint(_in("status", PROJECT_STATUSES), name="status_known"),
                      CheckConstraint("planned_end >= start_date", name="dates_ordered"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ERP-2026
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    goals: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    #: username of the sponsor (chairs the steering committee 项目指导委员会)
    sponsor: Mapped[str | None] = mapped_column(String(100))
    #: username of the project manager (项目经理)
    manager: Mapped[str] = mapped_column(String(100), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    #: planning | active | closed
    status: Mapped[str] = mapped_column(String(20), default="planning", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    phases: Mapped[list[ProjectPhase]] = relationship(order_by="ProjectPhase.seq", viewonly=True)


class ProjectPhase(Base):
    """One of the five phases; it ends with a gate review by the steering committee."""

    __tablename__ = "project_phase"
    __table_args__ = (UniqueConstraint("project_id", "seq"), UniqueConstraint("key", "project_id"),
                      CheckConstraint(_in("key", PHASE_KEYS), name="key_known"),
                      CheckConstraint(_in("status", PHASE_STATUSES), name="status_known"),
                      CheckConstraint("seq BETWEEN 1 AND 5", name="seq_range"),
                      CheckConstraint("gate_decision IS NULL OR " + _in("gate_decision", GATE_DECISIONS),
                                      name="gate_decision_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    #: understanding | preparation | execution | go_live | optimisation
    key: Mapped[str] = mapped_column(String(20))
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    #: not_started | in_progress | gate_review | done
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    #: the last gate decision: None | approved | rejected
    gate_decision: Mapped[str | None] = mapped_column(String(20))
    #: why the gate was rejected (or notes on the approval)
    gate_reasons: Mapped[str | None] = mapped_column(Text)
    gate_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WorkPackage(Base):
    """A work package (工作包): its budget is its share of the budget at completion (BAC)."""

    __tablename__ = "project_work_package"
    __table_args__ = (UniqueConstraint("project_id", "code"),
                      CheckConstraint(_in("status", WORK_PACKAGE_STATUSES), name="status_known"),
                      CheckConstraint("stream IS NULL OR " + _in("stream", STREAMS), name="stream_known"),
                      CheckConstraint(_percent_range(), name="percent_range"),
                      CheckConstraint("budget >= 0", name="budget_nonnegative"),
                      CheckConstraint("planned_end >= planned_start", name="dates_ordered"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("project_phase.id", ondelete="CASCADE"), index=True)
    #: WBS code, e.g. "3.2"
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(100), index=True)
    #: None | configuration | data_migration | training | testing
    stream: Mapped[str | None] = mapped_column(String(20))
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    percent_complete: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    #: not_started | in_progress | done
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    #: the work package that must finish first (a Gantt dependency)
    depends_on_id: Mapped[int | None] = mapped_column(ForeignKey("project_work_package.id", ondelete="SET NULL"))


class ProjectTask(Base):
    """A task (任务) of a work package."""

    __tablename__ = "project_task"
    __table_args__ = (CheckConstraint(_in("status", TASK_STATUSES), name="status_known"),
                      CheckConstraint(_percent_range(), name="percent_range"),
                      CheckConstraint("planned_end >= planned_start", name="dates_ordered"))

    id: Mapped[int] = mapped_column(primary_key=True)
    work_package_id: Mapped[int] = mapped_column(ForeignKey("project_work_package.id", ondelete="CASCADE"),
                                                 index=True)
    name: Mapped[str] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    percent_complete: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    #: open | done
    status: Mapped[str] = mapped_column(String(20), default="open")
    #: what the task hands over (a document, a configured process …)
    deliverable: Mapped[str | None] = mapped_column(Text)
    #: the task that must finish first (a Gantt dependency)
    depends_on_id: Mapped[int | None] = mapped_column(ForeignKey("project_task.id", ondelete="SET NULL"))


class Milestone(Base):
    __tablename__ = "project_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("project_phase.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    achieved_on: Mapped[date | None] = mapped_column(Date)


class ProjectMember(Base):
    """A person in a project role; one person may hold several roles."""

    __tablename__ = "project_member"
    __table_args__ = (UniqueConstraint("project_id", "username", "role"),
                      CheckConstraint(_in("role", tuple(ROLES)), name="role_known"),
                      CheckConstraint(_percent_range("allocation_percent"), name="allocation_range"),
                      CheckConstraint("hourly_rate >= 0", name="rate_nonnegative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    #: project_manager | technical_expert | business_analyst | tester | user_representative
    role: Mapped[str] = mapped_column(String(30))
    #: the BPMN lane / candidate group this role works in (ROLES)
    group_name: Mapped[str] = mapped_column(String(100))
    allocation_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal("100"))
    #: CNY per hour; timesheets are costed with the rate at entry
    hourly_rate: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class Requirement(Base):
    """A requirement (需求), traced to the processes and forms that implement it."""

    __tablename__ = "project_requirement"
    __table_args__ = (UniqueConstraint("project_id", "code"),
                      CheckConstraint(_in("priority", PRIORITIES), name="priority_known"),
                      CheckConstraint(_in("status", REQUIREMENT_STATUSES), name="status_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    #: RQ-001
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    #: must | should | could | wont (MoSCoW)
    priority: Mapped[str] = mapped_column(String(10), default="should")
    #: proposed | approved | implemented | verified | rejected
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    owner: Mapped[str | None] = mapped_column(String(100))
    #: [{"kind": "process" | "form", "ref": "order_to_cash"}, …]
    traces: Mapped[list] = mapped_column(JSON, default=list)


class TrainingSession(Base):
    """A training session (培训课程) of the training plan."""

    __tablename__ = "project_training_session"
    __table_args__ = (CheckConstraint("duration_hours > 0", name="duration_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str | None] = mapped_column(Text)
    trainer: Mapped[str | None] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_hours: Mapped[Decimal] = mapped_column(Hours)
    location: Mapped[str | None] = mapped_column(String(200))

    attendance: Mapped[list[TrainingAttendance]] = relationship(order_by="TrainingAttendance.username",
                                                                viewonly=True)


class TrainingAttendance(Base):
    """A person invited to a session; attended once they were there."""

    __tablename__ = "project_training_attendance"
    __table_args__ = (UniqueConstraint("session_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("project_training_session.id", ondelete="CASCADE"),
                                            index=True)
    username: Mapped[str] = mapped_column(String(100))
    attended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Communication(Base):
    """One entry of the communication plan (沟通计划): a recurring meeting, report or email."""

    __tablename__ = "project_communication"
    __table_args__ = (CheckConstraint(_in("kind", COMMUNICATION_KINDS), name="kind_known"),
                      CheckConstraint(_in("cadence", CADENCES), name="cadence_known"),
                      CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    #: "周例会 weekly status meeting"
    name: Mapped[str] = mapped_column(String(200))
    #: meeting | report | email
    kind: Mapped[str] = mapped_column(String(20))
    #: the group whose members receive it
    audience_group: Mapped[str] = mapped_column(String(100))
    #: weekly | biweekly | monthly
    cadence: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(100))
    #: 0=Monday … 6=Sunday
    weekday: Mapped[int] = mapped_column(Integer)
    #: the next time it is due
    next_on: Mapped[date] = mapped_column(Date, index=True)


class ChangeRequest(Base):
    """A change request (变更请求) to the scope, budget or schedule."""

    __tablename__ = "project_change_request"
    __table_args__ = (CheckConstraint(_in("status", CHANGE_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    #: CR-2026-001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(Text)
    #: added to the execution phase's budget when approved (may be negative)
    cost_impact: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    #: added to the project's planned end when approved (may be negative)
    days_impact: Mapped[int] = mapped_column(Integer, default=0)
    #: submitted | approved | rejected | implemented
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    requested_by: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    #: the baseline taken before an approved change was applied
    baseline_id: Mapped[int | None] = mapped_column(ForeignKey("project_baseline.id", ondelete="SET NULL"))


class BudgetLine(Base):
    __tablename__ = "project_budget_line"
    __table_args__ = (CheckConstraint(_in("category", BUDGET_CATEGORIES), name="category_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("project_phase.id", ondelete="CASCADE"), index=True)
    #: labour | software | hardware | consulting | training | travel | other
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(String(300))


class Baseline(Base):
    """A frozen copy of the plan (phases, work packages, budget lines) before it was changed."""

    __tablename__ = "project_baseline"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    #: 1, 2, … per project
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    #: {"planned_end", "phases": [...], "work_packages": [...], "budget_lines": [...]}
    plan: Mapped[dict] = mapped_column(JSON)


class Timesheet(Base):
    """Hours worked on a work package; costed at the member's hourly rate when entered."""

    __tablename__ = "project_timesheet"
    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 24", name="hours_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    work_package_id: Mapped[int] = mapped_column(ForeignKey("project_work_package.id", ondelete="CASCADE"),
                                                 index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    work_date: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[Decimal] = mapped_column(Hours)
    cost: Mapped[Decimal] = mapped_column(Money)


class Expense(Base):
    __tablename__ = "project_expense"
    __table_args__ = (CheckConstraint(_in("category", BUDGET_CATEGORIES), name="category_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    work_package_id: Mapped[int | None] = mapped_column(ForeignKey("project_work_package.id", ondelete="SET NULL"))
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("project_phase.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(20))
    spent_on: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(String(300))


class Kpi(Base):
    """A project KPI (关键绩效指标) with its thresholds: green at or better than `warning`, red at or worse
    than `critical`, amber between."""

    __tablename__ = "project_kpi"
    __table_args__ = (UniqueConstraint("project_id", "key"),
                      CheckConstraint(_in("key", KPI_KEYS), name="key_known"),
                      CheckConstraint(_in("unit", KPI_UNITS), name="unit_known"),
                      CheckConstraint(_in("direction", DIRECTIONS), name="direction_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    #: ratio | count | percent
    unit: Mapped[str] = mapped_column(String(10))
    target: Mapped[Decimal] = mapped_column(Measure)
    warning: Mapped[Decimal] = mapped_column(Measure)
    critical: Mapped[Decimal] = mapped_column(Measure)
    #: higher_is_better | lower_is_better
    direction: Mapped[str] = mapped_column(String(20))


class KpiValue(Base):
    __tablename__ = "project_kpi_value"
    __table_args__ = (CheckConstraint(_in("source", KPI_SOURCES), name="source_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("project_kpi.id", ondelete="CASCADE"), index=True)
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    value: Mapped[Decimal] = mapped_column(Measure)
    #: computed | manual | migration
    source: Mapped[str] = mapped_column(String(20))

"""Risk tables (风险登记册): the risks of an implementation project with PMBOK's register fields, every change
made to them, and the early-warning rules (预警机制) that watch a metric and raise alerts."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime

Measure = Numeric(18, 4)
CATEGORIES = ("technical", "organisational", "data", "vendor", "schedule", "budget", "compliance")
PROXIMITIES = ("imminent", "near", "far")
#: 规避 / 转移 / 减轻 / 接受
STRATEGIES = ("avoid", "transfer", "mitigate", "accept")
STATUSES = ("open", "monitoring", "occurred", "closed")
#: risks still to be managed: on the matrix, in the weekly review (风险审查)
LIVE_STATUSES = ("open", "monitoring", "occurred")
COMPARATORS = (">", ">=", "<", "<=")
RULE_STATES = ("ok", "breached")
#: a high risk (red on the matrix; the KPI open_high_risks counts them)
HIGH_SCORE = 15


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _scale(column: str, optional: bool = False) -> str:
    check = f"{column} >= 1 AND {column} <= 5"
    return f"{column} IS NULL OR ({check})" if optional else check


class Risk(Base):
    """One risk of a project (风险): what may happen, how likely (可能性) and how bad (影响程度), who owns it
    (风险责任人), the response (应对策略) and the contingency plan (应急计划) for when it occurs."""

    __tablename__ = "risk"
    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_risk_project_code"),
                      CheckConstraint(_in("category", CATEGORIES), name="category_known"),
                      CheckConstraint(_in("proximity", PROXIMITIES), name="proximity_known"),
                      CheckConstraint(_in("strategy", STRATEGIES), name="strategy_known"),
                      CheckConstraint(_in("status", STATUSES), name="status_known"),
                      CheckConstraint(_scale("probability"), name="probability_range"),
                      CheckConstraint(_scale("impact"), name="impact_range"),
                      CheckConstraint("score = probability * impact", name="score_is_product"),
                      CheckConstraint(_scale("residual_probability", True), name="residual_probability_range"),
                      CheckConstraint(_scale("residual_impact", True), name="residual_impact_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    #: R-001, numbered per project
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(20))
    #: the username of the risk owner, who is told when its warning rules fire
    owner: Mapped[str] = mapped_column(String(100), index=True)
    #: 1 (rare) .. 5 (almost certain)
    probability: Mapped[int] = mapped_column(Integer)
    #: 1 (negligible) .. 5 (severe)
    impact: Mapped[int] = mapped_column(Integer)
    #: probability × impact, kept in the row so the register sorts and filters by it
    score: Mapped[int] = mapped_column(Integer, index=True)
    proximity: Mapped[str] = mapped_column(String(10))
    strategy: Mapped[str] = mapped_column(String(10))
    #: the response actions agreed
    actions: Mapped[str | None] = mapped_column(Text)
    #: warning signs (预警信号) that the risk is about to occur
    triggers: Mapped[str | None] = mapped_column(Text)
    contingency_plan: Mapped[str | None] = mapped_column(Text)
    #: the BPMN process started when the contingency is activated (None: the plan is followed by hand)
    contingency_process: Mapped[str | None] = mapped_column(String(200))
    contingency_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the assessment once the response actions have worked
    residual_probability: Mapped[int | None] = mapped_column(Integer)
    residual_impact: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), index=True)
    identified_on: Mapped[date] = mapped_column(Date)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))


class RiskChange(Base):
    """One change of a risk (append-only), its creation included: {field: [before, after]}."""

    __tablename__ = "risk_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risk.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict] = mapped_column(JSON)


class WarningRule(Base):
    """An early-warning rule (预警规则): when `metric` compares to `threshold` as `comparator` says, the rule
    is breached and raises one alert until the metric recovers."""

    __tablename__ = "warning_rule"
    __table_args__ = (CheckConstraint(_in("comparator", COMPARATORS), name="comparator_known"),
                      CheckConstraint(_in("state", RULE_STATES), name="state_known"),
                      CheckConstraint("every_minutes > 0", name="every_minutes_positive"),
                      Index("ix_warning_rule_due", "active", "next_evaluation_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: kpi:<key> | process_overdue_tasks:<process key> | process_sla_breaches:<process key> | budget_burn
    metric: Mapped[str] = mapped_column(String(200))
    comparator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[Decimal] = mapped_column(Measure)
    every_minutes: Mapped[int] = mapped_column(Integer, default=60)
    #: the risk it watches (its owner is told); None: the project manager is told
    risk_id: Mapped[int | None] = mapped_column(ForeignKey("risk.id", ondelete="SET NULL"), index=True)
    #: a BPMN process started when the rule is breached, besides risk_alert
    start_process: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    state: Mapped[str] = mapped_column(String(10), default="ok")
    last_value: Mapped[Decimal | None] = mapped_column(Measure)
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: the worker evaluates the rule once this time has come
    next_evaluation_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))


class WarningAlert(Base):
    """One breach of a rule (预警), from the evaluation that raised it to the one that saw it recover."""

    __tablename__ = "warning_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("warning_rule.id", ondelete="CASCADE"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    value: Mapped[Decimal] = mapped_column(Measure)
    threshold: Mapped[Decimal] = mapped_column(Measure)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cleared_value: Mapped[Decimal | None] = mapped_column(Measure)
    #: the risk_alert process instance that asks the owner to respond
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    #: the owner's responses, one paragraph each
    notes: Mapped[str | None] = mapped_column(Text)

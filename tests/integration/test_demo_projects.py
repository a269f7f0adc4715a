"""The demo's ERP rollout (erp/demo_projects.py): in the middle of execution with its first two gates passed
through the real process, a plan and books that agree, the early warning one step from a breach, nothing stuck;
loading it twice adds nothing."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from engine import queries
from engine.models import Incident, ProcessInstance
from erp.demo import load_demo
from erp.projects import evm
from erp.projects import queries as project_queries
from erp.projects.common import today
from erp.projects.models import BudgetLine, Timesheet, WorkPackage
from erp.risks.models import Risk, WarningAlert, WarningRule

TABLES = (Risk, WarningRule, WorkPackage, BudgetLine, Timesheet, ProcessInstance)


def _counts(session) -> dict:
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def test_the_rollout_demo_stands_in_the_middle_of_execution(tx, product_engine, monkeypatch):
    monkeypatch.setattr("erp.demo.APPROVALS", [])
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        first = _counts(session)
        phases = [p["status"] for p in project_queries.phases(session, "ERP-2026")]
        assert phases == ["done", "done", "in_progress", "not_started", "not_started"]
        [instance] = queries.instances(session, key="implementation")
        shown = queries.show(product_engine, session, instance["id"])
        assert instance["business_key"] == "ERP-2026" and instance["status"] == "running"
        assert sorted((t["element_id"], tuple(t["candidate_groups"])) for t in shown["tasks"]) == [
            ("configuration", ("technical_experts",)), ("data_migration", ("technical_experts",)),
            ("testing", ("testers",)), ("training", ("business_analysts",))]
        signed = [h["actor"] for h in shown["history"] if h["kind"] == "task_completed"
                  and h["element_id"] == "countersign"]
        assert sorted(signed) == ["lina", "lina", "liuyang", "liuyang"]  # two gates, every member each time
        assert session.scalar(select(func.count()).select_from(Incident)) == 0

        # the plan and the books agree: each phase's budget lines are its work packages' budgets
        budget = project_queries.budget_by_phase_and_category(session, "ERP-2026")
        packages = {}
        for phase in project_queries.phases(session, "ERP-2026"):
            packages[phase["key"]] = sum((w.budget for w in session.scalars(
                select(WorkPackage).where(WorkPackage.phase_id == phase["id"]))), Decimal(0))
        assert budget["by_phase"] == packages
        assert Decimal("1150000") <= budget["total"] <= Decimal("1300000")
        figures = evm.figures(session, "ERP-2026", today())
        assert figures["bac"] == budget["total"] and 0 < figures["ac"] < figures["bac"]
        assert Decimal("0.88") <= figures["spi"] <= Decimal("0.95")
        assert Decimal("0.93") <= figures["cpi"] <= Decimal("0.97")

        # the early warning: nothing breached, the migration error rate within 10 % of its threshold
        rules = session.scalars(select(WarningRule)).all()
        assert len(rules) == 4 and {r.state for r in rules} == {"ok"}
        assert all(r.last_evaluated_at is not None for r in rules)
        close = [r.name for r in rules if abs(r.last_value - r.threshold) <= r.threshold * Decimal("0.1")]
        assert any("迁移" in name for name in close)
        assert session.scalar(select(func.count()).select_from(WarningAlert)) == 0
        assert 8 <= session.scalar(select(func.count()).select_from(Risk)) <= 10
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        assert _counts(session) == first

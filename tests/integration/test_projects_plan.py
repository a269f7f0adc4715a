"""The project's plan: five phases with gate reviews, baselines and replanning, change requests, timesheets,
and the refusals that write nothing."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as M

import pytest
from sqlalchemy import func, select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.audit.models import AuditEntry
from erp.projects import plans, queries, services
from erp.projects.models import (
    Baseline,
    BudgetLine,
    Expense,
    Kpi,
    ProjectPhase,
    ProjectTask,
    Timesheet,
    WorkPackage,
)
from tests.projects_data import members, project, three_packages

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
LATER = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _phase(session, key):
    return services.find_phase(session, "ERP-2026", key)


def test_a_new_project_has_five_phases_splitting_its_dates_and_seven_kpis(tx):
    with tx() as session:
        found = project(session, code="erp-2026")
        assert found.code == "ERP-2026" and found.status == "planning"
        # 2026-03-02 … 06-30 is 121 days: the phases start on days 0, 24, 48, 72 and 96 (121 × i // 5)
        assert [(p.seq, p.key, p.planned_start, p.planned_end, p.status) for p in found.phases] == [
            (1, "understanding", date(2026, 3, 2), date(2026, 3, 25), "not_started"),
            (2, "preparation", date(2026, 3, 26), date(2026, 4, 18), "not_started"),
            (3, "execution", date(2026, 4, 19), date(2026, 5, 12), "not_started"),
            (4, "go_live", date(2026, 5, 13), date(2026, 6, 5), "not_started"),
            (5, "optimisation", date(2026, 6, 6), date(2026, 6, 30), "not_started")]
        kpis = {k.key: (k.unit, k.target, k.warning, k.critical, k.direction)
                for k in session.scalars(select(Kpi).where(Kpi.project_id == found.id))}
        assert kpis == {
            "spi": ("ratio", M("1.0"), M("0.95"), M("0.9"), "higher_is_better"),
            "cpi": ("ratio", M("1.0"), M("0.95"), M("0.9"), "higher_is_better"),
            "open_high_risks": ("count", 0, 3, 5, "lower_is_better"),
            "overdue_tasks": ("count", 0, 5, 10, "lower_is_better"),
            "uat_pass_rate": ("percent", 95, 90, 80, "higher_is_better"),
            "migration_error_rate": ("percent", 1, 2, 5, "lower_is_better"),
            "training_completion": ("percent", 100, 90, 75, "higher_is_better")}
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.target_id == str(found.id))) \
            == "projects.project_created"
        assert services.find_project(session, found.id) is found
        with pytest.raises(NotFound):
            services.find_project(session, "ERP-1999")


def test_a_project_ending_before_it_starts_or_with_a_taken_code_is_refused(tx):
    with tx() as session:
        project(session)
        with pytest.raises(InvalidInput) as refused:
            project(session, code="ERP-2027", start=date(2026, 3, 2), end=date(2026, 3, 1))
        assert "planned_end" in refused.value.errors
        with pytest.raises(InvalidInput) as refused:
            project(session, code="ERP-2026")
        assert "code" in refused.value.errors
        assert _count(session, ProjectPhase) == 5


def test_approving_a_gate_finishes_the_phase_and_starts_the_next_with_actual_dates(tx):
    with clock.frozen(MONDAY) as frozen, tx() as session:
        project(session)
        services.start_phase(session, "ERP-2026", "understanding", by="zhang")
        assert services.find_project(session, "ERP-2026").status == "active"
        frozen.at = LATER
        assert services.submit_gate(session, "ERP-2026", "understanding").status == "gate_review"
        phase = services.decide_gate(session, "ERP-2026", "understanding", "approved", by="chen")
        following = _phase(session, "preparation")
        assert (phase.status, phase.actual_start, phase.actual_end, phase.gate_decision, phase.gate_decided_at) == (
            "done", date(2026, 3, 2), date(2026, 3, 20), "approved", LATER)
        assert (following.status, following.actual_start) == ("in_progress", date(2026, 3, 20))


def test_rejecting_a_gate_returns_the_phase_to_work_with_the_reasons(tx):
    with clock.frozen(MONDAY), tx() as session:
        project(session)
        services.start_phase(session, "ERP-2026", "understanding")
        services.submit_gate(session, "ERP-2026", "understanding")
        with pytest.raises(InvalidInput) as refused:
            services.decide_gate(session, "ERP-2026", "understanding", "rejected")
        assert "reasons" in refused.value.errors
        phase = services.decide_gate(session, "ERP-2026", "understanding", "rejected", "蓝图未覆盖退货流程")
        assert (phase.status, phase.gate_decision, phase.gate_reasons, phase.actual_end) == (
            "in_progress", "rejected", "蓝图未覆盖退货流程", None)
        assert _phase(session, "preparation").status == "not_started"


def test_a_phase_not_in_gate_review_cannot_be_decided_or_started_out_of_turn(tx):
    with clock.frozen(MONDAY), tx() as session:
        project(session)
        with pytest.raises(InvalidInput) as refused:
            services.decide_gate(session, "ERP-2026", "understanding", "approved")
        assert "phase" in refused.value.errors
        with pytest.raises(InvalidInput):
            services.start_phase(session, "ERP-2026", "preparation")
        with pytest.raises(InvalidInput):
            services.submit_gate(session, "ERP-2026", "understanding")
        services.start_phase(session, "ERP-2026", "understanding")
        with pytest.raises(InvalidInput):
            services.decide_gate(session, "ERP-2026", "understanding", "approved")
        assert _phase(session, "understanding").gate_decision is None


def test_approving_the_last_gate_closes_the_project(tx):
    with clock.frozen(MONDAY), tx() as session:
        found = project(session)
        services.start_phase(session, found, "understanding")
        for key in ("understanding", "preparation", "execution", "go_live", "optimisation"):
            services.submit_gate(session, found, key)
            services.decide_gate(session, found, key, "approved")
        assert found.status == "closed"
        assert {p["status"] for p in queries.phases(session, found)} == {"done"}


def test_replanning_keeps_the_old_plan_in_a_baseline_and_applies_the_new_one(tx):
    with tx() as session:
        found = three_packages(session)
        first = plans.take_baseline(session, found, reason="项目启动 kick-off", by="zhang")
        second = plans.replan(session, found, {"planned_end": date(2026, 7, 31),
                                               "phases": {"optimisation": {"planned_end": "2026-07-31"}},
                                               "work_packages": {"2.1": {"planned_end": date(2026, 4, 9),
                                                                         "budget": "45000.00"}}},
                              reason="配置范围扩大", by="zhang")
        assert (first.version, second.version) == (1, 2)
        old = next(w for w in second.plan["work_packages"] if w["code"] == "2.1")
        assert (old["planned_end"], old["budget"], second.plan["planned_end"]) == ("2026-03-26", "40000.00",
                                                                                  "2026-06-30")
        assert plans.plan_budget(second.plan) == M("80000.00")
        package = services.find_work_package(session, found, "2.1")
        assert (package.planned_end, package.budget, found.planned_end) == (date(2026, 4, 9), M("45000.00"),
                                                                            date(2026, 7, 31))
        assert _phase(session, "optimisation").planned_end == date(2026, 7, 31)
        assert [b["version"] for b in queries.baselines(session, found)] == [1, 2]


def test_a_replan_with_a_bad_change_writes_nothing(tx):
    with tx() as session:
        found = three_packages(session)
        with pytest.raises(InvalidInput) as refused:
            plans.replan(session, found, {"work_packages": {"2.1": {"planned_start": "2026-03-07",
                                                                    "planned_end": "2026-03-01"},
                                                            "3.1": {"budget": "-1"}, "9.9": {"budget": "1"}}},
                         reason="bad", by="zhang")
        assert set(refused.value.errors) == {"work_packages.2.1.planned_end", "work_packages.3.1.budget",
                                             "work_packages.9.9"}
        assert _count(session, Baseline) == 0
        assert services.find_work_package(session, found, "2.1").planned_end == date(2026, 3, 26)


def test_an_approved_change_request_takes_a_baseline_and_moves_budget_and_end(tx):
    with clock.frozen(MONDAY), tx() as session:
        found = three_packages(session)
        services.add_budget_line(session, found, "execution", category="consulting", amount="60000.00")
        request = services.submit_change_request(session, found, title="增加电子发票接口", reason="税务要求",
                                                 cost_impact="12000.00", days_impact=14, requested_by="wang")
        assert (request.number, request.status) == ("CR-2026-001", "submitted")
        services.decide_change_request(session, request.number, "approved", by="chen")
        assert (request.status, request.decided_by, request.decided_at) == ("approved", "chen", MONDAY)
        baseline = session.get(Baseline, request.baseline_id)
        assert (baseline.version, baseline.plan["planned_end"]) == (1, "2026-06-30")
        assert found.planned_end == date(2026, 7, 14)
        assert _phase(session, "optimisation").planned_end == date(2026, 7, 14)
        budget = queries.budget_by_phase_and_category(session, found)
        assert budget["by_phase"] == {"execution": M("72000.00")}
        assert budget["by_category"] == {"consulting": M("60000.00"), "other": M("12000.00")}
        assert queries.change_requests(session, found)[0]["baseline"] == 1
        with pytest.raises(InvalidInput):
            services.decide_change_request(session, request, "rejected", by="chen")


def test_a_rejected_change_request_changes_nothing(tx):
    with clock.frozen(MONDAY), tx() as session:
        found = three_packages(session)
        services.submit_change_request(session, found, title="first", cost_impact="1.00")
        request = services.submit_change_request(session, found, title="多语言报表", cost_impact="8000.00",
                                                 days_impact=10, by="wang")
        assert request.number == "CR-2026-002"
        services.decide_change_request(session, request.id, "rejected", by="chen")
        assert request.status == "rejected" and request.baseline_id is None
        assert (found.planned_end, _count(session, Baseline), _count(session, BudgetLine)) == (
            date(2026, 6, 30), 0, 0)


def test_a_timesheet_is_costed_at_the_members_hourly_rate_at_entry(tx):
    with tx() as session:
        found = three_packages(session)
        sheet = services.log_time(session, found, "2.1", "wang", date(2026, 3, 12), "3.25")
        assert sheet.cost == M("487.50")  # 3.25 h × 150.00
        wang = next(m for m in queries.project_detail(session, found)["members"] if m["username"] == "wang")
        assert (wang["group_name"], wang["allocation_percent"]) == ("business_analysts", M("50"))


def test_bad_input_is_refused_and_writes_nothing(tx):
    with tx() as session:
        found = project(session)
        members(session, found)
        package = services.add_work_package(session, found, "understanding", code="1.1", name="蓝图", owner="wang",
                                            planned_start=date(2026, 3, 2), planned_end=date(2026, 3, 11),
                                            budget="10000.00")
        before = (_count(session, WorkPackage), _count(session, AuditEntry))
        with pytest.raises(InvalidInput) as refused:
            services.add_work_package(session, found, "understanding", code="1.2", name="x", owner="li",
                                      planned_start=date(2026, 3, 11), planned_end=date(2026, 3, 2), budget="1")
        assert list(refused.value.errors) == ["planned_end"]
        with pytest.raises(InvalidInput) as refused:
            services.add_task(session, found, "1.1", name="访谈", planned_start="2026-03-05",
                              planned_end="2026-03-04")
        assert list(refused.value.errors) == ["planned_end"]
        for percent in (-1, 101, "abc"):
            with pytest.raises(InvalidInput) as refused:
                services.set_progress(session, package, percent)
            assert list(refused.value.errors) == ["percent"]
        with pytest.raises(InvalidInput) as refused:
            services.set_progress(session, package, 100, actual_start=date(2026, 3, 5), actual_end=date(2026, 3, 4))
        assert list(refused.value.errors) == ["actual_end"]
        with pytest.raises(InvalidInput) as refused:
            services.log_time(session, found, "1.1", "zhao", date(2026, 3, 3), 8)
        assert list(refused.value.errors) == ["username"]
        with pytest.raises(InvalidInput) as refused:
            services.log_time(session, found, "1.1", "li", date(2026, 3, 3), 25)
        assert list(refused.value.errors) == ["hours"]
        with pytest.raises(InvalidInput) as refused:
            services.add_member(session, found, "li", "technical_expert")
        assert list(refused.value.errors) == ["username"]
        with pytest.raises(InvalidInput) as refused:
            services.add_expense(session, found, category="food", spent_on=date(2026, 3, 3), amount="0")
        assert set(refused.value.errors) == {"category", "amount"}
        assert (package.percent_complete, package.status) == (0, "not_started")
        assert (_count(session, WorkPackage), _count(session, AuditEntry)) == before
        assert (_count(session, ProjectTask), _count(session, Timesheet), _count(session, Expense)) == (0, 0, 0)


def test_progress_sets_the_status_and_the_actual_dates(tx):
    with clock.frozen(LATER), tx() as session:
        found = three_packages(session)
        package = services.find_work_package(session, found, "2.1")
        task = services.add_task(session, found, "2.1", name="配置销售流程", assignee="li",
                                 planned_start=date(2026, 3, 7), planned_end=date(2026, 3, 13))
        services.set_progress(session, task, 100)
        assert (task.status, task.actual_start, task.actual_end) == ("done", date(2026, 3, 20), date(2026, 3, 20))
        services.set_progress(session, package, 100)
        assert (package.status, package.actual_start, package.actual_end) == ("done", date(2026, 3, 7),
                                                                              date(2026, 3, 20))
        services.set_progress(session, package, "99.5")
        assert (package.status, package.actual_end) == ("in_progress", None)

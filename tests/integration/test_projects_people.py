"""Requirements traced to processes and forms, the training plan, the communication plan and the Gantt chart."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as M

import pytest

from core.errors import InvalidInput
from erp.projects import queries, services
from erp.projects.models import Requirement
from tests.projects_data import project, three_packages


def test_requirements_are_traced_to_the_processes_and_forms_implementing_them(tx):
    with tx() as session:
        found = project(session)
        order = services.add_requirement(session, found, code="RQ-001", title="销售订单审批", priority="must",
                                         traces=[{"kind": "process", "ref": "order_to_cash"},
                                                 {"kind": "process", "ref": "order_to_cash"}])
        receipt = services.add_requirement(session, found, code="RQ-002", title="收货质检", owner="wang")
        assert order.traces == [{"kind": "process", "ref": "order_to_cash"}]
        services.set_requirement_status(session, receipt, "approved")
        assert queries.untraced_requirements(session, found) == ["RQ-002"]
        with pytest.raises(InvalidInput) as refused:
            services.set_requirement_status(session, receipt, "implemented")
        assert "traces" in refused.value.errors
        services.set_requirement_status(session, receipt, "implemented",
                                        traces=[{"kind": "form", "ref": "procurement/receipt"}])
        services.set_requirement_status(session, receipt.id, "verified")
        assert [r["code"] for r in queries.requirements(session, found, trace_ref="procurement/receipt")] == ["RQ-002"]
        assert queries.untraced_requirements(session, found) == []
        with pytest.raises(InvalidInput) as refused:
            services.add_requirement(session, found, code="RQ-001", title="again", priority="maybe",
                                     traces=[{"kind": "report", "ref": "x"}])
        assert set(refused.value.errors) == {"code", "priority", "traces.0"}
        with pytest.raises(InvalidInput):
            services.set_requirement_status(session, receipt, "proposed")
        assert session.get(Requirement, receipt.id).status == "verified"


def test_training_completion_counts_who_attended_of_those_invited(tx):
    with tx() as session:
        found = project(session)
        first = services.add_training_session(session, found, title="采购流程培训", trainer="li",
                                              starts_at=datetime(2026, 4, 1, 1, 0, tzinfo=UTC),
                                              duration_hours="2.5", invitees=["a", "b", "c"])
        services.record_attendance(session, first, "a")
        services.record_attendance(session, first, "b")
        services.record_attendance(session, first, "b", False)
        services.record_attendance(session, first, "d")  # came without an invitation
        second = services.add_training_session(session, found, title="库存培训",
                                               starts_at=datetime(2026, 4, 2, 1, 0, tzinfo=UTC),
                                               duration_hours=1, invitees=["a", "a", " "])
        plan = queries.training(session, found)
        assert [(s["title"], s["invited"], s["attended"], s["completion"]) for s in plan["sessions"]] == [
            ("采购流程培训", 4, 2, M("50.00")), ("库存培训", 1, 0, M("0.00"))]
        assert (plan["invited"], plan["attended"], plan["completion"]) == (5, 2, M("40.00"))
        assert services.invite(session, second, ["a", "e"])[0].username == "e"
        with pytest.raises(InvalidInput):
            services.add_training_session(session, found, title="x", starts_at=datetime(2026, 4, 1),
                                          duration_hours=0)


def test_the_communication_plan_gives_the_next_dates_by_cadence(tx):
    with tx() as session:
        found = project(session)
        weekly = services.add_communication(session, found, name="周例会 weekly status meeting", kind="meeting",
                                            audience_group="project_managers", cadence="weekly", owner="zhang",
                                            weekday=0, starting=date(2026, 3, 4))  # a Wednesday
        services.add_communication(session, found, name="双周报 biweekly report", kind="report",
                                   audience_group="steering_committee", cadence="biweekly", owner="zhang",
                                   weekday=4, starting=date(2026, 3, 6))
        services.add_communication(session, found, name="月度指导委员会 steering committee", kind="meeting",
                                   audience_group="steering_committee", cadence="monthly", owner="chen",
                                   weekday=2, starting=date(2026, 1, 30))
        plan = {c["name"][:3]: c["next_dates"] for c in queries.communications(session, found, upcoming=3)}
        assert plan["周例会"] == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
        assert plan["双周报"] == [date(2026, 3, 6), date(2026, 3, 20), date(2026, 4, 3)]
        # monthly: the first Wednesday on or after the same day of the next month (Feb has no 30th → 28th)
        assert plan["月度指"] == [date(2026, 2, 4), date(2026, 3, 4), date(2026, 4, 8)]
        services.advance_communication(session, weekly)
        assert weekly.next_on == date(2026, 3, 16)
        with pytest.raises(InvalidInput) as refused:
            services.add_communication(session, found, name="x", kind="fax", audience_group="g", cadence="daily",
                                       owner="zhang", weekday=7)
        assert set(refused.value.errors) == {"kind", "cadence", "weekday"}


def test_the_gantt_chart_lists_phases_work_packages_tasks_and_milestones(tx):
    with tx() as session:
        found = three_packages(session)
        first = services.add_task(session, found, "2.1", name="配置销售", planned_start=date(2026, 3, 7),
                                  planned_end=date(2026, 3, 13))
        services.add_task(session, found, "2.1", name="配置采购", planned_start=date(2026, 3, 14),
                          planned_end=date(2026, 3, 20), depends_on=first.id)
        milestone = services.add_milestone(session, found, name="蓝图签字", due_date=date(2026, 3, 11),
                                           phase_key="understanding")
        services.achieve_milestone(session, milestone, on=date(2026, 3, 12))
        bars = queries.gantt(session, found)
        assert [(b["kind"], b["name"][:4]) for b in bars[:5]] == [
            ("phase", "理解与规"), ("work_package", "1.1 "), ("milestone", "蓝图签字"), ("phase", "实施准备"),
            ("work_package", "2.1 ")]
        by_name = {b["name"]: b for b in bars}
        assert by_name["配置采购"]["dependencies"] == [f"task-{first.id}"]
        assert by_name["2.1 系统配置 Configuration"]["dependencies"] == [bars[1]["id"]]
        assert (bars[0]["progress"], bars[3]["progress"]) == (M("100.00"), M("30.00"))
        assert by_name["蓝图签字"]["progress"] == 100
        assert len([b for b in bars if b["kind"] == "phase"]) == 5
        detail = queries.project_detail(session, found)
        assert detail["milestones"][0]["achieved_on"] == date(2026, 3, 12)
        assert [p["code"] for p in queries.projects(session)] == ["ERP-2026"]

"""The implementation process (bpmn/implementation) against the real project domain: the five phases one after
another, each worked by the project manager and passed through a gate review that every member of the steering
committee countersigns (the reusable approval); a rejected gate sends the phase back with the reasons shown; in
execution four work streams run in parallel, each for its group, and a no-go at the go-live decision sends the
work back to them; after the last gate the project is closed."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from core.errors import InvalidInput
from engine import queries
from engine.api_queries import task_data
from engine.deploy import read_paths
from engine.models import HumanTask
from erp.identity.services import ensure_user
from erp.projects import queries as project_queries
from erp.projects.process import start_implementation
from erp.projects.services import find_project
from tests.conftest import ROOT, process_engine
from tests.projects_data import project

DAY_ONE = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
MANAGER, COMMITTEE = "zhangwei", ("lina", "liuyang")
PEOPLE = [("zhangwei", ["project_managers"]), ("lina", ["steering_committee"]),
          ("liuyang", ["steering_committee"]), ("zhaolei", ["technical_experts"]),
          ("sunlei", ["technical_experts"]), ("chenjing", ["business_analysts"]), ("wangjun", ["testers"])]
STREAMS = {"configuration": "technical_experts", "data_migration": "technical_experts",
           "training": "business_analysts", "testing": "testers"}
WORKER = {"technical_experts": "zhaolei", "business_analysts": "chenjing", "testers": "wangjun"}


@pytest.fixture
def engine(tx):
    engine = process_engine()
    with clock.frozen(DAY_ONE), tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        for username, groups in PEOPLE:
            ensure_user(session, username, username, groups=groups)
        project(session, manager=MANAGER)
    return engine


class Rollout:
    """The project's instance, worked day by day (each step a day later, so the actual dates move on)."""

    def __init__(self, engine, tx):
        self.engine, self.tx, self.day = engine, tx, DAY_ONE
        with clock.frozen(self.day), tx() as session:
            self.id = start_implementation(session, engine, "ERP-2026", user=MANAGER).id

    def tasks(self) -> list[dict]:
        with self.tx(readonly=True) as session:
            return queries.tasks(session, instance_id=self.id)

    def only(self, element_id) -> dict:
        [task] = [t for t in self.tasks() if t["element_id"] == element_id]
        return task

    def complete(self, task, user, data):
        self.day += timedelta(days=1)
        with clock.frozen(self.day), self.tx() as session:
            return self.engine.complete(session, task["id"], data, user)

    def work_phase(self, notes="交付物已完成"):
        task = self.only("phase_work")
        assert task["assignee"] == MANAGER and task["form_key"] == "implementation/phase_work"
        return self.complete(task, MANAGER, {"deliverables_done": True, "notes": notes})

    def review(self, decisions: dict | None = None):
        """Every committee member signs (approve unless told otherwise)."""
        signs = {t["assignee"]: t for t in self.tasks() if t["element_id"] == "countersign"}
        assert sorted(signs) == sorted(COMMITTEE)
        for user in sorted(signs, key=lambda u: (decisions or {}).get(u, ("approve",))[0] != "approve"):
            decision, *comment = (decisions or {}).get(user, ("approve",))
            instance = self.complete(signs[user], user, {"decision": decision,
                                                         **({"comment": comment[0]} if comment else {})})
            if decision != "approve":
                return instance
        return instance

    def run_streams(self):
        streams = {t["element_id"]: t for t in self.tasks() if t["element_id"] in STREAMS}
        assert sorted(streams) == sorted(STREAMS)
        for key, task in streams.items():
            assert task["candidate_groups"] == [STREAMS[key]] and task["form_key"] == "implementation/stream_work"
            self.complete(task, WORKER[STREAMS[key]], {"stream_done": True, "stream_notes": f"{key} 完成"})

    def go_live(self, decision, comment=None):
        task = self.only("go_live_decision")
        assert task["candidate_groups"] == ["steering_committee"]
        return self.complete(task, "liuyang", {"go_live": decision, **({"go_live_comment": comment} if comment
                                                                         else {})})

    def phases(self) -> dict:
        with self.tx(readonly=True) as session:
            return {p["key"]: p for p in project_queries.phases(session, "ERP-2026")}

    def show(self):
        with self.tx(readonly=True) as session:
            return queries.show(self.engine, session, self.id)

    def context(self, task) -> dict:
        """The data the task's form shows read-only (its x-context fields)."""
        with self.tx(readonly=True) as session:
            data = task_data(self.engine, session, session.get(HumanTask, task["id"]))
        fields = self.engine.forms.get(task["form_key"]).schema["x-context"]["properties"]
        return {k: v for k, v in data.items() if k in fields}


def _day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def test_the_rollout_passes_every_gate_phase_by_phase_and_closes_the_project(engine, tx):
    rollout = Rollout(engine, tx)
    for key in ("understanding", "preparation"):
        phases = rollout.phases()
        assert phases[key]["status"] == "in_progress" and phases[key]["actual_start"] == _day(rollout.day)
        rollout.work_phase()
        assert rollout.phases()[key]["status"] == "gate_review"
        rollout.review()
        phases = rollout.phases()
        assert phases[key]["status"] == "done" and phases[key]["gate_decision"] == "approved"
        assert phases[key]["actual_end"] == _day(rollout.day)
    # execution: the four streams at once, then the go-live decision, then the phase's own confirmation and gate
    assert rollout.phases()["execution"]["status"] == "in_progress"
    assert sorted(t["element_id"] for t in rollout.tasks()) == sorted(STREAMS)
    rollout.run_streams()
    rollout.go_live("go")
    rollout.work_phase()
    rollout.review()
    for key in ("go_live", "optimisation"):
        assert rollout.phases()[key]["status"] == "in_progress"
        rollout.work_phase()
        instance = rollout.review()
    assert instance.status == "completed"
    phases = rollout.phases()
    assert [p["status"] for p in phases.values()] == ["done"] * 5
    assert [p["actual_start"] for p in phases.values()] == sorted(p["actual_start"] for p in phases.values())
    with tx(readonly=True) as session:
        assert find_project(session, "ERP-2026").status == "closed"
    shown = rollout.show()
    assert shown["tasks"] == [] and shown["incidents"] == []
    reviews = [h for h in shown["history"] if h["kind"] == "task_completed" and h["element_id"] == "countersign"]
    assert len(reviews) == 5 * 2


def test_gate_reviews_go_to_the_steering_committee_only_as_a_countersign(engine, tx):
    rollout = Rollout(engine, tx)
    rollout.work_phase()
    signs = [t for t in rollout.tasks() if t["element_id"] == "countersign"]
    assert sorted(t["assignee"] for t in signs) == sorted(COMMITTEE)
    assert all(t["excluded_users"] == [MANAGER] and t["form_key"] == "approval/review" for t in signs)
    rollout.complete(signs[0], signs[0]["assignee"], {"decision": "approve"})
    assert rollout.phases()["understanding"]["status"] == "gate_review"  # one signature is not enough
    [left] = [t for t in rollout.tasks() if t["element_id"] == "countersign"]
    rollout.complete(left, left["assignee"], {"decision": "approve"})
    assert rollout.phases()["understanding"]["status"] == "done"


def test_a_rejected_gate_sends_the_phase_back_with_the_reasons_shown(engine, tx):
    rollout = Rollout(engine, tx)
    first = rollout.only("phase_work")
    assert rollout.context(first).get("gate_reasons") is None
    rollout.work_phase()
    rollout.review({"lina": ("reject", "业务蓝图未经关键用户签字")})
    phase = rollout.phases()["understanding"]
    assert phase["status"] == "in_progress" and phase["gate_decision"] == "rejected"
    assert "业务蓝图未经关键用户签字" in phase["gate_reasons"]
    again = rollout.only("phase_work")
    assert [t["element_id"] for t in rollout.tasks()] == ["phase_work"]
    context = rollout.context(again)
    assert "业务蓝图未经关键用户签字" in context["gate_reasons"] and context["phase_name"].startswith("理解与规划")
    rollout.work_phase("已补签字")
    rollout.review()
    phases = rollout.phases()
    assert phases["understanding"]["status"] == "done" and phases["preparation"]["status"] == "in_progress"
    assert rollout.context(rollout.only("phase_work")).get("gate_reasons") is None


def test_a_no_go_sends_the_work_back_to_the_four_streams(engine, tx):
    rollout = Rollout(engine, tx)
    for _ in range(2):
        rollout.work_phase()
        rollout.review()
    rollout.run_streams()
    rollout.go_live("no_go", "用户验收测试通过率不足 90%")
    tasks = rollout.tasks()
    assert sorted(t["element_id"] for t in tasks) == sorted(STREAMS)
    assert all(rollout.context(t)["go_live_comment"] == "用户验收测试通过率不足 90%" for t in tasks)
    assert rollout.phases()["execution"]["status"] == "in_progress"
    rollout.run_streams()
    rollout.go_live("go")
    assert rollout.only("phase_work")["assignee"] == MANAGER


def test_the_saved_state_stays_bounded_over_many_rejections_and_no_gos(engine, tx):
    rollout = Rollout(engine, tx)
    sizes = []
    for round_ in range(12):
        rollout.work_phase(f"第 {round_ + 1} 次提交")
        instance = rollout.review({"liuyang": ("reject", f"第 {round_ + 1} 次退回")})
        sizes.append(len(instance.state))
    assert max(sizes) <= sizes[1] * 1.1 and max(sizes) < 30_000, sizes
    assert "第 12 次退回" in rollout.phases()["understanding"]["gate_reasons"]
    rollout.work_phase()
    rollout.review()
    rollout.work_phase()
    rollout.review()
    sizes = []
    for _ in range(8):
        rollout.run_streams()
        instance = rollout.go_live("no_go", "未就绪")
        sizes.append(len(instance.state))
    assert max(sizes) <= sizes[1] * 1.1 and max(sizes) < 30_000, sizes
    shown = rollout.show()
    rejections = [h for h in shown["history"] if h["kind"] == "task_completed"
                  and h["element_id"] == "countersign" and h["data"].get("decision") == "reject"]
    assert len(rejections) == 12 and shown["incidents"] == []


def test_a_second_running_implementation_of_the_same_project_is_refused(engine, tx):
    Rollout(engine, tx)
    with clock.frozen(DAY_ONE), tx() as session, pytest.raises(InvalidInput):
        start_implementation(session, engine, "ERP-2026", user=MANAGER)
    with tx(readonly=True) as session:
        assert len(queries.instances(session, key="implementation")) == 1
        assert session.scalar(select(HumanTask.assignee).where(HumanTask.element_id == "phase_work")) == MANAGER

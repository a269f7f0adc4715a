"""The risk processes (bpmn/risks): the weekly risk review (风险审查), started by its timer every Monday at
09:00 Beijing time, gives each owner of open risks exactly one review task, in parallel; and the risk alert
asks the owner to respond."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from engine import queries
from engine.models import HumanTask, TimerStart
from erp.risks import services
from notifications.models import OutboxMessage
from tests.risks_data import deploy_product, people, product_engine, project, risk

DEPLOYED = datetime(2026, 11, 4, 10, 0, tzinfo=BEIJING)  # a Wednesday
MONDAY_9 = datetime(2026, 11, 9, 9, 0, tzinfo=BEIJING)


@pytest.fixture
def engine(tx):
    engine = product_engine()
    with clock.frozen(DEPLOYED), tx() as session:
        deploy_product(engine, session)
        people(session)
        project(session)
    return engine


@pytest.fixture
def register(tx, engine):
    """wangfang owns two open risks, lina one being monitored, liuyang only a closed one."""
    with clock.frozen(DEPLOYED), tx() as session:
        risk(session, "ERP-2026", owner="wangfang", probability=4, impact=4)
        risk(session, "ERP-2026", owner="wangfang", title="数据迁移错误率高", category="data")
        risk(session, "ERP-2026", owner="lina", title="预算超支", category="budget", status="monitoring")
        services.close_risk(session, risk(session, "ERP-2026", owner="liuyang", title="旧需求"), by="zhangwei")


def _show(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)


def _next_review_start(tx) -> datetime:
    with tx(readonly=True) as session:
        [row] = session.scalars(select(TimerStart).where(TimerStart.process_key == "risk_review")).all()
        return row.next_at, row.every_seconds, row.remaining


def test_the_review_is_scheduled_weekly_on_monday_at_nine_beijing_time(tx, engine):
    first, every, remaining = _next_review_start(tx)
    assert (every, remaining) == (7 * 24 * 3600, -1)
    local = first.astimezone(BEIJING)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)


def test_each_owner_with_open_risks_gets_exactly_one_review_task(tx, engine, register):
    with tx() as session:  # the first tick after deployment makes up for the missed Monday, once
        assert len(engine.start_scheduled_processes(session, DEPLOYED + timedelta(minutes=1))) == 1
        assert engine.start_scheduled_processes(session, MONDAY_9 - timedelta(minutes=1)) == []
        [instance_id] = engine.start_scheduled_processes(session, MONDAY_9 + timedelta(seconds=5))
        assert engine.start_scheduled_processes(session, MONDAY_9 + timedelta(minutes=5)) == []
    shown = _show(engine, tx, instance_id)
    tasks = shown["tasks"]
    assert sorted(t["assignee"] for t in tasks) == ["lina", "wangfang"]  # liuyang's risk is closed
    assert {t["element_id"] for t in tasks} == {"review"} and {t["form_key"] for t in tasks} == {"risks/review"}
    assert shown["data"]["risks_by_owner"] == {"lina": ["ERP-2026/R-003"],
                                               "wangfang": ["ERP-2026/R-001", "ERP-2026/R-002"]}
    with tx(readonly=True) as session:
        mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "risk_review")
                                .order_by(OutboxMessage.recipient_user)).all()
        day = MONDAY_9.astimezone(BEIJING).date().isoformat()
        assert [m.recipient_user for m in mails if f":{day}:" in m.dedupe_key] == ["lina", "wangfang"]
    for task in tasks:
        with clock.frozen(MONDAY_9 + timedelta(hours=2)), tx() as session:
            engine.complete(session, task["id"], {"notes": "已逐条审查"}, task["assignee"])
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["data"]["review_notes"] == ["已逐条审查", "已逐条审查"]


def test_a_round_without_open_risks_ends_at_once(tx, engine):
    with tx() as session:
        [instance_id] = engine.start_scheduled_processes(session, MONDAY_9 + timedelta(seconds=5))
    shown = _show(engine, tx, instance_id)
    assert shown["status"] == "completed" and shown["tasks"] == []


def test_a_risk_alert_asks_the_owner_and_records_a_false_alarm(tx, engine):
    with clock.frozen(DEPLOYED), tx() as session:
        watched = risk(session, "ERP-2026", owner="wangfang")
        from erp.risks import warnings

        rule = warnings.create_rule(session, "ERP-2026", name="逾期任务过多", metric="kpi:overdue_tasks",
                                    comparator=">", threshold="5", risk=watched.id, by="zhangwei")
        from erp.projects import kpis

        kpis.record(session, "ERP-2026", "overdue_tasks", "7")
        assert warnings.evaluate_rule(session, engine, rule, DEPLOYED) == "raised"
        assert warnings.evaluate_rule(session, engine, rule, DEPLOYED + timedelta(hours=1)) == "unchanged"
    with tx(readonly=True) as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
    assert (task.assignee, task.name, task.form_key) == ("wangfang", "应对风险预警 Respond to the risk alert",
                                                         "risks/alert_response")
    assert task.due_at == DEPLOYED.astimezone(UTC) + timedelta(days=1)
    with clock.frozen(DEPLOYED + timedelta(hours=2)), tx() as session:
        engine.complete(session, task.id, {"response": "false_alarm", "actions_taken": "数据口径错误，已更正"},
                        "wangfang")
    shown = _show(engine, tx, task.instance_id)
    assert shown["status"] == "completed"
    assert shown["data"]["alert_response"]["next_review_on"] == (date(2026, 11, 4) + timedelta(days=7)).isoformat()

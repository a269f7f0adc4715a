"""Early warning (预警机制): a rule raises one alert per breach however often it is evaluated, clears it on
recovery, and on each breach starts the risk_alert process with a task for the risk owner, mails the owner,
activates the risk's contingency plan (应急计划) and starts the rule's own process. Metrics: a project KPI,
the overdue tasks and SLA breaches of a process, and the budget burn."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock
from engine.models import HumanTask, ProcessInstance
from erp.projects import kpis
from erp.projects.services import add_expense, add_work_package
from erp.risks import queries, warnings
from erp.risks.models import Risk, WarningRule
from erp.wiring import periodic_jobs
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server
from tests.bpmn_text import one_task
from tests.risks_data import deploy_product, people, product_engine, project, risk

smtp_server = mail_server.smtp_server  # the fixture, used by name
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
HOUR = timedelta(hours=1)


def _assigned(pid: str, assignee: str, due: str | None = None) -> bytes:
    due_property = f'<spiffworkflow:property name="dueDate" value="{due}"/>' if due else ""
    return one_task(pid, f'<bpmn:userTask id="t" name="{pid}"><bpmn:extensionElements><spiffworkflow:properties>'
                         f'<spiffworkflow:property name="assignee" value="{assignee}"/>{due_property}'
                         '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


#: the risk's contingency process and the rule's own process, both for the owner; a process with a 1-hour SLA
EXTRA = {"contingency_drill.bpmn": _assigned("contingency_drill", "owner"),
         "steering_notice.bpmn": _assigned("steering_notice", "'zhangwei'"),
         "uat_signoff.bpmn": _assigned("uat_signoff", "'liuyang'", "'PT1H'")}


@pytest.fixture
def engine(tx):
    engine = product_engine()
    with clock.frozen(T0), tx() as session:
        deploy_product(engine, session, EXTRA)
        people(session)
        project(session)
    return engine


@pytest.fixture
def spi_rule(tx, engine):
    """R-001 (wangfang's) watched by "SPI below 0.9", evaluated hourly."""
    with clock.frozen(T0), tx() as session:
        watched = risk(session, "ERP-2026", probability=4, impact=4, contingency_plan="关键路径加派顾问",
                       contingency_process="contingency_drill")
        return warnings.create_rule(session, "ERP-2026", name="进度绩效指数低于 0.9", metric="kpi:spi",
                                    comparator="<", threshold="0.9", every_minutes=60, risk=watched.code,
                                    start_process="steering_notice", by="zhangwei").id


def _evaluate(engine, tx, at, spi=None):
    with clock.frozen(at), tx() as session:
        if spi is not None:
            kpis.record(session, "ERP-2026", "spi", spi, at=at)
        return warnings.evaluate_due(session, engine, at)


def _instances(tx, key):
    with tx(readonly=True) as session:
        return session.scalars(select(ProcessInstance.id).where(ProcessInstance.process_key == key)
                               .order_by(ProcessInstance.id)).all()


def _open_tasks(tx, instance_id):
    with tx(readonly=True) as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "open")).all()


def test_a_kpi_breach_raises_one_alert_until_it_recovers_and_again_on_the_next_breach(
        tx, engine, spi_rule, database, smtp_server):
    assert _evaluate(engine, tx, T0, "0.95") == {"evaluated": 1, "raised": 0, "cleared": 0, "failed": 0}
    assert _evaluate(engine, tx, T0 + HOUR, "0.85")["raised"] == 1
    assert _evaluate(engine, tx, T0 + 90 * timedelta(minutes=1), "0.70")["evaluated"] == 0  # not due yet
    assert _evaluate(engine, tx, T0 + 2 * HOUR, "0.80") == {"evaluated": 1, "raised": 0, "cleared": 0, "failed": 0}
    assert _evaluate(engine, tx, T0 + 3 * HOUR, "0.96")["cleared"] == 1
    assert _evaluate(engine, tx, T0 + 4 * HOUR, "0.70")["raised"] == 1

    with tx(readonly=True) as session:
        history = queries.alerts(session, spi_rule)
        rule = session.get(WarningRule, spi_rule)
        watched = session.scalar(select(Risk).where(Risk.code == "R-001"))
        risk_history = queries.history(session, watched)
        assert (rule.state, rule.last_value, rule.next_evaluation_at) == ("breached", Decimal("0.7"), T0 + 5 * HOUR)
        assert (watched.contingency_active, watched.status) == (True, "occurred")
    assert [(a["raised_at"], a["value"], a["cleared_at"], a["cleared_value"]) for a in history] == [
        (T0 + HOUR, Decimal("0.85"), T0 + 3 * HOUR, Decimal("0.96")), (T0 + 4 * HOUR, Decimal("0.7"), None, None)]
    activation = [h for h in risk_history[1:] if "contingency_active" in h["changes"]]  # after its creation
    assert len(activation) == 1 and activation[0]["by"] == "early_warning"
    assert activation[0]["changes"]["status"] == ["open", "occurred"]

    # each breach: a risk_alert process with a task for the owner and the rule's process; the contingency once
    alerts = _instances(tx, "risk_alert")
    assert alerts == [a["instance_id"] for a in history]
    for instance_id in alerts:
        [task] = _open_tasks(tx, instance_id)
        assert (task.assignee, task.form_key, task.element_id) == ("wangfang", "risks/alert_response", "respond")
    assert len(_instances(tx, "steering_notice")) == 2 and len(_instances(tx, "contingency_drill")) == 1
    [drill] = _instances(tx, "contingency_drill")
    assert _open_tasks(tx, drill)[0].assignee == "wangfang"

    send_due(database, MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5),
             now=T0 + 5 * HOUR)
    to_owner = [m for m in smtp_server.messages if m["To"] == "wangfang@example.cn"]
    subjects = [m["Subject"] for m in to_owner]
    assert subjects.count("【风险预警】ERP-2026 R-001 上线延期") == 2
    assert subjects.count("【预警解除】ERP-2026 R-001 上线延期") == 1
    alert_mail = next(m for m in to_owner if m["Subject"].startswith("【风险预警】"))
    body = alert_mail.get_body(("plain",)).get_content()
    assert "进度绩效指数低于 0.9" in body and "kpi:spi" in body and "0.8500" in body and "关键路径加派顾问" in body
    assert f"/instances/{alerts[0]}" in body


def test_the_owner_responds_and_the_response_is_noted_and_the_risk_reviewed(tx, engine, spi_rule):
    _evaluate(engine, tx, T0, "0.85")
    [instance_id] = _instances(tx, "risk_alert")
    [task] = _open_tasks(tx, instance_id)
    with clock.frozen(T0 + 5 * HOUR), tx() as session:
        engine.complete(session, task.id, {"response": "contingency_started", "actions_taken": "已加派两名顾问",
                                           "next_review_on": "2026-11-05"}, "wangfang")
    with tx(readonly=True) as session:
        [alert] = queries.alerts(session, spi_rule)
        watched = session.scalar(select(Risk).where(Risk.code == "R-001"))
        status = session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
        last = queries.history(session, watched)[-1]
    assert status == "completed"
    assert "启动应急预案" in alert["notes"] and "wangfang: 已加派两名顾问" in alert["notes"]
    assert (watched.last_reviewed_on, watched.next_review_on) == (date(2026, 11, 2), date(2026, 11, 5))
    assert last["by"] == "wangfang" and "已加派两名顾问" in last["changes"]["review_notes"][1]


def test_a_rule_is_evaluated_only_when_due_and_never_when_inactive(tx, engine, spi_rule):
    with clock.frozen(T0), tx() as session:
        kpis.record(session, "ERP-2026", "spi", "1.0", at=T0)
        other = warnings.create_rule(session, "ERP-2026", name="成本绩效指数", metric="kpi:cpi", comparator="<",
                                     threshold="0.9", every_minutes=30, by="zhangwei")
        warnings.update_rule(session, other, active=False, by="zhangwei")
    assert _evaluate(engine, tx, T0)["evaluated"] == 1  # the spi rule; cpi is inactive
    assert _evaluate(engine, tx, T0 + 59 * timedelta(minutes=1))["evaluated"] == 0
    assert _evaluate(engine, tx, T0 + HOUR)["evaluated"] == 1
    with tx(readonly=True) as session:
        rule = session.get(WarningRule, spi_rule)
        assert (rule.last_evaluated_at, rule.next_evaluation_at, rule.state) == (T0 + HOUR, T0 + 2 * HOUR, "ok")


def test_a_metric_without_a_value_changes_nothing(tx, engine, spi_rule):
    assert _evaluate(engine, tx, T0) == {"evaluated": 1, "raised": 0, "cleared": 0, "failed": 0}
    with tx(readonly=True) as session:
        assert session.get(WarningRule, spi_rule).last_value is None


def test_overdue_tasks_and_sla_breaches_of_a_process_raise_an_alert_for_the_project_manager(tx, engine):
    with clock.frozen(T0), tx() as session:
        first = engine.start(session, "uat_signoff", {}).id
        engine.start(session, "uat_signoff", {})
        warnings.create_rule(session, "ERP-2026", name="UAT 签收逾期", metric="process_overdue_tasks:uat_signoff",
                             comparator=">=", threshold=2, every_minutes=15, by="zhangwei")
    with tx(readonly=True) as session:
        measure = lambda metric, at: warnings.metric_value(session, "ERP-2026", metric, at)  # noqa: E731
        assert measure("process_overdue_tasks:uat_signoff", T0 + 30 * timedelta(minutes=1)) == 0
        assert measure("process_overdue_tasks:uat_signoff", T0 + 2 * HOUR) == 2
    assert _evaluate(engine, tx, T0 + 2 * HOUR)["raised"] == 1
    [alert] = _instances(tx, "risk_alert")
    assert [t.assignee for t in _open_tasks(tx, alert)] == ["zhangwei"]  # no risk watched: the project manager
    [late] = _open_tasks(tx, first)
    with clock.frozen(T0 + 2 * HOUR), tx() as session:
        engine.complete(session, late.id, {}, "liuyang")
    with tx(readonly=True) as session:
        assert warnings.metric_value(session, "ERP-2026", "process_overdue_tasks:uat_signoff", T0 + 3 * HOUR) == 1
        assert warnings.metric_value(session, "ERP-2026", "process_sla_breaches:uat_signoff", T0 + 3 * HOUR) == 2
        assert warnings.metric_value(session, "ERP-2026", "process_sla_breaches:uat_signoff",
                                     T0 + 31 * 24 * HOUR) == 0  # due dates older than 30 days no longer count
    assert _evaluate(engine, tx, T0 + 3 * HOUR)["cleared"] == 1


def test_budget_burn_past_the_threshold_raises_an_alert(tx, engine):
    with clock.frozen(T0), tx() as session:
        add_work_package(session, "ERP-2026", "execution", code="3.1", name="系统配置", owner="lina",
                         planned_start=date(2026, 10, 1), planned_end=date(2026, 12, 31), budget="100000.00")
        add_expense(session, "ERP-2026", category="consulting", spent_on=date(2026, 10, 15), amount="60000.00",
                    work_package_code="3.1")
        watched = risk(session, "ERP-2026", owner="lina", title="预算超支", category="budget")
        warnings.create_rule(session, "ERP-2026", name="预算消耗超过 80%", metric="budget_burn", comparator=">=",
                             threshold="80", every_minutes=60, risk=watched.id, by="zhangwei")
    assert _evaluate(engine, tx, T0)["raised"] == 0
    with clock.frozen(T0 + HOUR), tx() as session:
        add_expense(session, "ERP-2026", category="consulting", spent_on=date(2026, 11, 1), amount="25000.00",
                    work_package_code="3.1")
        assert warnings.metric_value(session, "ERP-2026", "budget_burn", T0 + HOUR) == Decimal("85.00")
    assert _evaluate(engine, tx, T0 + HOUR)["raised"] == 1
    [alert] = _instances(tx, "risk_alert")
    assert [t.assignee for t in _open_tasks(tx, alert)] == ["lina"]


def test_a_rule_naming_an_unknown_metric_or_comparator_is_refused(tx, engine):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        with clock.frozen(T0), tx() as session:
            warnings.create_rule(session, "ERP-2026", name="x", metric="weather", comparator="=~", threshold="abc")
    assert set(refused.value.errors) == {"metric", "comparator", "threshold"}
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count(WarningRule.id))) == 0


def test_the_early_warning_is_a_periodic_job_every_five_minutes(database):
    [job] = [j for j in periodic_jobs(database).all() if j.name == "risks.early_warning"]
    assert job.schedule == "*/5 * * * *"

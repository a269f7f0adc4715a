"""The implementation project the project and risk page tests look at: tests/projects_data.py's three work
packages (hand-computed earned value), a milestone, a task, two risks with a warning rule, a requirement traced to
a process, training, the communication plan, a change request and budget lines; and the people to log in as."""
from __future__ import annotations

from datetime import UTC, date, datetime

from erp.projects import kpis, services
from erp.risks import warnings
from tests import projects_data, risks_data
from tests.webapp.conftest import login

CODE = "ERP-2026"
#: after the plan's end: SPI 0.3125 (red), CPI 2.2008, EAC 36,350.59 (tests/integration/test_projects_evm.py)
AFTER_END = date(2026, 7, 1)


def build(database, make_user) -> None:
    make_user("zhang", roles=["manager"], name="张经理")
    make_user("wangfang", roles=["employee"], name="王芳")
    make_user("lina", roles=["employee"], name="李娜")
    make_user("analyst1", roles=["analyst"], name="赵分析")
    with database.transaction() as session:
        project = projects_data.three_packages(session, code=CODE)
        services.add_milestone(session, project, name="蓝图签字 Blueprint signed", due_date=date(2026, 3, 11),
                               phase_key="understanding")
        services.add_milestone(session, project, name="上线 Go-live", due_date=date(2026, 6, 30))
        services.add_task(session, project, "2.1", name="配置销售模块 Configure sales", planned_start=date(2026, 3, 9),
                          planned_end=date(2026, 3, 20), assignee="li")
        services.add_requirement(session, project, code="RQ-001", title="订单到收款全流程", priority="must",
                                 traces=[{"kind": "process", "ref": "order_to_cash"}])
        training = services.add_training_session(session, project, title="销售模块培训",
                                                  starts_at=datetime(2026, 4, 10, 2, tzinfo=UTC), duration_hours=3,
                                                  trainer="wang", invitees=["wangfang", "lina"])
        services.record_attendance(session, training, "wangfang")
        services.add_communication(session, project, name="周报 Weekly status report", kind="report",
                                   audience_group="steering_committee", cadence="weekly", owner="zhang", weekday=0,
                                   starting=date(2026, 3, 2))
        services.submit_change_request(session, project, title="增加电子发票接口", cost_impact="8000.00",
                                       days_impact=5, requested_by="wang")
        services.add_budget_line(session, project, "execution", category="consulting", amount="50000.00")
        services.add_budget_line(session, project, "go_live", category="training", amount="6000.00")
        high = risks_data.risk(session, project, owner="wangfang", probability=4, impact=4,
                               title="关键用户无法全程参与", category="organisational", by="zhang")
        risks_data.risk(session, project, owner="lina", probability=2, impact=3, title="历史数据质量差",
                        category="data", by="zhang")
        kpis.record(session, project, "spi", "0.95", at=datetime(2026, 3, 16, tzinfo=UTC), source="computed")
        kpis.record(session, project, "spi", "0.31", at=datetime(2026, 4, 16, tzinfo=UTC), source="computed")
        warnings.create_rule(session, project, name="进度绩效指数低于 0.9", metric="kpi:spi", comparator="<",
                             threshold="0.9", risk=high.id, by="zhang")


def as_user(app, username):
    client = app.test_client()
    login(client, username)
    return client

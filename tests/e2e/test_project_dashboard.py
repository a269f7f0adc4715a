"""The implementation project in a real browser: the project manager opens the dashboard (the ECharts canvases
draw without a console or CSP error), the Gantt chart shows its bars, and in the risk register filters by owner,
opens a risk, changes its probability and sees the change in the risk's history."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from erp.projects import services
from erp.projects.common import today
from erp.projects.models import Project
from erp.risks import queries
from erp.risks.services import create_risk

CODE = "ERP-2026"
MANAGER = "zhangwei"


def _project_exists() -> None:
    """The demo's rollout project (erp/demo_projects.py), or a small one like it when the demo has none."""
    with db.transaction() as session:
        if session.scalar(select(Project.id).where(Project.code == CODE)) is not None:
            return
        start = today() - timedelta(days=60)
        project = services.create_project(session, code=CODE, name_zh="华信 ERP 实施项目", name_en="Huaxin ERP rollout",
                                          manager=MANAGER, start_date=start, planned_end=start + timedelta(days=300),
                                          by=MANAGER)
        services.start_phase(session, project, "understanding")
        package = services.add_work_package(session, project, "understanding", code="1.1", name="业务蓝图",
                                            owner=MANAGER, planned_start=start, planned_end=start + timedelta(days=50),
                                            budget="50000.00")
        services.set_progress(session, package, 60, actual_start=start)
        services.add_task(session, project, "1.1", name="访谈关键用户", planned_start=start,
                          planned_end=start + timedelta(days=20))
        services.add_milestone(session, project, name="蓝图签字", due_date=start + timedelta(days=50),
                               phase_key="understanding")
        create_risk(session, project, title="关键用户无法全程参与", owner="wangfang", probability=4, impact=4,
                    category="organisational", by=MANAGER)
        create_risk(session, project, title="历史数据质量差", owner="lina", probability=3, impact=4, category="data",
                    by=MANAGER)


def _a_risk_owner() -> tuple[str, str]:
    with db.transaction(readonly=True) as session:
        rows = queries.register(session, CODE)
        return rows[-1]["owner"], rows[-1]["code"]


def test_the_project_manager_follows_the_project_and_reviews_a_risk(browser, live_server, screenshot):
    _project_exists()
    owner, _code = _a_risk_owner()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors = []
    # the browser's own request for /favicon.ico (the app has none) is not a page error
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and "favicon" not in message.location.get("url", "") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/login")
    page.fill("#username", MANAGER)
    page.fill("#password", "demo1234")
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_be_visible()

    # the dashboard: S-curves, a gauge and a sparkline per KPI, the burn-down, the heatmap
    page.goto(f"{live_server}/projects")
    page.locator(f'tr.project-row[data-code="{CODE}"] a').click()
    expect(page).to_have_url(re.compile(rf"/projects/{CODE}$"))
    expect(page.locator("#chart-evm canvas")).to_be_visible()
    expect(page.locator("#chart-burn-down canvas")).to_be_visible()
    expect(page.locator(".kpi-gauge canvas")).to_have_count(7)
    expect(page.locator(".kpi-spark canvas")).to_have_count(7)
    expect(page.locator("#risk-heatmap")).to_be_visible()
    expect(page.locator("#rag-status")).to_have_attribute("data-rag", re.compile("red|amber|green"))
    screenshot(page, "dashboard")

    # the Gantt chart draws a bar per phase, work package, task and milestone
    page.click("#tab-gantt")
    expect(page.locator("#gantt .bar-wrapper").first).to_be_visible()
    assert page.locator("#gantt .bar-wrapper").count() >= 5
    screenshot(page, "gantt")

    # the risk register, filtered by owner; the risk is opened, its probability changed
    page.click("#tab-risks")
    page.select_option("#f-owner", owner)
    page.click("#filter-button")
    rows = page.locator("tr.risk-row")
    expect(rows.first).to_be_visible()
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.owner)")) == {owner}
    screenshot(page, "register-by-owner")
    rows.first.locator("a.risk-link").click()
    expect(page.locator("#risk-title")).to_be_visible()
    before = int(page.locator("#risk-probability").inner_text())
    after = 1 if before != 1 else 2
    page.click("#edit-risk")
    page.select_option("#r-probability", str(after))
    page.click("#save-risk")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#risk-probability")).to_have_text(str(after))
    change = page.locator('#risk-history .change[data-field="probability"]').last
    expect(change).to_contain_text(f"{before} → {after}")
    screenshot(page, "risk-history")
    assert errors == []
    context.close()

"""The project pages: the list and the dashboard (RAG status, EVM figures, chart data as JSON), the Gantt data,
requirements, training, the communication plan, change requests, budget, and the status report as a page and a
PDF, in zh-CN and in English."""
from __future__ import annotations

import json
import re

import pytest

from tests.webapp.project_pages import AFTER_END, CODE, as_user, build

PAGES = ("", "/gantt", "/requirements", "/training", "/communications", "/change-requests", "/budget",
         "/status-report")


@pytest.fixture
def rollout(database, make_user):
    build(database, make_user)


def _json(html: str, element_id: str):
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found, f"no #{element_id} data"
    return json.loads(found.group(1))


@pytest.mark.parametrize("locale, words", [("zh_CN", ("仪表盘", "风险评估矩阵", "挣值")),
                                           ("en", ("Dashboard", "Risk matrix", "Earned value"))])
def test_every_project_page_renders_in_both_languages(app, make_user, rollout, locale, words):
    make_user("reader", roles=["employee"], locale=locale)
    client = as_user(app, "reader")
    for page in PAGES:
        response = client.get(f"/projects/{CODE}{page}?as_of={AFTER_END}")
        assert response.status_code == 200, (page, response.get_data(as_text=True)[:500])
    html = client.get(f"/projects/{CODE}?as_of={AFTER_END}").get_data(as_text=True)
    assert all(word in html for word in words)
    listing = client.get("/projects").get_data(as_text=True)
    assert f'data-code="{CODE}"' in listing and 'data-rag="red"' in listing


def test_the_dashboard_shows_the_figures_and_embeds_the_chart_data(app, rollout):
    html = as_user(app, "zhang").get(f"/projects/{CODE}?as_of={AFTER_END}").get_data(as_text=True)
    assert 'id="rag-status" data-rag="red"' in html  # SPI 0.3125 is below the critical 0.9
    assert 'id="evm-spi">0.3125' in html and 'id="evm-cpi">2.2008' in html
    assert 'id="evm-eac">¥36,350.59' in html and 'id="evm-vac">¥43,649.41' in html
    charts = _json(html, "dashboard-data")
    names = [s["name"] for s in charts["evm"]["series"]]
    assert names == ["计划值 (PV)", "挣值 (EV)", "实际成本 (AC)"]
    assert charts["evm"]["categories"][0] == "2026-03-02" and charts["evm"]["categories"][-1] == "2026-06-30"
    assert charts["evm"]["series"][0]["data"][-1] == "80000.00"
    spi = next(k for k in charts["kpis"] if k["key"] == "spi")
    assert spi["history"]["data"] == ["0.9500", "0.3100"] and spi["status"] == "red"
    assert len(charts["kpis"]) == 7 and charts["burn_down"]["series"][0]["data"][-1] == 1  # the task is open
    assert 'data-probability="4" data-impact="4" data-count="1"' in html  # the 4×4 risk on the heatmap
    assert "echarts.min.js" in html and "project_dashboard.js" in html
    assert "<script>" not in html  # no inline script under the CSP


def test_the_gantt_page_carries_its_bars_as_json(app, rollout):
    html = as_user(app, "wangfang").get(f"/projects/{CODE}/gantt").get_data(as_text=True)
    bars = _json(html, "gantt-data")
    kinds = [b["kind"] for b in bars]
    assert kinds.count("phase") == 5 and kinds.count("work_package") == 3 and kinds.count("task") == 1
    assert kinds.count("milestone") == 2
    configuration = next(b for b in bars if b["name"].startswith("2.1"))
    assert configuration["start"] == "2026-03-07" and configuration["progress"] == 30.0
    assert configuration["dependencies"] == [next(b["id"] for b in bars if b["name"].startswith("1.1"))]
    assert "/vendor/frappe-gantt/frappe-gantt.umd.js" in html and "/vendor/frappe-gantt/frappe-gantt.css" in html


def test_frappe_gantt_is_served_by_the_app(client):
    assert client.get("/vendor/frappe-gantt/frappe-gantt.umd.js").status_code == 200
    assert client.get("/static/project_gantt.js").status_code == 200


def test_the_planning_pages_show_requirements_training_communications_and_budget(app, rollout):
    client = as_user(app, "lina")
    requirements = client.get(f"/projects/{CODE}/requirements").get_data(as_text=True)
    assert 'data-code="RQ-001"' in requirements and 'href="/processes/order_to_cash/start"' in requirements
    training = client.get(f"/projects/{CODE}/training").get_data(as_text=True)
    assert "50" in re.search(r'id="training-completion">(.*?)</p>', training, re.S).group(1)
    communications = client.get(f"/projects/{CODE}/communications").get_data(as_text=True)
    assert 'data-kind="report"' in communications and "steering_committee" in communications
    changes = client.get(f"/projects/{CODE}/change-requests").get_data(as_text=True)
    assert "增加电子发票接口" in changes and "¥8,000.00" in changes
    budget = client.get(f"/projects/{CODE}/budget").get_data(as_text=True)
    assert 'id="budget-total">¥56,000.00' in budget


def test_the_status_report_page_and_its_pdf(app, rollout):
    client = as_user(app, "wangfang")
    html = client.get(f"/projects/{CODE}/status-report?as_of={AFTER_END}").get_data(as_text=True)
    assert 'id="rag-status" data-rag="red"' in html and 'id="report-spi">0.3125' in html
    assert 'data-code="R-001"' in html and "download-pdf" in html
    response = client.get(f"/projects/{CODE}/status-report.pdf?as_of={AFTER_END}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and len(response.data) > 2000
    assert f"{CODE}-status-report-{AFTER_END}.pdf" in response.headers["Content-Disposition"]


def test_an_unknown_project_is_not_found(app, rollout):
    assert as_user(app, "zhang").get("/projects/NOPE-1").status_code == 404


def test_a_bad_date_is_refused(app, rollout):
    assert as_user(app, "zhang").get(f"/projects/{CODE}?as_of=tomorrow").status_code == 422


@pytest.fixture
def engine(product_engine):
    """The product's diagrams and operators: a change request starts the real change_request process."""
    return product_engine


def test_a_change_request_from_the_page_goes_to_approval(app, rollout, engine, make_user):
    from sqlalchemy import select

    from core import db
    from engine.deploy import read_paths
    from engine.models import ProcessInstance
    from erp.projects.gates import find_change_request
    from tests.conftest import ROOT

    with db.transaction() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
    client = as_user(app, "wangfang")
    bad = client.post(f"/projects/{CODE}/change-requests", data={"title": "", "cost_impact": "很多"})
    assert bad.status_code == 422
    response = client.post(f"/projects/{CODE}/change-requests", data={
        "title": "增加电子发票接口", "reason": "税务要求", "cost_impact": "12,000", "days_impact": "5"},
        follow_redirects=True)
    assert response.status_code == 200 and "已提交审批" in response.get_data(as_text=True)
    with db.transaction() as session:
        [instance] = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "change_request"))
        request = find_change_request(session, instance.business_key)
        assert request.status == "submitted" and request.requested_by == "wangfang"
        assert str(request.cost_impact) == "12000.00" and request.days_impact == 5

"""The start pages: which processes a person may start, the start form named by the diagram (or found by
convention), validation on the server with errors beside the fields, and the instance that results."""
# ruff: noqa: F811 - the office fixtures are imported, then named as test parameters
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select

from engine.models import ProcessDefinition, ProcessInstance
from tests.webapp.office import (  # noqa: F401 - fixtures
    browser,
    engine,
    forms_dir,
    instance_data,
    instance_row,
    office,
    start_approval,
    the_task,
)


def instances(database) -> int:
    with database.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance))


def test_the_list_offers_the_newest_version_of_each_process(browser, database):
    html = browser("wangfang").get("/processes").get_data(as_text=True)
    assert 'data-key="approval"' in html and 'data-key="expense"' in html
    assert "通用审批" in html and "/processes/approval/start" in html
    with database.transaction(readonly=True) as session:
        assert session.scalar(select(ProcessDefinition.forms).where(ProcessDefinition.key == "approval")) == {
            "submitted": "approval/request", "review": "approval/review", "countersign": "approval/review",
            "revise": "approval/revise"}


def test_the_start_form_is_the_one_the_start_event_names(browser):
    html = browser("wangfang").get("/processes/approval/start").get_data(as_text=True)
    for name in ("title", "amount", "department", "business_key"):
        assert f'name="{name}"' in html
    assert 'name="requester"' not in html  # filled from the login
    assert "事由" in html and "审批申请" in html


def test_a_start_form_is_found_by_convention_when_the_diagram_names_none(browser):
    html = browser("wangfang").get("/processes/expense/start").get_data(as_text=True)
    assert 'name="purpose"' in html and 'name="lines-0-item"' in html and 'type="file"' in html
    assert 'name="claimant"' not in html


def test_starting_records_the_requester_from_the_login_not_from_the_form(browser, database, engine):
    instance_id = start_approval(browser, amount="12,345.6", requester="liuyang", business_key=" PR-7 ")
    instance = instance_row(database, instance_id)
    assert instance.started_by == "wangfang" and instance.business_key == "PR-7"
    data = instance_data(engine, database, instance_id)
    assert data["requester"] == "wangfang" and data["amount"] == Decimal("12345.6")
    assert data["title"] == "采购笔记本电脑" and data["department"] == "研发部"
    assert the_task(database, instance_id).candidate_groups == ["dept_manager"]  # the first of two levels


def test_invalid_start_data_is_shown_again_with_errors_and_starts_nothing(browser, database):
    response = browser("wangfang").post("/processes/approval/start", data={
        "title": "", "amount": "-5", "department": "财务部", "business_key": "PR-9"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-error-for="title"' in html and 'data-error-for="amount"' in html
    assert re.search(r'<input class="form-control\s+is-invalid[^"]*"[^>]*name="amount"[^>]*value="-5"', html)
    assert 'value="财务部"' in html and 'value="PR-9"' in html
    assert instances(database) == 0
    response = browser("wangfang").post("/processes/approval/start", data={
        "title": "x", "amount": "1", "business_key": "K" * 201})
    assert response.status_code == 422 and 'data-error-for="business_key"' in response.get_data(as_text=True)
    assert instances(database) == 0


def test_an_unknown_process_is_not_found(browser):
    assert browser("wangfang").get("/processes/nonexistent/start").status_code == 404
    assert browser("wangfang").post("/processes/nonexistent/start", data={}).status_code == 404


def test_lines_with_money_are_stored_exactly(browser, database, engine):
    response = browser("wangfang").post("/processes/expense/start", data={
        "purpose": "出差北京", "lines-0-item": "机票", "lines-0-amount": "1,280.10",
        "lines-1-item": "", "lines-1-amount": "",  # the empty row at the end of the table
        "lines-4-item": "酒店", "lines-4-amount": "0.2", "claimant": "boss"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    data = instance_data(engine, database, instance_id)
    assert data["lines"] == [{"item": "机票", "amount": Decimal("1280.10")},
                             {"item": "酒店", "amount": Decimal("0.20")}]
    assert sum(line["amount"] for line in data["lines"]) == Decimal("1280.30")
    assert data["claimant"] == "wangfang"


def test_a_table_row_error_points_at_its_cell(browser, database):
    response = browser("wangfang").post("/processes/expense/start", data={
        "purpose": "出差", "lines-3-item": "机票", "lines-3-amount": "12.345",
        "lines-5-item": "", "lines-5-amount": "5"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-error-for="lines.0.amount"' in html and 'data-error-for="lines.1.item"' in html
    assert re.search(r'name="lines-0-amount"[^>]*value="12.345"', html)
    assert instances(database) == 0

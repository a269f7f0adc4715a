"""The risk register pages: the register with its filters and heatmap, a risk's detail with its change history,
editing (risk.edit) that records history, reviews by the risk's owner (and only them among employees), new risks
and the warning rules, in zh-CN and in English."""
from __future__ import annotations

import pytest

from core import db
from erp.risks import queries
from erp.risks.services import find_risk_by_code
from tests.webapp.project_pages import CODE, as_user, build


@pytest.fixture
def rollout(database, make_user):
    build(database, make_user)


def _risk_id(code: str) -> int:
    with db.transaction(readonly=True) as session:
        return find_risk_by_code(session, CODE, code).id


def _history(code: str) -> list[dict]:
    with db.transaction(readonly=True) as session:
        return queries.history(session, find_risk_by_code(session, CODE, code))


@pytest.mark.parametrize("locale, words", [("zh_CN", ("风险登记册", "风险责任人", "可能性")),
                                           ("en", ("Risk register", "Risk owner", "Probability"))])
def test_the_risk_pages_render_in_both_languages(app, make_user, rollout, locale, words):
    make_user("reader", roles=["employee"], locale=locale)
    client = as_user(app, "reader")
    register = client.get(f"/projects/{CODE}/risks").get_data(as_text=True)
    assert all(word in register for word in words)
    assert client.get(f"/risks/{_risk_id('R-001')}").status_code == 200
    rules = client.get(f"/projects/{CODE}/warning-rules").get_data(as_text=True)
    assert "进度绩效指数低于 0.9" in rules and 'data-state="ok"' in rules


def _codes(html: str) -> list[str]:
    import re

    return re.findall(r'class="risk-row" data-code="([^"]+)"', html)


def test_the_register_filters_by_status_owner_category_score_and_text(app, rollout):
    client = as_user(app, "wangfang")
    url = f"/projects/{CODE}/risks"
    assert _codes(client.get(url).get_data(as_text=True)) == ["R-001", "R-002"]  # highest score first
    assert _codes(client.get(f"{url}?owner=lina").get_data(as_text=True)) == ["R-002"]
    assert _codes(client.get(f"{url}?category=organisational").get_data(as_text=True)) == ["R-001"]
    assert _codes(client.get(f"{url}?min_score=10").get_data(as_text=True)) == ["R-001"]
    assert _codes(client.get(f"{url}?q=数据质量").get_data(as_text=True)) == ["R-002"]
    assert _codes(client.get(f"{url}?status=closed").get_data(as_text=True)) == []
    html = client.get(url).get_data(as_text=True)
    assert 'data-probability="4" data-impact="4" data-count="1"' in html
    assert 'data-probability="2" data-impact="3" data-count="1"' in html
    assert 'id="new-risk"' not in html  # an employee cannot add risks


def test_an_edit_records_the_change_in_the_history(app, rollout):
    risk_id = _risk_id("R-002")
    client = as_user(app, "zhang")
    form = client.get(f"/risks/{risk_id}/edit")
    assert form.status_code == 200 and 'id="risk-form"' in form.get_data(as_text=True)
    response = client.post(f"/risks/{risk_id}/edit", data={
        "title": "历史数据质量差", "owner": "lina", "category": "data", "probability": "4", "impact": "3",
        "proximity": "near", "strategy": "mitigate", "status": "open", "residual_probability": "",
        "actions": "数据清洗"})
    assert response.status_code == 302
    last = _history("R-002")[-1]
    assert last["by"] == "zhang" and last["changes"]["probability"] == [2, 4] and last["changes"]["score"] == [6, 12]
    html = client.get(f"/risks/{risk_id}").get_data(as_text=True)
    assert 'id="risk-score" class="fw-bold">12' in html and 'data-field="probability"' in html and "2 → 4" in html


def test_an_invalid_edit_is_refused_and_changes_nothing(app, rollout):
    risk_id = _risk_id("R-002")
    response = as_user(app, "analyst1").post(f"/risks/{risk_id}/edit", data={"probability": "9"})
    assert response.status_code == 422 and 'id="form-errors"' in response.get_data(as_text=True)
    assert len(_history("R-002")) == 1


def test_an_employee_cannot_edit_a_risk_nor_review_one_they_do_not_own(app, rollout):
    client = as_user(app, "wangfang")  # owns R-001, not R-002
    other = _risk_id("R-002")
    assert client.get(f"/risks/{other}/edit").status_code == 403
    assert client.post(f"/risks/{other}/edit", data={"probability": "5"}).status_code == 403
    assert client.post(f"/risks/{other}/review", data={"probability": "5"}).status_code == 403
    assert 'id="review-form"' not in client.get(f"/risks/{other}").get_data(as_text=True)
    assert len(_history("R-002")) == 1


def test_the_owner_reviews_their_own_risk(app, rollout):
    client = as_user(app, "wangfang")
    risk_id = _risk_id("R-001")
    assert 'id="review-form"' in client.get(f"/risks/{risk_id}").get_data(as_text=True)
    response = client.post(f"/risks/{risk_id}/review", data={"probability": "3", "impact": "4", "status": "monitoring",
                                                              "notes": "关键用户已确认全程参与"})
    assert response.status_code == 302
    last = _history("R-001")[-1]
    assert last["by"] == "wangfang" and last["changes"]["probability"] == [4, 3]
    assert last["changes"]["review_notes"] == [None, "关键用户已确认全程参与"] and "last_reviewed_on" in last["changes"]


def test_a_manager_adds_a_risk(app, rollout):
    client = as_user(app, "zhang")
    assert client.get(f"/projects/{CODE}/risks/new").status_code == 200
    response = client.post(f"/projects/{CODE}/risks/new", data={
        "title": "供应商顾问流失", "owner": "lina", "category": "vendor", "probability": "3", "impact": "5",
        "proximity": "far", "strategy": "transfer", "triggers": "顾问请假频繁"})
    assert response.status_code == 302
    assert _history("R-003")[0]["changes"]["score"] == [None, 15]
    assert as_user(app, "wangfang").get(f"/projects/{CODE}/risks/new").status_code == 403
    missing = client.post(f"/projects/{CODE}/risks/new", data={"title": "", "owner": "lina", "category": "vendor",
                                                               "probability": "3", "impact": "5"})
    assert missing.status_code == 422

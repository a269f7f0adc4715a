"""The inbox page: my tasks and my groups' unclaimed tasks, filters, sorting, pagination, saved filters and
the counts in the navigation."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock, db
from engine import queries
from engine.deploy import read_paths
from erp.identity.models import SavedFilter
from tests.conftest import ROOT
from tests.webapp.conftest import login


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def approvals(database, engine, make_user):
    """Approvals in flight: small ones for dept_manager, medium for finance_director; one overdue."""
    make_user("wangfang", groups=["employees"])
    make_user("zhangwei", roles=["employee", "manager"], groups=["employees", "dept_manager"])
    make_user("lina", roles=["employee", "manager"], groups=["employees", "finance_director"])
    with db.transaction() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]), user="tester")

    def start(key, amount, at=None, **extra):
        with clock.frozen(at or clock.now()), db.transaction() as session:
            return engine.start(session, "approval", {"title": key, "amount": Decimal(amount),
                                                      "requester": "wangfang", **extra}, business_key=key,
                                user="wangfang")

    start("PR-OLD", "500", clock.now() - timedelta(days=10))  # due after 3 days: overdue now
    for i in range(1, 31):
        start(f"PR-{i:03d}", "1000")
    start("PR-BIG", "50000", department="总经办")  # the general manager's office: the finance director first
    return start


def _task_keys(html: str) -> list[str]:
    return re.findall(r'<td>(PR-[A-Z0-9-]+)</td>', html)


def test_group_tasks_are_offered_to_group_members_only(client, approvals):
    login(client, "zhangwei")
    html = client.get("/inbox?view=group&per_page=100").get_data(as_text=True)
    assert "PR-BIG" not in html  # finance_director's, not his
    assert 'data-count="group">31<' in html and 'data-count="mine">0<' in html
    client.post("/logout")
    login(client, "wangfang")
    assert _task_keys(client.get("/inbox").get_data(as_text=True)) == []


def test_claiming_moves_a_task_from_the_group_to_mine(client, approvals, engine):
    login(client, "lina")
    html = client.get("/inbox?view=group").get_data(as_text=True)
    task_id = int(re.search(r'data-task-id="(\d+)"', html).group(1))
    with db.transaction() as session:
        engine.claim(session, task_id, "lina")
    html = client.get("/inbox?view=mine").get_data(as_text=True)
    assert _task_keys(html) == ["PR-BIG"] and 'data-count="mine">1<' in html
    assert _task_keys(client.get("/inbox?view=group").get_data(as_text=True)) == []


def test_overdue_tasks_stand_out_and_can_be_filtered(client, approvals):
    login(client, "zhangwei")
    html = client.get("/inbox?overdue=1").get_data(as_text=True)
    assert _task_keys(html) == ["PR-OLD"]
    assert 'class="task-row table-danger"' in html
    sorted_by_due = _task_keys(client.get("/inbox").get_data(as_text=True))
    assert sorted_by_due[0] == "PR-OLD"  # the default sort is by due date, oldest first


def test_pagination_and_sorting(client, approvals):
    login(client, "zhangwei")
    first = _task_keys(client.get("/inbox?sort=business_key").get_data(as_text=True))
    second = _task_keys(client.get("/inbox?sort=business_key&page=2").get_data(as_text=True))
    assert len(first) == 25 and len(second) == 6
    assert first[:2] == ["PR-001", "PR-002"] and second[-1] == "PR-OLD"
    descending = _task_keys(client.get("/inbox?sort=business_key&desc=1").get_data(as_text=True))
    assert descending[0] == "PR-OLD"
    assert "共 31 项任务" in client.get("/inbox").get_data(as_text=True)


def test_filter_by_business_key_and_text_and_process(client, approvals):
    login(client, "zhangwei")
    assert _task_keys(client.get("/inbox?business_key=PR-01").get_data(as_text=True)) == [
        f"PR-{i:03d}" for i in range(10, 20)]
    assert _task_keys(client.get("/inbox?q=PR-030").get_data(as_text=True)) == ["PR-030"]
    assert len(_task_keys(client.get("/inbox?process=approval").get_data(as_text=True))) == 25
    assert _task_keys(client.get("/inbox?process=other").get_data(as_text=True)) == []


def test_a_filter_can_be_saved_reused_and_deleted(client, approvals):
    login(client, "zhangwei")
    response = client.post("/inbox/filters", data={"name": "逾期", "query": "overdue=1"})
    assert response.headers["Location"] == "/inbox?overdue=1"
    html = client.get("/inbox").get_data(as_text=True)
    assert "逾期" in html and 'href="/inbox?overdue=1"' in html
    client.post("/inbox/filters", data={"name": "逾期", "query": "overdue=1&sort=priority"})  # same name: replaced
    with db.transaction(readonly=True) as session:
        [saved] = session.scalars(select(SavedFilter)).all()
    assert saved.query == "overdue=1&sort=priority"
    client.post("/logout")
    login(client, "lina")
    assert client.post(f"/inbox/filters/{saved.id}/delete").status_code == 302  # not hers: nothing happens
    client.post("/logout")
    login(client, "zhangwei")
    client.post(f"/inbox/filters/{saved.id}/delete")
    with db.transaction(readonly=True) as session:
        assert session.scalars(select(SavedFilter)).all() == []


def test_a_saved_filter_needs_a_name(client, approvals):
    login(client, "zhangwei")
    assert client.post("/inbox/filters", data={"name": " ", "query": "overdue=1"}).status_code == 422


def test_unknown_filter_values_are_ignored_not_errors(client, approvals):
    login(client, "zhangwei")
    response = client.get("/inbox?sort=drop_table&view=everything&min_priority=abc&page=-3")
    assert response.status_code == 200
    assert len(_task_keys(response.get_data(as_text=True))) == 25


def test_the_inbox_in_english(client, approvals, make_user):
    make_user("zhangwei", roles=["employee", "manager"], groups=["dept_manager"], locale="en")
    login(client, "zhangwei")
    html = client.get("/inbox").get_data(as_text=True)
    assert "My tasks" in html and "31 task(s)" in html and "Overdue" in html


def test_navigation_counts_are_the_same_on_filtered_and_unfiltered_pages(client, approvals, engine):
    login(client, "lina")
    with db.transaction() as session:
        [big] = queries.tasks(session, user="lina", groups={"finance_director"})
        engine.claim(session, big["id"], "lina")
    client.post("/logout")
    login(client, "zhangwei")
    for url in ("/inbox", "/inbox?overdue=1", "/inbox?view=mine", "/inbox?view=group&q=PR-01"):
        html = client.get(url).get_data(as_text=True)
        assert 'data-count="group">31<' in html and 'data-count="mine">0<' in html, url
    client.post("/logout")
    login(client, "lina")
    for url in ("/inbox", "/inbox?business_key=none"):
        html = client.get(url).get_data(as_text=True)
        assert 'data-count="group">0<' in html and 'data-count="mine">1<' in html, url

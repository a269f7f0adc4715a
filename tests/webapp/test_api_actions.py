"""The task actions through the JSON API (转办, 委派, 加签, 退回, 撤回, 抄送, comments, dates), each checked on the
database afterwards, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import db
from engine.models import HistoryEvent, HumanTask, TaskDraft, TaskInvolvement
from tests.webapp.test_api_support import (
    Api,
    build_engine,
    deploy_expense,
    error_of,
    first_task,
    make_people,
    start_expense,
    write_forms,
)


@pytest.fixture(scope="session")
def api_forms(tmp_path_factory):
    return write_forms(tmp_path_factory.mktemp("api_action_forms"))


@pytest.fixture
def engine(api_forms):
    """Overrides the shared engine fixture: the app and `deploy` use the expense forms."""
    return build_engine(api_forms)


@pytest.fixture
def people(make_user, client) -> dict[str, Api]:
    return make_people(make_user, client)


@pytest.fixture
def review(people, database, engine) -> tuple[int, int]:
    """(instance id, review task id) of an expense wangfang submitted, claimed by lina."""
    deploy_expense(database, engine)
    instance = start_expense(people["wangfang"])
    task_id = first_task(instance)
    assert people["lina"].post(f"/tasks/{task_id}/claim").status_code == 200
    return instance["id"], task_id


def task_row(task_id: int) -> HumanTask:
    with db.transaction(readonly=True) as session:
        row = session.get(HumanTask, task_id)
        session.expunge(row)
        return row


def open_rows(instance_id: int) -> list[HumanTask]:
    with db.transaction(readonly=True) as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "open").order_by(HumanTask.id)).all()
        session.expunge_all()
        return list(rows)


def history(instance_id: int, kind: str) -> list[HistoryEvent]:
    with db.transaction(readonly=True) as session:
        rows = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                          HistoryEvent.kind == kind)
                               .order_by(HistoryEvent.id)).all()
        session.expunge_all()
        return list(rows)


def test_transfer_hands_the_task_to_someone_else_for_good(people, review):
    instance_id, task_id = review
    response = people["lina"].post(f"/tasks/{task_id}/transfer", {"to_user": "zhaomin", "comment": "请赵经理处理"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["task"]["assignee"] == "zhaomin"
    assert task_row(task_id).assignee == "zhaomin"
    [event] = history(instance_id, "task_transferred")
    assert event.actor == "lina" and event.data["to"] == "zhaomin" and event.message == "请赵经理处理"
    # lina no longer holds it; a transfer to nobody is refused with the field named
    assert people["lina"].post(f"/tasks/{task_id}/transfer", {"to_user": "chenjie"}).status_code == 403
    response = people["zhaomin"].post(f"/tasks/{task_id}/transfer", {"to_user": "nobody"})
    assert response.status_code == 422 and "to_user" in error_of(response)["fields"]
    response = people["zhaomin"].post(f"/tasks/{task_id}/transfer", {})
    assert response.status_code == 422 and "to_user" in error_of(response)["fields"]


def test_delegate_and_resolve_bring_the_task_back_to_its_owner(people, review):
    instance_id, task_id = review
    response = people["lina"].post(f"/tasks/{task_id}/delegate", {"to_user": "chenjie", "comment": "帮忙核对发票"})
    assert response.status_code == 200, response.get_json()
    row = task_row(task_id)
    assert (row.owner, row.assignee, row.delegation_state) == ("lina", "chenjie", "pending")
    # while delegated, the owner cannot complete it
    response = people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}})
    assert response.status_code == 403
    response = people["chenjie"].post(f"/tasks/{task_id}/resolve", {"data": {"comment": "发票无误"},
                                                                     "comment": "已核对"})
    assert response.status_code == 200, response.get_json()
    row = task_row(task_id)
    assert (row.assignee, row.delegation_state) == ("lina", "resolved")
    assert people["lina"].get(f"/tasks/{task_id}").get_json()["draft"] == {"comment": "发票无误"}
    assert [e.actor for e in history(instance_id, "task_resolved")] == ["chenjie"]
    response = people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}})
    assert response.status_code == 200 and task_row(task_id).completed_by == "lina"


def test_a_signer_added_before_signs_first_and_the_task_comes_back(people, review):
    instance_id, task_id = review
    response = people["lina"].post(f"/tasks/{task_id}/add-signer", {"signer": "zhaomin", "position": "before"})
    assert response.status_code == 200, response.get_json()
    assert task_row(task_id).assignee == "zhaomin"
    response = people["zhaomin"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True, "comment": "可以"}})
    assert response.status_code == 200, response.get_json()
    row = task_row(task_id)
    assert (row.status, row.assignee) == ("open", "lina")
    assert people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    assert task_row(task_id).status == "completed"
    assert [t.element_id for t in open_rows(instance_id)] == ["pay"]


def test_a_signer_added_after_signs_last(people, review):
    instance_id, task_id = review
    response = people["lina"].post(f"/tasks/{task_id}/add-signer", {"signer": "zhaomin", "position": "after"})
    assert response.status_code == 200, response.get_json()
    assert task_row(task_id).signers_after == ["zhaomin"]
    response = people["lina"].post(f"/tasks/{task_id}/add-signer", {"signer": "chenjie", "position": "sideways"})
    assert response.status_code == 422 and "position" in error_of(response)["fields"]
    assert people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    row = task_row(task_id)
    assert (row.status, row.assignee) == ("open", "zhaomin")
    assert people["zhaomin"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    assert task_row(task_id).status == "completed"
    assert [t.element_id for t in open_rows(instance_id)] == ["pay"]


def test_return_sends_the_work_back_to_the_previous_step(people, review):
    instance_id, task_id = review
    assert people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    [pay] = open_rows(instance_id)
    response = people["chenjie"].post(f"/tasks/{pay.id}/return", {"to": "previous"})
    assert response.status_code == 422 and "reason" in error_of(response)["fields"]
    response = people["chenjie"].post(f"/tasks/{pay.id}/return", {"reason": "金额与发票不符", "to": "previous"})
    assert response.status_code == 200, response.get_json()
    assert task_row(pay.id).status == "cancelled"
    [again] = open_rows(instance_id)
    assert (again.element_id, again.assignee) == ("review", "lina")
    assert [e.message for e in history(instance_id, "task_returned")] == ["金额与发票不符"]
    assert [t["element_id"] for t in response.get_json()["open_tasks"]] == ["review"]


def test_withdraw_takes_back_a_completed_task_before_the_next_step_starts(people, review):
    instance_id, task_id = review
    assert people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    [pay] = open_rows(instance_id)
    assert people["chenjie"].post(f"/tasks/{task_id}/withdraw").status_code == 403
    response = people["lina"].post(f"/tasks/{task_id}/withdraw")
    assert response.status_code == 200, response.get_json()
    assert task_row(pay.id).status == "cancelled"
    [again] = open_rows(instance_id)
    assert (again.element_id, again.assignee) == ("review", "lina")
    assert [e.actor for e in history(instance_id, "task_withdrawn")] == ["lina"]
    assert people["lina"].post(f"/tasks/{task_id}/withdraw").status_code == 409  # once only


def test_copy_lets_people_see_the_instance(people, review):
    instance_id, task_id = review
    assert people["chenjie"].get(f"/instances/{instance_id}").status_code == 403
    response = people["lina"].post(f"/tasks/{task_id}/copy", {"to_users": ["chenjie", "liwei"], "note": "供参考"})
    assert response.status_code == 200, response.get_json()
    assert sorted(response.get_json()["copied_to"]) == ["chenjie", "liwei"]
    with db.transaction(readonly=True) as session:
        copied = session.execute(select(TaskInvolvement.user_name, TaskInvolvement.note).where(
            TaskInvolvement.task_id == task_id, TaskInvolvement.kind == "copied")
            .order_by(TaskInvolvement.user_name)).all()
    assert [tuple(c) for c in copied] == [("chenjie", "供参考"), ("liwei", "供参考")]
    assert people["chenjie"].get(f"/instances/{instance_id}").status_code == 200
    for body in ({"to_users": []}, {"to_users": "chenjie"}, {"to_users": ["nobody"]}):
        response = people["lina"].post(f"/tasks/{task_id}/copy", body)
        assert response.status_code == 422 and "to_users" in error_of(response)["fields"], body


def test_comments_go_to_the_history(people, review):
    instance_id, task_id = review
    response = people["lina"].post(f"/tasks/{task_id}/comments", {"text": "等发票原件"})
    assert response.status_code == 201, response.get_json()
    [event] = history(instance_id, "comment")
    assert (event.actor, event.message) == ("lina", "等发票原件")
    response = people["lina"].post(f"/tasks/{task_id}/comments", {"text": "  "})
    assert response.status_code == 422 and "text" in error_of(response)["fields"]
    assert people["outsider"].post(f"/tasks/{task_id}/comments", {"text": "hi"}).status_code == 403
    assert len(history(instance_id, "comment")) == 1


def test_dates_for_the_people_on_the_task_and_for_managers(people, review):
    instance_id, task_id = review
    due = "2026-04-01T18:00:00+08:00"
    response = people["lina"].post(f"/tasks/{task_id}/dates", {"due_at": due, "follow_up_at": None})
    assert response.status_code == 200, response.get_json()
    assert task_row(task_id).due_at == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
    # someone else's task: an employee may not, a manager (task.supervise) may
    response = people["chenjie"].post(f"/tasks/{task_id}/dates", {"follow_up_at": "2026-03-20T09:00:00+08:00"})
    assert response.status_code == 403
    response = people["zhaomin"].post(f"/tasks/{task_id}/dates", {"follow_up_at": "2026-03-20T09:00:00+08:00"})
    assert response.status_code == 200, response.get_json()
    assert task_row(task_id).follow_up_at == datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
    for body in ({}, {"due_at": "next week"}, {"due_at": "2026-04-01T18:00:00"}):
        response = people["lina"].post(f"/tasks/{task_id}/dates", body)
        assert response.status_code == 422 and "due_at" in error_of(response)["fields"], body
    assert [e.actor for e in history(instance_id, "task_dates_changed")] == ["lina", "zhaomin"]


def test_drafts_are_kept_per_user_and_need_an_object(people, review):
    _instance_id, task_id = review
    assert people["lina"].put(f"/tasks/{task_id}/draft", {"data": {"approved": True}}).status_code == 200
    assert people["lina"].put(f"/tasks/{task_id}/draft", {"data": {"comment": "改"}}).status_code == 200
    with db.transaction(readonly=True) as session:
        drafts = session.execute(select(TaskDraft.user_name, TaskDraft.data)
                                 .where(TaskDraft.task_id == task_id)).all()
    assert [tuple(d) for d in drafts] == [("lina", {"comment": "改"})]
    response = people["lina"].put(f"/tasks/{task_id}/draft", {"data": "x"})
    assert response.status_code == 422 and "data" in error_of(response)["fields"]
    assert people["chenjie"].put(f"/tasks/{task_id}/draft", {"data": {}}).status_code == 403

"""The task page and its actions through the browser's routes: claim, complete (with errors beside the fields),
drafts, the read-only view of a completed task, who may see and work a task, and transfer (转办), delegate and
resolve (委派), add signer (加签), return (退回), withdraw (撤回), copy (抄送), comments and dates."""
# ruff: noqa: F811 - the office fixtures are imported, then named as test parameters
from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from engine.models import TaskDraft, TaskInvolvement
from tests.webapp.office import (  # noqa: F401 - fixtures
    browser,
    engine,
    forms_dir,
    history,
    instance_data,
    instance_row,
    office,
    open_tasks,
    start_approval,
    task_row,
    the_task,
)


def page(client, task_id, status=200) -> str:
    response = client.get(f"/tasks/{task_id}")
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    return response.get_data(as_text=True)


def post(client, url, status=302, **data):
    response = client.post(url, data=data)
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response


def kinds(database, instance_id) -> list[str]:
    return [h.kind for h in history(database, instance_id)]


# ------------------------------------------------------------------------------------------------ working a task


def test_a_started_request_reaches_the_approvers_inbox_and_is_claimed(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    assert task.element_id == "review" and task.candidate_groups == ["dept_manager"] and task.assignee is None
    inbox = browser("zhangwei").get("/inbox?view=group").get_data(as_text=True)
    assert f'data-task-id="{task.id}"' in inbox and "审批" in inbox
    response = post(browser("zhangwei"), f"/tasks/{task.id}/claim", next="/inbox?view=mine")
    assert response.headers["Location"] == "/inbox?view=mine"
    assert task_row(database, task.id).assignee == "zhangwei"
    assert "task_claimed" in kinds(database, instance_id)
    html = page(browser("zhangwei"), task.id)
    assert 'id="task-form"' in html and "unclaim-button" in html and 'id="claim-button"' not in html
    assert "PR-2025-001" in html and "通用审批" in html and "王芳" in html
    request = html.split('id="task-request"')[1].split("</dl>")[0]  # what is being decided on
    assert "采购笔记本电脑" in request and "5,000" in request and "研发部" in request and "王芳" in request


def test_claim_goes_nowhere_but_this_site(browser, database):
    task = the_task(database, start_approval(browser))
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = post(browser("zhangwei"), f"/tasks/{task.id}/claim", next=target)
        assert response.headers["Location"] == f"/tasks/{task.id}", target


def test_invalid_data_comes_back_with_errors_beside_the_fields_and_changes_nothing(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    before = kinds(database, instance_id)
    response = post(browser("zhangwei"), f"/tasks/{task.id}/complete", status=422, decision="reject")
    html = response.get_data(as_text=True)
    assert re.search(r'<textarea class="form-control\s+is-invalid"[^>]*name="comment"', html)
    assert '<div class="invalid-feedback d-block" data-error-for="comment">' in html
    assert re.search(r'value="reject"\s+checked', html)  # what was chosen is still chosen
    assert task_row(database, task.id).status == "open"
    assert kinds(database, instance_id) == before
    post(browser("zhangwei"), f"/tasks/{task.id}/complete", decision="approve", comment="同意采购")
    done = task_row(database, task.id)
    assert done.status == "completed" and done.completed_by == "zhangwei"
    assert instance_row(database, instance_id).status == "completed"


def test_an_unknown_choice_is_refused_beside_its_field(browser, database):
    task = the_task(database, start_approval(browser))
    html = post(browser("zhangwei"), f"/tasks/{task.id}/complete", status=422,
                decision="approve-everything").get_data(as_text=True)
    assert 'data-error-for="decision">' in html and task_row(database, task.id).status == "open"


def test_a_draft_is_kept_and_shown_again(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/draft", decision="return", comment="请补充报价单")
    with database.transaction(readonly=True) as session:
        draft = session.scalars(select(TaskDraft).where(TaskDraft.task_id == task.id)).one()
        assert draft.user_name == "zhangwei" and draft.data["comment"] == "请补充报价单"
    html = page(browser("zhangwei"), task.id)
    assert re.search(r'value="return"\s+checked', html) and "请补充报价单</textarea>" in html
    assert task_row(database, task.id).status == "open"  # a draft submits nothing
    assert "请补充报价单" not in page(browser("lina"), task.id, status=404)  # nor shows it to others


def test_a_completed_task_shows_who_completed_it_with_what_read_only(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/complete", decision="approve", comment="预算内")
    for who in ("zhangwei", "wangfang"):  # the approver and the requester
        html = page(browser(who), task.id)
        assert 'id="task-form"' not in html and 'id="task-completed"' in html
        assert "张伟" in html and "同意 Approve" in html and "预算内" in html
        assert "complete-button" not in html
    assert post(browser("zhangwei"), f"/tasks/{task.id}/complete", status=409, decision="approve")


def test_someone_not_on_the_task_gets_404_and_cannot_complete_it(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    for who in ("outsider", "lina"):  # nobody's candidate; lina approves larger amounts only
        page(browser(who), task.id, status=404)
        post(browser(who), f"/tasks/{task.id}/complete", status=404, decision="approve")
        post(browser(who), f"/tasks/{task.id}/claim", status=404)
    # the requester may look at it, not decide it
    html = page(browser("wangfang"), task.id)
    assert 'id="task-not-yours"' in html and 'id="task-form"' not in html
    post(browser("wangfang"), f"/tasks/{task.id}/complete", status=403, decision="approve")
    assert task_row(database, task.id).status == "open" and task_row(database, task.id).assignee is None
    page(browser("zhangwei"), 999_999, status=404)


def test_unclaim_gives_the_task_back_to_the_group(browser, database):
    task = the_task(database, start_approval(browser))
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    post(browser("zhangwei"), f"/tasks/{task.id}/unclaim")
    assert task_row(database, task.id).assignee is None


# ------------------------------------------------------------------------------------------------ the actions


def test_transfer_hands_the_task_on_for_good(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    html = post(browser("zhangwei"), f"/tasks/{task.id}/transfer", status=422, to_user="nobody").get_data(as_text=True)
    assert 'data-error-for="to_user"' in html and task_row(database, task.id).assignee == "zhangwei"
    post(browser("zhangwei"), f"/tasks/{task.id}/transfer", to_user="lina", comment="我出差，请李娜处理")
    assert task_row(database, task.id).assignee == "lina"
    assert "task_transferred" in kinds(database, instance_id)
    handed = browser("zhangwei").get("/inbox/handed-on").get_data(as_text=True)
    assert f'data-task-id="{task.id}"' in handed and "我出差，请李娜处理" in handed
    assert 'id="task-form"' in page(browser("lina"), task.id)
    post(browser("lina"), f"/tasks/{task.id}/complete", decision="approve")
    assert task_row(database, task.id).completed_by == "lina"


def test_delegate_then_resolve_brings_the_task_back_to_its_owner(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    post(browser("zhangwei"), f"/tasks/{task.id}/delegate", to_user="lina", comment="请先核对金额")
    row = task_row(database, task.id)
    assert (row.owner, row.assignee, row.delegation_state) == ("zhangwei", "lina", "pending")
    owner_view = page(browser("zhangwei"), task.id)
    assert 'id="task-delegated"' in owner_view and 'id="task-form"' not in owner_view
    delegate_view = page(browser("lina"), task.id)
    assert "resolve-button" in delegate_view and "complete-button" not in delegate_view
    post(browser("lina"), f"/tasks/{task.id}/complete", status=403, decision="approve")
    post(browser("lina"), f"/tasks/{task.id}/resolve", decision="approve", comment="金额无误",
         resolve_comment="已核对")
    row = task_row(database, task.id)
    assert (row.assignee, row.delegation_state) == ("zhangwei", "resolved")
    html = page(browser("zhangwei"), task.id)  # the delegate's work is the owner's draft
    assert re.search(r'value="approve"\s+checked', html) and "金额无误</textarea>" in html
    post(browser("zhangwei"), f"/tasks/{task.id}/complete", decision="approve", comment="金额无误")
    assert instance_row(database, instance_id).status == "completed"
    assert {"task_delegated", "task_resolved"} <= set(kinds(database, instance_id))


def test_a_signer_added_before_signs_first_then_the_task_comes_back(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    post(browser("zhangwei"), f"/tasks/{task.id}/add-signer", signer="lina", position="before", comment="请会签")
    row = task_row(database, task.id)
    assert row.assignee == "lina" and row.return_to == ["zhangwei"]
    post(browser("lina"), f"/tasks/{task.id}/complete", decision="approve", comment="财务同意")
    row = task_row(database, task.id)
    assert row.status == "open" and row.assignee == "zhangwei" and row.return_to == []
    post(browser("zhangwei"), f"/tasks/{task.id}/complete", decision="approve")
    assert instance_row(database, instance_id).status == "completed"
    assert "task_signed" in kinds(database, instance_id)


def test_a_signer_added_after_signs_last_and_moves_the_process_on(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    post(browser("zhangwei"), f"/tasks/{task.id}/add-signer", signer="liuyang", position="after")
    assert task_row(database, task.id).signers_after == ["liuyang"]
    post(browser("zhangwei"), f"/tasks/{task.id}/complete", decision="approve", comment="部门同意")
    row = task_row(database, task.id)
    assert row.status == "open" and row.assignee == "liuyang" and row.signers_after == []
    assert instance_row(database, instance_id).status == "running"
    html = page(browser("liuyang"), task.id)  # what was signed so far is shown to the next signer
    assert re.search(r'value="approve"\s+checked', html) and "部门同意" in html
    post(browser("liuyang"), f"/tasks/{task.id}/complete", decision="approve", comment="总经理同意")
    assert instance_row(database, instance_id).status == "completed"


def test_return_needs_a_reason_and_sends_the_request_back_to_the_requester(browser, database, engine):
    instance_id = start_approval(browser, amount="8800.50")
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    html = post(browser("zhangwei"), f"/tasks/{task.id}/return", status=422, to="requester",
                reason=" ").get_data(as_text=True)
    assert 'data-error-for="reason"' in html and 'id="action-return" open' in html
    assert task_row(database, task.id).status == "open"
    post(browser("zhangwei"), f"/tasks/{task.id}/return", to="requester", reason="请附上三家报价")
    revise = the_task(database, instance_id)
    assert revise.element_id == "revise" and revise.assignee == "wangfang"
    assert "task_returned" in kinds(database, instance_id)
    html = page(browser("wangfang"), revise.id)
    assert re.search(r'name="amount"[^>]*value="8800.50"', html) and "请附上三家报价" in html
    post(browser("wangfang"), f"/tasks/{revise.id}/complete", amount="8600", note="已附报价")
    assert the_task(database, instance_id).element_id == "review"
    assert instance_data(engine, database, instance_id)["amount"] == Decimal("8600")


def test_withdraw_takes_back_a_task_before_the_next_step_starts(browser, database):
    instance_id = start_approval(browser)
    review = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{review.id}/complete", decision="return", comment="请补充说明")
    revise = the_task(database, instance_id)
    assert revise.element_id == "revise"
    assert "withdraw-button" in page(browser("zhangwei"), review.id)
    response = post(browser("zhangwei"), f"/tasks/{review.id}/withdraw")
    again = the_task(database, instance_id)
    assert again.element_id == "review" and again.assignee == "zhangwei" and again.id != review.id
    assert response.headers["Location"] == f"/tasks/{again.id}"
    assert task_row(database, revise.id).status == "cancelled"
    assert "task_withdrawn" in kinds(database, instance_id)
    post(browser("wangfang"), f"/tasks/{review.id}/withdraw", status=403)  # only who completed it


def test_copy_lets_people_see_the_task_under_copied_to_me(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    page(browser("chenjing"), task.id, status=404)
    post(browser("zhangwei"), f"/tasks/{task.id}/copy", to_users=["chenjing", "liuyang"], note="供参考")
    with database.transaction(readonly=True) as session:
        copied = session.scalars(select(TaskInvolvement).where(TaskInvolvement.kind == "copied")
                                 .order_by(TaskInvolvement.user_name)).all()
        assert [(c.user_name, c.by_user, c.note) for c in copied] == [("chenjing", "zhangwei", "供参考"),
                                                                       ("liuyang", "zhangwei", "供参考")]
    listing = browser("chenjing").get("/inbox/copied").get_data(as_text=True)
    assert f'data-task-id="{task.id}"' in listing and "供参考" in listing and "fw-bold" in listing
    html = page(browser("chenjing"), task.id)  # may look, not decide
    assert 'id="task-form"' not in html
    with database.transaction(readonly=True) as session:
        read = session.scalars(select(TaskInvolvement).where(TaskInvolvement.user_name == "chenjing")).one()
        assert read.read_at is not None
    assert "task_copied" in kinds(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/copy", status=422, to_users=[])


def test_comments_go_to_the_history_and_the_timeline(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/comment", text="明天给答复")
    [event] = [h for h in history(database, instance_id) if h.kind == "comment"]
    assert event.actor == "zhangwei" and event.message == "明天给答复"
    timeline = page(browser("zhangwei"), task.id).split('id="timeline"')[1]
    assert "明天给答复" in timeline and "张伟" in timeline
    html = post(browser("zhangwei"), f"/tasks/{task.id}/comment", status=422, text="  ").get_data(as_text=True)
    assert 'data-error-for="text"' in html
    post(browser("outsider"), f"/tasks/{task.id}/comment", status=404, text="我也说两句")


def test_dates_are_set_in_beijing_time_and_a_manager_may_change_his_reports_tasks(browser, database):
    instance_id = start_approval(browser)
    task = the_task(database, instance_id)
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    post(browser("zhangwei"), f"/tasks/{task.id}/dates", due_at="2030-01-02T09:30", follow_up_at="")
    row = task_row(database, task.id)
    assert row.due_at == datetime(2030, 1, 2, 1, 30, tzinfo=UTC) and row.follow_up_at is None
    html = post(browser("zhangwei"), f"/tasks/{task.id}/dates", status=422, due_at="not a date").get_data(as_text=True)
    assert 'data-error-for="due_at"' in html
    # boss manages zhangwei (task.supervise): he may follow the task up, an outsider may not even see it
    post(browser("boss"), f"/tasks/{task.id}/dates", due_at="2030-01-02T09:30", follow_up_at="2029-12-30T08:00")
    assert task_row(database, task.id).follow_up_at == datetime(2029, 12, 30, 0, 0, tzinfo=UTC)
    post(browser("outsider"), f"/tasks/{task.id}/dates", status=404, due_at="2031-01-01T00:00")
    assert "task_dates_changed" in kinds(database, instance_id)


def test_the_navigation_counts_copies_and_tasks_handed_on(browser, database):
    task = the_task(database, start_approval(browser))
    post(browser("zhangwei"), f"/tasks/{task.id}/claim")
    post(browser("zhangwei"), f"/tasks/{task.id}/copy", to_users=["chenjing"])
    post(browser("zhangwei"), f"/tasks/{task.id}/transfer", to_user="lina")
    nav = browser("chenjing").get("/inbox").get_data(as_text=True)
    assert re.search(r'href="/inbox/copied">[^<]*<span class="badge[^"]*">1</span>', nav)
    nav = browser("zhangwei").get("/inbox").get_data(as_text=True)
    assert re.search(r'href="/inbox/handed-on">[^<]*<span class="badge[^"]*">1</span>', nav)
    assert browser("zhangwei").get("/inbox/involved?kind=nonsense").status_code == 404
    assert browser("zhangwei").get("/inbox/involved?kind=handed_on").status_code == 200


def test_the_task_page_speaks_english_to_english_users(browser, database, app):
    from erp.identity.services import ensure_user
    from tests.webapp.conftest import PASSWORD, login

    with database.transaction() as session:
        ensure_user(session, "mike", "Mike", groups=["dept_manager"], locale="en", password=PASSWORD)
    task = the_task(database, start_approval(browser))
    client = app.test_client()
    login(client, "mike")
    html = page(client, task.id)
    assert ">Decision" in html and "Approve" in html and "Check the amount" in html
    assert ">审批意见" not in html
    assert len(open_tasks(database, task.instance_id)) == 1

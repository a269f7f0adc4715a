"""The approval in a real browser, in zh-CN and in English: an employee starts it from its form, the manager
finds it in the inbox and returns it (退回) with a reason, the employee revises and resubmits, the manager
approves, and the instance page shows the diagram and the whole history."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core import db
from erp.identity.models import User

TEXT = {
    "zh_CN": {"title": "团建活动经费申请", "reason": "请补充活动方案和报价单", "note": "已补充方案，预算下调",
              "approve_comment": "同意", "inbox": "我的待办", "completed": "已完成"},
    "en": {"title": "Team event budget", "reason": "Please attach the plan and the quotes",
           "note": "Plan attached, budget lowered", "approve_comment": "Approved", "inbox": "My tasks",
           "completed": "Completed"},
}


def _log_in(browser, base, username, locale):
    context = browser.new_context(locale="zh-CN" if locale == "zh_CN" else "en-US", viewport={"width": 1280,
                                                                                             "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_contain_text(TEXT[locale]["inbox"])
    return context, page


def _open_task_of(page, base, business_key):
    page.goto(f"{base}/inbox")
    row = page.locator("tr.task-row", has_text=business_key)
    expect(row).to_have_count(1)
    row.locator("a.task-link").click()
    expect(page.locator("#task-business-key")).to_contain_text(business_key)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_start_return_revise_approve_in_the_browser(browser, live_server, screenshot, locale):
    text = TEXT[locale]
    with db.transaction() as session:
        session.execute(update(User).values(locale=locale))
    business_key = f"PR-E2E-{locale}"

    # the employee starts an approval from its start form
    employee_context, employee = _log_in(browser, live_server, "wangfang", locale)
    employee.goto(f"{live_server}/processes")
    employee.locator('a[href="/processes/approval/start"]').first.click()
    employee.fill("#business_key", business_key)
    employee.fill("#f-title", text["title"])
    employee.fill("#f-amount", "6800")
    employee.fill("#f-department", "销售部" if locale == "zh_CN" else "Sales")
    screenshot(employee, "start-form")
    employee.click("#start-button")
    expect(employee).to_have_url(re.compile(r"/instances/\d+$"))
    instance_url = employee.url
    screenshot(employee, "started")

    # the manager sees it in the inbox and returns it to the requester with a reason (退回)
    manager_context, manager = _log_in(browser, live_server, "zhangwei", locale)
    _open_task_of(manager, live_server, business_key)
    expect(manager.locator("#task-request")).to_contain_text(text["title"])
    screenshot(manager, "review")
    manager.locator("#action-return summary").click()
    manager.select_option("#return-to", "requester")
    manager.fill('#action-return textarea[name="reason"]', text["reason"])
    manager.locator("#action-return button").click()
    expect(manager.locator(".alert-success")).to_be_visible()
    screenshot(manager, "returned")

    # the employee revises and resubmits
    _open_task_of(employee, live_server, business_key)
    expect(employee.locator("body")).to_contain_text(text["reason"])
    employee.fill("#f-amount", "5800")
    employee.fill("#f-note", text["note"])
    screenshot(employee, "revise")
    employee.click("#complete-button")
    expect(employee.locator(".alert-success")).to_be_visible()

    # the manager approves
    _open_task_of(manager, live_server, business_key)
    manager.locator('input[name="decision"][value="approve"]').check()
    manager.fill("#f-comment", text["approve_comment"])
    manager.click("#complete-button")
    expect(manager.locator(".alert-success")).to_be_visible()
    expect(manager.locator("tr.task-row", has_text=business_key)).to_have_count(0)

    # the history shows all of it, and the diagram is drawn with its markers (no script or CSP errors)
    errors = []
    employee.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    employee.on("pageerror", lambda error: errors.append(str(error)))
    employee.goto(instance_url)
    history = employee.locator("#history")
    expect(history).to_contain_text(text["reason"])
    expect(history).to_contain_text(text["note"])
    expect(history).to_contain_text(text["approve_comment"])
    expect(employee.locator("#instance-title .instance-status")).to_have_attribute("data-status", "completed")
    expect(employee.locator("#diagram svg").first).to_be_visible()
    expect(employee.locator("#diagram .djs-element.completed").first).to_be_attached()
    screenshot(employee, "history")
    assert errors == []
    employee_context.close()
    manager_context.close()

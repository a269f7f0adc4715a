"""Administration in the browser: the administrator creates a user with a role and a group, the new user logs in
and sees the group's task; an analyst reaching an administration page is refused by the server."""
from __future__ import annotations

from playwright.sync_api import expect


def _log_in(browser, base, username, password="demo1234"):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_be_visible()
    return context, page


def test_administrator_creates_a_user_who_then_works_the_groups_tasks(browser, live_server, screenshot):
    context, admin = _log_in(browser, live_server, "admin")
    admin.goto(f"{live_server}/admin/users/new")
    admin.fill("#username", "sunli")
    admin.fill("#display_name", "孙丽")
    admin.fill("#email", "sunli@example.cn")
    admin.fill("#password", "sunli-pass-2026")
    admin.check("#role-manager")
    admin.check("#group-dept_manager")
    screenshot(admin, "new-user")
    admin.click("#create-user")
    expect(admin.locator(".alert-success")).to_be_visible()
    admin.goto(f"{live_server}/admin/audit")
    expect(admin.locator("body")).to_contain_text("user.create")
    screenshot(admin, "audit")
    context.close()

    context, sunli = _log_in(browser, live_server, "sunli", "sunli-pass-2026")
    expect(sunli.locator('[data-count="group"]')).not_to_have_text("0")  # the demo's small approvals
    sunli.goto(f"{live_server}/inbox?view=group")
    expect(sunli.locator("tr.task-row").first).to_be_visible()
    screenshot(sunli, "new-user-inbox")
    context.close()


def test_an_analyst_is_refused_the_administration_pages(browser, live_server, screenshot):
    context, analyst = _log_in(browser, live_server, "zhaolei")
    response = analyst.goto(f"{live_server}/admin/users")
    assert response.status == 403
    expect(analyst.locator("#error-message")).to_contain_text("权限")
    screenshot(analyst, "refused")
    context.close()

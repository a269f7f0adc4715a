"""Logging in through the browser, in both languages."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("locale, title", [("zh-CN", "我的待办"), ("en-US", "My tasks")])
def test_manager_logs_in_and_sees_the_inbox_counts(browser, live_server, screenshot, locale, title):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{live_server}/inbox")
    expect(page).to_have_url(f"{live_server}/login?next=/inbox")
    if locale == "en-US":
        page.click("#lang-en")
    page.fill("#username", "zhangwei")
    page.fill("#password", "demo1234")
    screenshot(page, "login")
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_contain_text(title)
    expect(page.locator("#inbox-table")).to_be_visible()
    screenshot(page, "inbox")
    context.close()


def test_wrong_password_shows_an_error(browser, live_server):
    page = browser.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhangwei")
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_be_visible()
    page.close()

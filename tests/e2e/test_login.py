"""Logging in through the browser: the login page follows the browser's or the chosen language, and after login
the user's own language applies."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("browser_locale", ["zh-CN", "en-US"])
def test_manager_logs_in_and_sees_the_inbox_in_his_language(browser, live_server, screenshot, browser_locale):
    context = browser.new_context(locale=browser_locale)
    page = context.new_page()
    page.goto(f"{live_server}/inbox")
    expect(page).to_have_url(f"{live_server}/login?next=/inbox")
    expect(page.locator("label[for=username]")).to_have_text("用户名" if browser_locale == "zh-CN" else "Username")
    page.wait_for_load_state("load")  # the redirect to the login page has finished loading
    # the switch posts a form and the login page comes back in English; wait for that answer, not for any
    # navigation (under load the first one seen could be the login page's own)
    with page.expect_response(lambda r: r.request.method == "POST" and "/language" in r.url):
        page.click("#lang-en")
    page.wait_for_load_state("load")
    expect(page.locator("label[for=username]")).to_have_text("Username", timeout=15_000)
    page.fill("#username", "zhangwei")
    page.fill("#password", "demo1234")
    screenshot(page, "login")
    page.click("#login-submit")
    expect(page).to_have_url(f"{live_server}/inbox")
    expect(page.locator("#nav-inbox")).to_contain_text("我的待办")  # 张伟's own setting is zh-CN
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

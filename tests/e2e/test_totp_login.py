"""The TOTP second factor in the browser: a user sets it up from the account page (reading the key as an
authenticator app would) and from then on logs in with the password and a six-digit code. No page on the way
breaks the Content-Security-Policy (the QR code is a data: image)."""
from __future__ import annotations

from datetime import UTC, datetime

import pyotp
from playwright.sync_api import expect

CSP_WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_a_user_sets_up_the_second_factor_and_logs_in_with_a_code(browser, live_server, screenshot):
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "chenjing")
    page.fill("#password", "demo1234")
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_be_visible()

    page.click("#nav-account")
    page.click("#second-factor-link")
    page.click("#start-second-factor")
    expect(page.locator("#totp-qr")).to_be_visible()
    assert page.locator("#totp-qr").evaluate("img => img.naturalWidth") > 0  # the QR code loaded
    key = page.locator("#totp-secret").inner_text()
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/ERP:chenjing?")
    screenshot(page, "set-up")
    assert _violations(page) == []
    page.fill("#code", pyotp.TOTP(key).now())
    page.click("#confirm-code")
    expect(page.locator(".alert-success")).to_contain_text("双因素认证已设置")

    page.click("#logout")
    page.fill("#username", "chenjing")
    page.fill("#password", "demo1234")
    page.click("#login-submit")
    expect(page).to_have_url(f"{live_server}/login/code")
    page.fill("#code", "000000")
    page.click("#code-submit")
    expect(page.locator("#login-error")).to_have_text("验证码错误或已被使用。")
    # the next step's code: the current one may have been spent on the set-up a moment ago
    page.fill("#code", pyotp.TOTP(key).at(datetime.now(UTC), counter_offset=1))
    screenshot(page, "code")
    page.click("#code-submit")
    expect(page).to_have_url(f"{live_server}/inbox")
    expect(page.locator("#nav-inbox")).to_be_visible()
    assert _violations(page) == []
    context.close()

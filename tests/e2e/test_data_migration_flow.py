"""Data migration in a real browser: a data steward uploads a messy customer export, reads the dry-run
report, downloads the rows in error, uploads the fixed file and submits it for approval."""
from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.migration_data import csv_bytes, customer_rows


@pytest.fixture
def files(tmp_path):
    rows = customer_rows(12)
    fixed = csv_bytes(rows, encoding="gb18030")
    rows[3]["电话"] = "12345"
    rows[8]["客户名称"] = "NULL"
    messy = tmp_path / "旧系统客户.csv"
    messy.write_bytes(csv_bytes(rows, encoding="gb18030"))
    clean = tmp_path / "旧系统客户-修正.csv"
    clean.write_bytes(fixed)
    return messy, clean


def _upload(page, base, path):
    page.goto(f"{base}/migration/upload")
    page.select_option("#f-entity", "customers")
    page.set_input_files("#f-file", str(path))
    page.click("#upload-button")
    expect(page).to_have_url(re.compile(r"/migration/runs/\d+$"))


def test_a_data_steward_uploads_fixes_and_submits(browser, live_server, screenshot, files):
    messy, clean = files
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhaolei")  # an analyst: a data steward
    page.fill("#password", "demo1234")
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_be_visible()

    page.locator("a.nav-link", has_text="数据迁移").click()
    expect(page.locator("#migration-runs")).to_be_visible()
    _upload(page, live_server, messy)
    expect(page.locator('[data-count="total"]')).to_have_text("12")
    expect(page.locator('[data-count="errors"]')).to_have_text("2")
    expect(page.locator("#sample-errors")).to_contain_text("电话")
    expect(page.locator("#submit-for-approval")).to_have_count(0)
    screenshot(page, "dry-run-report")

    with page.expect_download() as download_info:
        page.click("#download-errors")
    download = download_info.value
    rows = list(csv.reader(io.StringIO(open(download.path(), "rb").read().decode("utf-8-sig"))))
    assert rows[0][-1] == "错误原因 Reasons" and len(rows) == 3

    _upload(page, live_server, clean)
    expect(page.locator('[data-count="errors"]')).to_have_text("0")
    screenshot(page, "fixed-file")
    page.click("#submit-for-approval")
    expect(page.locator(".alert-success")).to_contain_text("已提交审批")
    expect(page.locator("#run-instance")).to_contain_text("MIG-")
    screenshot(page, "submitted")
    context.close()

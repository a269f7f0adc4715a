"""Procure-to-pay in a real browser, every step by its own person: an employee raises a requisition, the
department manager approves it, the warehouse receives the goods, finance records the supplier's invoice,
the manager approves the payment and finance pays; the purchase order ends closed."""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from tests.e2e.test_approval_flow import _log_in


def _open_task(page, base, business_key, view="group"):
    page.goto(f"{base}/inbox?view={view}")
    row = page.locator("tr.task-row", has_text=business_key)
    expect(row).to_have_count(1)
    row.locator("a.task-link").click()
    expect(page.locator("#task-business-key")).to_contain_text(business_key)


def _approve(page, base, business_key):
    _open_task(page, base, business_key)
    page.locator('input[name="decision"][value="approve"]').check()
    page.click("#complete-button")
    expect(page.locator(".alert-success")).to_be_visible()


def test_a_requisition_is_approved_ordered_received_invoiced_and_paid(browser, live_server, screenshot):
    contexts = []

    def person(username):
        context, page = _log_in(browser, live_server, username, "zh_CN")
        contexts.append(context)
        return page

    requester = person("chenjing")
    requester.goto(f"{live_server}/purchasing/requisitions/new")
    requester.select_option('select[name="sku_0"]', value="HX-OFF-002")
    requester.fill('input[name="quantity_0"]', "20")
    requester.select_option('select[name="warehouse_0"]', value="BJ01")
    requester.fill("#f-department", "财务部")
    requester.fill("#f-note", "财务部订书机更换")
    screenshot(requester, "requisition-form")
    requester.click("#create-requisition")
    expect(requester.locator("#requisition-number")).to_contain_text("REQ-")
    number = re.search(r"REQ-\d{4}-\d{5}", requester.locator("#requisition-number").inner_text()).group(0)

    manager = person("zhangwei")
    _approve(manager, live_server, number)

    warehouse = person("wangjun")
    _open_task(warehouse, live_server, number)
    expect(warehouse.locator('input[name="receipt_lines-0-sku"]')).to_have_value("HX-OFF-002")
    screenshot(warehouse, "receipt")
    warehouse.click("#complete-button")
    expect(warehouse.locator(".alert-success")).to_be_visible()

    finance = person("sunmei")
    _open_task(finance, live_server, number)
    finance.fill("#f-supplier_number", "11008801")
    finance.fill("#f-invoice_date", date.today().isoformat())
    finance.locator('input[name="invoice_kind"][value="special"]').check()
    screenshot(finance, "supplier-invoice")
    finance.click("#complete-button")
    expect(finance.locator(".alert-success")).to_be_visible()

    _approve(manager, live_server, number)  # the payment (under 5,000: the department manager alone)

    _open_task(finance, live_server, number)
    finance.fill("#f-paid_on", date.today().isoformat())
    finance.fill("#f-bank_reference", "ICBC-E2E-0001")
    finance.click("#complete-button")
    expect(finance.locator(".alert-success")).to_be_visible()

    requester.reload()
    expect(requester.locator("#requisition-status")).to_contain_text("已下单")
    finance.goto(requester.url)  # finance sees the requisition's purchase order (the requester does not)
    finance.locator('a[href^="/purchasing/orders/"]').first.click()
    expect(finance.locator("#order-status")).to_contain_text("已关闭")
    screenshot(finance, "order-closed")
    for context in contexts:
        context.close()

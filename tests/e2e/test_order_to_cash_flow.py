"""Order-to-cash in a real browser: a sales rep creates a customer and a quotation with a discount above what
they may give, and submits it for order; the department manager approves the discount from the inbox; the
order appears with its diagram, the warehouse's delivery step marked as the one waiting."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_approval_flow import _log_in


def test_rep_quotes_manager_approves_the_discount_and_the_order_shows_where_it_stands(browser, live_server,
                                                                                    screenshot):
    rep_context, rep = _log_in(browser, live_server, "zhaoqiang", "zh_CN")

    # a new customer (tier C: up to 3 % discount without approval)
    rep.goto(f"{live_server}/crm/customers/new")
    rep.fill("#f-name_zh", "北京云杉科技有限公司")
    rep.fill("#f-name_en", "Beijing Yunshan Technology Co., Ltd.")
    rep.fill("#f-phone", "010-8888 6601")
    rep.fill("#f-credit_limit", "200000")
    rep.select_option("#f-tier", "C")
    rep.click("#create-customer")
    expect(rep.locator("body")).to_contain_text("北京云杉科技有限公司")
    screenshot(rep, "customer")

    # a quotation for 20 rice cookers (in stock) with a 10 % discount: above the rep's 3 %
    rep.goto(f"{live_server}/sales/quotations/new")
    customer = rep.locator("#f-customer_id option", has_text="北京云杉科技有限公司").get_attribute("value")
    rep.select_option("#f-customer_id", value=customer)
    rep.select_option('select[name="sku_0"]', value="HX-APP-001")
    rep.fill('input[name="quantity_0"]', "20")
    rep.fill("#f-discount_percent", "10")
    screenshot(rep, "quotation-form")
    rep.click("#create-quotation")
    expect(rep.locator("#quotation-number")).to_contain_text("QT-")
    quotation = re.search(r"QT-\d{4}-\d{5}", rep.locator("#quotation-number").inner_text()).group(0)
    rep.click("#submit-for-order")
    expect(rep.locator("#process-link")).to_be_visible()
    screenshot(rep, "submitted")

    # the department manager finds the discount approval in the inbox and approves it
    manager_context, manager = _log_in(browser, live_server, "zhangwei", "zh_CN")
    manager.goto(f"{live_server}/inbox?view=group")
    row = manager.locator("tr.task-row", has_text=quotation)
    expect(row).to_have_count(1)
    row.locator("a.task-link").click()
    expect(manager.locator("#task-request")).to_contain_text(quotation)
    manager.locator('input[name="decision"][value="approve"]').check()
    screenshot(manager, "discount-review")
    manager.click("#complete-button")
    expect(manager.locator(".alert-success")).to_be_visible()

    # the rep opens the order: it stands at the warehouse's delivery, marked on the diagram
    rep.goto(f"{live_server}/sales/orders")
    rep.locator("tr", has_text="北京云杉科技有限公司").locator("a").first.click()
    expect(rep.locator("#order-number")).to_contain_text("SO-")
    expect(rep.locator("#process-position .current-step")).to_contain_text("发货出库")
    expect(rep.locator("#diagram svg").first).to_be_visible()
    expect(rep.locator('#diagram .djs-element.active[data-element-id="delivery"]')).to_be_attached()
    expect(rep.locator('#diagram .djs-element.completed[data-element-id="discount_approval"]')).to_be_attached()
    screenshot(rep, "order-with-diagram")
    rep_context.close()
    manager_context.close()

"""The Content-Security-Policy breaks no page: the browser reports no violation on the pages with the most
JavaScript (task forms, the BPMN diagram of an instance, the modeler, charts, the Gantt chart, the project
dashboard) nor on any page their links lead to."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from core import db
from erp.identity.permissions import ROLES
from erp.identity.services import ensure_user

CSP_WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber]));")
START = ["/inbox", "/instances", "/processes", "/modeler", "/projects", "/crm/pipeline", "/ledger/profit-and-loss",
         "/ledger/ar-aging", "/admin/users", "/account/second-factor"]
#: pages loaded at once, each in its own tab of the one browser context
TABS = 6
#: links not worth a page load here (downloads, files)
SKIP = re.compile(r"logout|download|export|\.(csv|xlsx|pdf|json|bpmn|dmn)\b|/files/|/source|/templates/")


def test_no_page_reports_a_content_security_policy_violation(browser, live_server):
    with db.transaction() as session:  # one person who may see every page
        ensure_user(session, "csp_probe", "CSP", roles=list(ROLES), groups=["employees"], password="probe-pass-2026")
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "csp_probe")
    page.fill("#password", "probe-pass-2026")
    page.click("#login-submit")
    expect(page.locator("#nav-inbox")).to_be_visible()
    # breadth first, TABS pages at a time (each waited for until its network is idle, as alone; the waits
    # overlap); the pages are the ones a visit one at a time would see, in the same order
    tabs = [page] + [context.new_page() for _ in range(TABS - 1)]
    queue, seen, violations = list(START), set(), {}
    while queue and len(seen) < 60:
        batch = []
        while queue and len(batch) < TABS and len(seen) < 60:
            path = queue.pop(0)
            shape = re.sub(r"\d+", "N", urlsplit(path).path)  # one page of each kind
            if shape in seen:
                continue
            seen.add(shape)
            tab = tabs[len(batch)]
            batch.append((tab, path, tab.goto(f"{live_server}{path}", wait_until="commit")))
        for tab, path, response in batch:
            tab.wait_for_load_state("load")
            tab.wait_for_load_state("networkidle")
            assert response.status < 500, path
            if found := tab.evaluate("window.__csp"):
                violations[path] = found
            queue += [href.split("#")[0] for href in tab.eval_on_selector_all("a[href]", "els => els.map(e => "
                                                                              "e.getAttribute('href'))")
                      if href.startswith("/") and not href.startswith("//") and not SKIP.search(href)]
    assert len(seen) >= 30
    assert violations == {}
    context.close()

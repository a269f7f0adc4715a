"""The modeler in a real browser: an analyst opens the order-to-cash diagram as a draft, adds a step (drawn through
bpmn-js's API, then filled in through our properties panel), gives it a broken script and sees validation mark
that element, fixes it and deploys version 2 with a comment. A new order runs version 2 while an older one stays
on version 1 until the analyst previews and moves it; the comparison shows the added step."""
from __future__ import annotations

import re

from lxml import etree
from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from engine.drafts import DiagramDraft
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.queries import show
from erp.sales import services
from tests.e2e.test_approval_flow import _log_in

#: drawn between the start event and "read the quotation", as an analyst would with the palette
ADD_STEP = """() => {
  const modeler = window.erpModeler;
  const registry = modeler.get("elementRegistry"), modeling = modeler.get("modeling");
  const start = registry.get("start"), next = registry.get("load_quotation");
  modeling.removeConnection(registry.get("f_start"));
  const step = modeling.createShape({ type: "bpmn:ScriptTask" }, { x: 165, y: 200 }, start.parent);
  modeling.connect(start, step);
  modeling.connect(step, next);
  modeler.get("selection").select(step);
  return step.id;
}"""


def _version_of(instance_id: int) -> int:
    with db.transaction() as session:
        return session.scalar(select(ProcessDefinition.version).join(
            ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == instance_id))


def _waiting_for_delivery() -> int:
    """A demo order that stands at the warehouse's delivery (version 1)."""
    with db.transaction() as session:
        return session.scalars(select(HumanTask.instance_id).where(
            HumanTask.element_id == "delivery", HumanTask.status == "open").order_by(HumanTask.id)).first()


def _new_order(engine) -> int:
    with db.transaction() as session:
        quotation = services.create_quotation(session, customer="C-000001", discount_percent="0",
                                              sales_rep="zhaoqiang", by="zhaoqiang",
                                              lines=[{"sku": "HX-RICE-001", "quantity": 2}]).number
        return engine.start(session, "order_to_cash", {"quotation": quotation, "requester": "zhaoqiang"},
                            business_key=quotation, user="zhaoqiang").id


def _edit_in_panel(page, selector: str, value: str) -> None:
    field = page.locator(selector)
    field.fill(value)
    field.press("Tab")  # the panel commits a field when it loses focus, like any form


def test_analyst_changes_order_to_cash_deploys_v2_and_moves_an_old_order(browser, live_server, product_engine,
                                                                        screenshot):
    old_order = _waiting_for_delivery()
    context, page = _log_in(browser, live_server, "zhaolei", "zh_CN")

    # the process list: order-to-cash version 1, opened as a draft of its diagram
    page.goto(f"{live_server}/modeler")
    version_one = page.locator('.version-row[data-key="order_to_cash"][data-version="1"]')
    expect(version_one).to_be_visible()
    version_one.locator("button.new-draft").click()
    expect(page.locator("#modeler[data-ready='true']")).to_be_attached()
    expect(page.locator('#canvas .djs-element[data-element-id="load_quotation"]')).to_be_attached()
    screenshot(page, "editor")

    # a new step, then its id, name and (broken) script through the properties panel
    page.evaluate(ADD_STEP)
    expect(page.locator("#prop-script")).to_be_visible()
    _edit_in_panel(page, "#prop-id", "confirm_order")
    _edit_in_panel(page, "#prop-name", "确认订单 Confirm the order")
    _edit_in_panel(page, "#prop-script", 'note = ("已确认"')
    page.click("#prop-script-check")  # the sandbox's answer, in the reader's language:
    expect(page.locator("#prop-script-result")).to_contain_text("语法错误")
    page.click("#validate")
    problem = page.locator('#problems .problem-item[data-element-id="confirm_order"]')
    expect(problem).to_be_visible()
    expect(page.locator('#canvas .djs-element.erp-problem[data-element-id="confirm_order"]')).to_be_attached()
    screenshot(page, "validation-error")

    # fixed: validation passes, and version 2 is deployed with a comment
    problem.click()  # selects the element again, so the panel shows its script
    _edit_in_panel(page, "#prop-script", 'note = "已确认"')
    page.click("#validate")
    expect(page.locator("#problems-summary")).to_contain_text("未发现问题")
    expect(page.locator("#canvas .djs-element.erp-problem")).to_have_count(0)
    page.click("#deploy-open")
    page.click("#deploy-button")
    expect(page.locator("#deploy-comment")).to_have_class(re.compile("is-invalid"))  # a comment is required
    page.fill("#deploy-comment", "下单后先确认订单")
    page.click("#deploy-button")
    page.wait_for_url(re.compile(r"/modeler/?(\?.*)?$"))  # deployed: back on the process list
    expect(page.locator(".alert-success")).to_contain_text("order_to_cash v2")
    version_two = page.locator('.version-row[data-key="order_to_cash"][data-version="2"]')
    expect(version_two).to_contain_text("下单后先确认订单")
    screenshot(page, "deployed")

    # a new order runs version 2 (through the added step); the older order is still on version 1
    new_order = _new_order(product_engine)
    assert _version_of(new_order) == 2 and _version_of(old_order) == 1
    with db.transaction() as session:
        assert show(product_engine, session, new_order)["data"]["note"] == "已确认"

    # the analyst previews moving the older orders to version 2 and moves the one waiting for delivery
    version_two.locator("a.move-here").click()
    row = page.locator(f'.move-row[data-instance="{old_order}"]')
    expect(row).to_have_attribute("data-movable", "yes")
    expect(row.locator('.task-mapping[data-element-id="delivery"]')).to_contain_text("delivery")
    row.locator("input.move-check").check()
    screenshot(page, "move-preview")
    page.click("#move-selected")
    expect(page.locator(f'.move-result[data-instance="{old_order}"]')).to_have_attribute("data-moved", "yes")
    assert _version_of(old_order) == 2
    with db.transaction() as session:
        assert session.scalar(select(HistoryEvent.actor).where(HistoryEvent.instance_id == old_order,
                                                               HistoryEvent.kind == "migrated")) == "zhaolei"

    # the comparison of version 1 and 2 lists the added step and marks it on the new diagram
    page.goto(f"{live_server}/modeler")
    page.locator('.version-row[data-key="order_to_cash"][data-version="2"] a.compare-previous').click()
    expect(page.locator('.change-row[data-kind="added"][data-element-id="confirm_order"]')).to_contain_text("确认订单")
    expect(page.locator('#diagram-new .djs-element.erp-added[data-element-id="confirm_order"]')).to_be_attached()
    expect(page.locator('#diagram-old[data-rendered="true"]')).to_be_attached()
    screenshot(page, "compare")
    context.close()


def _select(page, element_id: str) -> None:
    page.evaluate("""(id) => {
      const modeler = window.erpModeler;
      modeler.get("selection").select(modeler.get("elementRegistry").get(id));
    }""", element_id)
    expect(page.locator("#properties")).to_have_attribute("data-element-id", element_id)


def test_the_properties_panel_writes_what_the_engine_reads(browser, live_server, screenshot):
    context, page = _log_in(browser, live_server, "zhaolei", "zh_CN")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/modeler")
    page.locator('.version-row[data-key="order_to_cash"][data-version="1"] button.new-draft').click()
    expect(page.locator("#modeler[data-ready='true']")).to_be_attached()
    draft_id = int(page.url.rsplit("/", 1)[1])

    _select(page, "delivery")  # a user task: form, groups, due in business days
    page.select_option("#prop-form", "order_to_cash/follow_up")
    _edit_in_panel(page, "#prop-candidate-groups", "'warehouse', 'logistics'")
    page.fill("#prop-due-quick-amount", "3")
    page.select_option("#prop-due-quick-unit", "workdays")
    page.click("#prop-due-quick-apply")
    expect(page.locator("#prop-due")).to_have_value("add_workdays(3)")
    expect(page.locator("#escalation-policy")).to_contain_text("升级")
    screenshot(page, "user-task")

    _select(page, "recheck_stock")  # a timer: two business days
    page.fill("#prop-timer-quick-amount", "2")
    page.select_option("#prop-timer-quick-unit", "workdays")
    page.click("#prop-timer-quick-apply")
    expect(page.locator("#prop-timer-kind")).to_have_value("timeDate")

    _select(page, "f_credit_passed")  # a gateway's flow: its condition, checked in the sandbox
    _edit_in_panel(page, "#prop-condition", "credit_ok and amount < 50000")
    page.click("#prop-condition-check")
    expect(page.locator("#prop-condition-result")).to_contain_text("语法正确")

    _select(page, "close_order")  # a service task: another registered operator with a parameter
    page.select_option("#prop-operator", "sales.cancel_order")
    page.click("#add-parameter")
    _edit_in_panel(page, "#prop-param-name-1", "reason")
    _edit_in_panel(page, "#prop-param-value-1", '"paid"')

    _select(page, "payment_arrived")  # a message: where it is stored and how it is correlated
    _edit_in_panel(page, "#prop-message-variable", "payment_info")
    page.fill("#prop-correlation-key", "payment_order")
    page.fill("#prop-correlation-expression", "order")
    page.click("#add-correlation")
    expect(page.locator(".correlation-row")).to_have_count(2)
    screenshot(page, "message")

    # the other kinds of element show what the diagram says about them
    for element_id, field, value in [("discount_approval", "#prop-called", "approval"),
                                     ("credit_check", "#prop-decision", "credit_policy"),
                                     ("credit_gate", "#prop-gateway-default", "f_credit_failed"),
                                     ("start", "#prop-form", "order_to_cash/start"),
                                     ("follow_up_paid", "#prop-message", "msg_payment_received")]:
        _select(page, element_id)
        expect(page.locator(field)).to_have_value(value)
    expect(page.locator("#prop-interrupting")).to_be_checked()
    page.evaluate("() => window.erpModeler.get('selection').select(null)")
    expect(page.locator("#properties")).to_have_attribute("data-element-id", "order_to_cash")
    expect(page.locator("#prop-executable")).to_be_checked()

    page.click("#save-draft")
    expect(page.locator("#save-status")).to_contain_text("已于")  # "未保存" would match "保存" too early
    page.click("#validate")
    expect(page.locator("#problems-summary")).to_contain_text("未发现问题")
    assert errors == []
    context.close()

    with db.transaction() as session:
        root = etree.fromstring(session.get(DiagramDraft, draft_id).source.encode())
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}

    def one(path):
        [found] = root.xpath(path, namespaces=ns)
        return found

    delivery = {p.get("name"): p.get("value") for p in root.xpath(
        "//bpmn:userTask[@id='delivery']//spiffworkflow:property", namespaces=ns)}
    assert delivery["formKey"] == "order_to_cash/follow_up" and delivery["dueDate"] == "add_workdays(3)"
    assert delivery["candidateGroups"] == "'warehouse', 'logistics'" and delivery["priority"] == "50"
    assert one("//bpmn:intermediateCatchEvent[@id='recheck_stock']//bpmn:timeDate").text == \
        "add_workdays(2).isoformat()"
    assert one("//bpmn:sequenceFlow[@id='f_credit_passed']/bpmn:conditionExpression").text == \
        "credit_ok and amount < 50000"
    operator = one("//bpmn:serviceTask[@id='close_order']//spiffworkflow:serviceTaskOperator")
    assert operator.get("id") == "sales.cancel_order"
    parameters = operator.xpath(".//spiffworkflow:parameter", namespaces=ns)
    assert (parameters[-1].get("id"), parameters[-1].get("value")) == ("reason", '"paid"')
    assert one("//bpmn:intermediateCatchEvent[@id='payment_arrived']//spiffworkflow:messageVariable").text == \
        "payment_info"
    assert one("//bpmn:correlationProperty[@id='payment_order']/bpmn:correlationPropertyRetrievalExpression"
               ).get("messageRef") == "msg_payment_received"


def test_a_decision_table_is_changed_in_the_browser_and_goes_out_with_its_process(browser, live_server, screenshot):
    context, page = _log_in(browser, live_server, "zhaolei", "zh_CN")
    page.goto(f"{live_server}/modeler")
    row = page.locator('.version-row[data-key="order_to_cash"][data-version="1"]')
    dmn = row.locator("select[name=file] option", has_text="discount_policy.dmn").get_attribute("value")
    row.locator("select[name=file]").select_option(dmn)
    row.locator("button.new-draft").click()
    expect(page.locator("#modeler[data-ready='true'][data-kind='dmn']")).to_be_attached()

    # tier B may now give up to 6 %: the cell is edited in dmn-js's decision table
    cell = page.locator('td[data-element-id="rule_tier_b_percent"]')
    expect(cell).to_contain_text("<= 5")
    cell.locator("[contenteditable]").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("<= 6")
    expect(page.locator("#save-status")).to_contain_text("未保存")
    screenshot(page, "decision-table")
    page.click("#validate")
    expect(page.locator("#problems-summary")).to_contain_text("未发现问题")
    page.click("#deploy-open")
    page.fill("#deploy-comment", "B 类客户自主折扣上调到 6%")
    page.click("#deploy-button")
    page.wait_for_url(re.compile(r"/modeler/?(\?.*)?$"))  # deployed: back on the process list
    expect(page.locator(".alert-success")).to_contain_text("order_to_cash v2")
    context.close()
    with db.transaction() as session:
        sources = session.scalar(select(ProcessDefinition.sources).where(
            ProcessDefinition.key == "order_to_cash", ProcessDefinition.version == 2))
    policy = next(text for name, text in sources.items() if name.endswith("discount_policy.dmn"))
    assert "&lt;= 6" in policy and "&lt;= 5" not in policy


def test_saving_again_before_the_last_save_answered_is_no_conflict(browser, live_server):
    """Save, an edit and validate clicked in quick succession: the later saves wait for the earlier one instead of
    sending the same lock version twice (which the server would refuse as someone else's change)."""
    context, page = _log_in(browser, live_server, "zhaolei", "zh_CN")
    page.goto(f"{live_server}/modeler")
    page.locator('.version-row[data-key="order_to_cash"][data-version="1"] button.new-draft').click()
    expect(page.locator("#modeler[data-ready='true']")).to_be_attached()
    draft_id = int(page.url.rsplit("/", 1)[1])
    page.route("**/save", lambda route: (page.wait_for_timeout(300), route.continue_()))  # a slow server

    _select(page, "delivery")
    page.select_option("#prop-form", "order_to_cash/follow_up")
    page.evaluate("""() => {
      document.getElementById("save-draft").click();
      const modeler = window.erpModeler, registry = modeler.get("elementRegistry");
      modeler.get("modeling").updateLabel(registry.get("close_order"), "关闭订单（已回款）");
      document.getElementById("validate").click();
    }""")
    expect(page.locator("#problems-summary")).to_contain_text("未发现问题")
    expect(page.locator("#save-status")).to_contain_text("已于")
    context.close()
    with db.transaction() as session:
        draft = session.get(DiagramDraft, draft_id)
        assert draft.lock_version == 3  # opened, then two saves in turn
        assert "关闭订单（已回款）" in draft.source  # the edit made while the first save was on its way

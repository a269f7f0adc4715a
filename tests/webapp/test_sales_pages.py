"""The sales pages: quotations (a sales rep sees only their customers', the new-quotation form, submitting into
order-to-cash once), sales orders with where their process stands, invoices with payments recorded by finance
and bank statements imported, and both languages."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.models import ProcessInstance
from erp.crm.models import Customer
from erp.finance.services import today
from erp.sales import fulfilment, services
from erp.sales.models import Invoice, Payment, Quotation
from tests.webapp.conftest import login
from tests.webapp.erp_pages import load_company, shown

#: a stand-in for the order-to-cash diagram (written elsewhere): start, one user task for sales, end
ORDER_TO_CASH = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="o2c_definitions" targetNamespace="http://erp.example/test">
  <bpmn:process id="order_to_cash" name="订单到收款 Order to cash"
                isExecutable="true">
    <bpmn:startEvent id="submitted"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="submitted" targetRef="confirm"/>
    <bpmn:userTask id="confirm" name="确认订单 Confirm order">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="candidateGroups" value="'sales'"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="confirm" targetRef="done"/>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="o2c_diagram">
    <bpmndi:BPMNPlane id="o2c_plane" bpmnElement="order_to_cash">
      <bpmndi:BPMNShape id="submitted_di" bpmnElement="submitted">
        <dc:Bounds x="100" y="102" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="confirm_di" bpmnElement="confirm">
        <dc:Bounds x="190" y="80" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="done_di" bpmnElement="done">
        <dc:Bounds x="352" y="102" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
        <di:waypoint x="136" y="120"/><di:waypoint x="190" y="120"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
        <di:waypoint x="290" y="120"/><di:waypoint x="352" y="120"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
""".encode()


@pytest.fixture
def company(database):
    load_company(database)


@pytest.fixture
def order_to_cash(database, engine):
    with database.transaction() as session:
        engine.deploy(session, {"order_to_cash.bpmn": ORDER_TO_CASH}, user="tester")


def _login(client, make_user, username, roles, locale="zh_CN"):
    login(client, make_user(username, roles=roles, locale=locale))
    return client


@pytest.fixture
def rep(client, make_user, company):
    return _login(client, make_user, "zhaoqiang", ["employee", "sales"])


@pytest.fixture
def finance(client, make_user, company):
    return _login(client, make_user, "sunmei", ["employee", "finance"])


def quotation(database, customer="C-000001", lines=(("HX-TEA-001", "10"),), **fields) -> tuple[int, str]:
    with database.transaction() as session:
        q = services.create_quotation(session, customer=customer, by="tester", **fields,
                                      lines=[{"sku": sku, "quantity": qty} for sku, qty in lines])
        return q.id, q.number


def invoiced_order(database, customer="C-000001", days_ago=0) -> tuple[int, str, int]:
    """An order for 10 cans of tea (gross ¥2,921.20), delivered and invoiced `days_ago` days ago:
    (order id, invoice number, invoice id)."""
    with database.transaction() as session:
        order = services.create_order(session, customer=customer, lines=[{"sku": "HX-TEA-001", "quantity": "10"}],
                                      by="tester")
        services.reserve_order(session, order)
        fulfilment.deliver(session, order, by="tester")
        invoice = fulfilment.invoice_order(session, order, issue_date=today() - timedelta(days=days_ago), by="tester")
        return order.id, invoice.number, invoice.id


def _customer_id(database, code):
    with database.transaction() as session:
        return session.scalar(select(Customer.id).where(Customer.code == code))


def _count(database, model, *where):
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _html(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------- quotations

def test_a_sales_rep_sees_only_the_quotations_of_their_customers(rep, database):
    _mine_id, mine = quotation(database, "C-000001")
    theirs_id, theirs = quotation(database, "C-000003")
    html = _html(rep, "/sales/quotations")
    assert mine in html and theirs not in html
    assert rep.get(f"/sales/quotations/{theirs_id}").status_code == 404
    assert rep.post(f"/sales/quotations/{theirs_id}/submit").status_code == 404


def test_a_manager_sees_every_quotation_and_can_filter_them(client, make_user, company, database):
    _, first = quotation(database, "C-000001")
    _, second = quotation(database, "C-000003")
    _login(client, make_user, "zhangwei", ["employee", "manager"])
    html = _html(client, "/sales/quotations")
    assert first in html and second in html
    found = _html(client, "/sales/quotations?q=海润")
    assert second in found and first not in found
    by_customer = _html(client, f"/sales/quotations?customer={_customer_id(database, 'C-000001')}&status=draft")
    assert first in by_customer and second not in by_customer
    assert first not in _html(client, "/sales/quotations?status=accepted")


def test_a_quotation_is_created_through_the_form(rep, database):
    form = {"customer_id": str(_customer_id(database, "C-000001")), "discount_percent": "2",
            "valid_until": (today() + timedelta(days=10)).isoformat(),
            "sku_0": "HX-TEA-001", "quantity_0": "10", "unit_price_0": "", "discount_percent_0": "",
            "sku_1": "", "quantity_1": "", "sku_2": "HX-RICE-001", "quantity_2": "5", "unit_price_2": "120.00",
            "discount_percent_2": "5"}
    response = rep.post("/sales/quotations/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with database.transaction() as session:
        q = session.scalars(select(Quotation)).one()
        assert (q.sales_rep, q.status, q.created_by) == ("zhaoqiang", "draft", "zhaoqiang")
        assert q.valid_until == today() + timedelta(days=10)
        assert [(x.quantity, x.unit_price, x.discount_percent) for x in q.lines] == [
            (10, 268, 0), (5, 120, 5)]
        totals = q.net_total, q.vat_total, q.gross_total
    html = _html(rep, response.headers["Location"])
    assert 'id="submit-for-order"' in html and "提交下单" in html
    for amount in totals:
        assert shown(amount) in html
    assert "西湖龙井茶（250 克/罐）" in html


def test_a_bad_line_is_shown_on_the_form_and_nothing_is_saved(rep, database):
    form = {"customer_id": str(_customer_id(database, "C-000001")), "discount_percent": "0",
            "sku_0": "HX-TEA-001", "quantity_0": "10", "sku_1": "HX-RICE-001", "quantity_1": "-3"}
    response = rep.post("/sales/quotations/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-error-for="lines[1].quantity"' in html
    assert 'name="quantity_1" inputmode="decimal" value="-3"' in html  # the input is kept
    assert _count(database, Quotation) == 0


def test_a_sales_rep_cannot_quote_for_someone_elses_customer(rep, database):
    response = rep.post("/sales/quotations/new", data={"customer_id": str(_customer_id(database, "C-000003")),
                                                       "sku_0": "HX-TEA-001", "quantity_0": "1"})
    assert response.status_code == 422
    assert 'data-error-for="customer_id"' in response.get_data(as_text=True)
    assert "天津海润食品有限公司" not in response.get_data(as_text=True)  # not offered either
    assert _count(database, Quotation) == 0


def test_submit_for_order_starts_order_to_cash_once(rep, database, order_to_cash):
    qid, number = quotation(database, "C-000001")
    assert 'id="submit-for-order"' in _html(rep, f"/sales/quotations/{qid}")
    assert rep.post(f"/sales/quotations/{qid}/submit").status_code == 302
    assert rep.post(f"/sales/quotations/{qid}/submit").status_code == 302
    with database.transaction() as session:
        started = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "order_to_cash")).all()
        assert [(i.business_key, i.started_by) for i in started] == [(number, "zhaoqiang")]
        instance_id = started[0].id
    html = _html(rep, f"/sales/quotations/{qid}")
    assert 'id="submit-for-order"' not in html
    assert f'href="/instances/{instance_id}"' in html


def test_a_quotation_without_the_process_deployed_is_not_submitted(rep, database):
    qid, _number = quotation(database, "C-000001")
    response = rep.post(f"/sales/quotations/{qid}/submit", follow_redirects=True)
    assert response.status_code == 200
    assert _count(database, ProcessInstance) == 0


def test_the_customer_contact_is_masked_for_a_sales_rep(rep, database):
    qid, _number = quotation(database, "C-000001")
    html = _html(rep, f"/sales/quotations/{qid}")
    assert "139****2201" in html and "13901012201" not in html


def test_the_customer_contact_is_shown_to_a_manager(client, make_user, company, database):
    qid, _number = quotation(database, "C-000001")
    _login(client, make_user, "zhangwei", ["employee", "manager"])
    assert "13901012201" in _html(client, f"/sales/quotations/{qid}")


# ---------------------------------------------------------------------- sales orders

def _ordered_through_the_process(rep, database) -> int:
    qid, number = quotation(database, "C-000001")
    assert rep.post(f"/sales/quotations/{qid}/submit").status_code == 302
    with database.transaction() as session:
        services.set_quotation_status(session, number, "sent")
        services.set_quotation_status(session, number, "accepted")
        return services.create_order_from_quotation(session, number, by="tester").id


def test_the_order_shows_where_its_order_to_cash_instance_stands(rep, database, order_to_cash):
    order_id = _ordered_through_the_process(rep, database)
    html = _html(rep, f"/sales/orders/{order_id}")
    assert '<span class="badge text-bg-warning current-step">确认订单</span>' in html
    markers = json.loads(html.split('id="diagram-markers">')[1].split("</script>")[0])
    assert markers["active"] == ["confirm"]
    assert "/diagram.xml" in html and "bpmn-navigated-viewer" in html
    assert 'class="order-line" data-sku="HX-TEA-001"' in html


def test_someone_who_may_not_see_the_instance_gets_the_step_names_only(client, make_user, company, database,
                                                                        order_to_cash):
    rep_client = _login(client, make_user, "zhaoqiang", ["employee", "sales"])
    order_id = _ordered_through_the_process(rep_client, database)
    client.post("/logout")
    _login(client, make_user, "wangjun", ["warehouse"])
    html = _html(client, f"/sales/orders/{order_id}")
    assert "current-step" in html and "确认订单" in html
    assert 'id="diagram-markers"' not in html and "/diagram.xml" not in html


def test_orders_can_be_filtered_by_status_including_backordered(client, make_user, company, database):
    with database.transaction() as session:
        short = services.create_order(session, customer="C-000003",
                                      lines=[{"sku": "HX-APP-002", "quantity": "500"}], by="tester")
        services.reserve_order(session, short)
        plenty = services.create_order(session, customer="C-000003",
                                       lines=[{"sku": "HX-TEA-001", "quantity": "1"}], by="tester")
        short_number, plenty_number = short.number, plenty.number
        assert short.status == "backordered"
    _login(client, make_user, "wangjun", ["warehouse"])
    html = _html(client, "/sales/orders?status=backordered")
    assert short_number in html and plenty_number not in html


def test_a_warehouse_user_sees_orders_but_cannot_create_quotations(client, make_user, company, database):
    order_id, _invoice, _invoice_id = invoiced_order(database)
    qid, _number = quotation(database, "C-000001")
    _login(client, make_user, "wangjun", ["warehouse"])
    assert "SO-" in _html(client, "/sales/orders")
    html = _html(client, f"/sales/orders/{order_id}")
    assert 'class="text-end delivered">10' in html
    assert 'id="new-quotation"' not in _html(client, "/sales/quotations")
    assert 'id="submit-for-order"' not in _html(client, f"/sales/quotations/{qid}")
    assert client.get("/sales/quotations/new").status_code == 403
    assert client.post("/sales/quotations/new", data={}).status_code == 403
    assert client.post(f"/sales/quotations/{qid}/submit").status_code == 403


# ---------------------------------------------------------------------- invoices and payments

def test_finance_records_payments_until_the_invoice_is_paid(finance, database):
    _order, number, invoice_id = invoiced_order(database)
    page = _html(finance, f"/sales/invoices/{invoice_id}")
    assert 'id="payment-form"' in page and shown("2921.20") in page
    first = finance.post(f"/sales/invoices/{invoice_id}/payments",
                         data={"amount": "1,000.00", "received_on": today().isoformat(),
                               "payer": "北京鑫源百货有限公司", "memo": f"货款 {number}"})
    assert first.status_code == 302
    with database.transaction() as session:
        assert session.scalar(select(Invoice.status).where(Invoice.id == invoice_id)) == "partially_paid"
    finance.post(f"/sales/invoices/{invoice_id}/payments",
                 data={"amount": "1921.20", "received_on": today().isoformat(), "payer": "", "memo": ""})
    with database.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.paid) == ("paid", Decimal("2921.20"))
    html = _html(finance, f"/sales/invoices/{invoice_id}")
    assert html.count('class="payment-row"') == 2 and 'data-status="paid"' in html
    listed = _html(finance, "/sales/payments")
    assert listed.count('class="payment-row"') == 2 and shown("1921.20") in listed


def test_a_bad_payment_amount_is_shown_on_the_form_and_nothing_is_recorded(finance, database):
    _order, _number, invoice_id = invoiced_order(database)
    response = finance.post(f"/sales/invoices/{invoice_id}/payments",
                            data={"amount": "12.345", "received_on": today().isoformat(), "payer": "某某"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-error-for="amount"' in html and 'value="12.345"' in html
    assert _count(database, Payment) == 0


def test_a_sales_rep_may_not_record_payments(rep, database):
    _order, _number, invoice_id = invoiced_order(database)
    assert 'id="payment-form"' not in _html(rep, f"/sales/invoices/{invoice_id}")
    assert rep.post(f"/sales/invoices/{invoice_id}/payments", data={"amount": "1"}).status_code == 403
    assert rep.get("/sales/bank-statements").status_code == 403


def test_a_bank_statement_in_gb18030_pays_the_invoice_its_memo_names(finance, database):
    _order, number, invoice_id = invoiced_order(database)
    statement = ("交易日期,金额,付款人,摘要\n"
                 f"{today():%Y/%m/%d},\"2,921.20\",北京鑫源百货有限公司,支付货款 {number}\n"
                 f"{today():%Y/%m/%d},500.00,某公司,预付款\n").encode("gb18030")
    response = finance.post("/sales/bank-statements", data={"file": (io.BytesIO(statement), "statement.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    html = response.get_data(as_text=True)
    assert f'class="matched-row" data-invoice="{number}"' in html
    assert html.count('class="unmatched-row"') == 1 and "预付款" in html
    with database.transaction() as session:
        assert session.scalar(select(Invoice.status).where(Invoice.id == invoice_id)) == "paid"


def test_a_statement_without_the_needed_columns_is_refused(finance, database):
    response = finance.post("/sales/bank-statements", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'data-error-for="file"' in response.get_data(as_text=True)


def test_overdue_invoices_show_their_days_overdue(finance, database):
    _order, late, _ = invoiced_order(database, days_ago=40)  # C-000001 pays within 30 days
    _order, fresh, _ = invoiced_order(database)
    html = _html(finance, "/sales/invoices?overdue=1")
    assert late in html and fresh not in html
    assert 'class="text-end days-overdue">10</td>' in html
    assert fresh in _html(finance, "/sales/invoices?status=open")


def test_a_sales_rep_sees_only_their_customers_invoices_and_payments(rep, database):
    _order, mine, _ = invoiced_order(database, "C-000001")
    _order, theirs, theirs_id = invoiced_order(database, "C-000003")
    html = _html(rep, "/sales/invoices")
    assert mine in html and theirs not in html
    assert rep.get(f"/sales/invoices/{theirs_id}").status_code == 404


# ---------------------------------------------------------------------- languages

@pytest.mark.parametrize("locale, words", [
    ("zh_CN", ["报价单", "销售订单", "发票", "新建报价单"]),
    ("en", ["Quotations", "Sales orders", "Invoices", "New quotation"]),
])
def test_the_pages_speak_the_users_language(client, make_user, company, database, locale, words):
    order_id, _number, invoice_id = invoiced_order(database)
    qid, _ = quotation(database)
    _login(client, make_user, "zhaoqiang", ["employee", "sales"], locale=locale)
    html = _html(client, "/sales/quotations")
    for word in words:
        assert word in html, word
    product = "西湖龙井茶（250 克/罐）" if locale == "zh_CN" else "West Lake Longjing tea, 250 g can"
    assert product in _html(client, f"/sales/quotations/{qid}")
    assert product in _html(client, f"/sales/orders/{order_id}")
    assert ("未收款" if locale == "zh_CN" else "Unpaid") in _html(client, f"/sales/invoices/{invoice_id}")


def test_every_sales_page_answers_with_nothing_in_it(client, make_user, database):
    _login(client, make_user, "boss", ["employee", "manager"])
    for path in ("/sales/quotations", "/sales/quotations/new", "/sales/orders", "/sales/invoices", "/sales/payments"):
        assert client.get(path).status_code == 200, path
    assert client.get("/sales/orders/1").status_code == 404


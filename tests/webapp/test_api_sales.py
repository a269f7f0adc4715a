"""Order-to-cash through the JSON API, on SQLite and PostgreSQL: quotations created and read back, a sales rep
limited to their own customers, payments and bank statements that pay invoices and tell the waiting process,
process messages from integrations, and who may do what. Every answer is checked against the OpenAPI
document."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine import queries as engine_queries
from erp.finance.queries import trial_balance
from erp.sales import fulfilment, services
from erp.sales.models import Payment, Quotation
from tests.bpmn_text import HEAD
from tests.sales_data import customer, shop
from tests.webapp import test_openapi as spec
from tests.webapp.test_api_support import Api, error_of, token_for
from webapp import openapi

#: username -> roles
PEOPLE = {"zhangwei": ["sales"], "liuyang": ["sales"], "chenjing": ["finance"], "zhaomin": ["manager"]}

#: start → wait for `payment_received` correlated on `invoice` → end
COLLECT_BPMN = (
    HEAD + '<bpmn:message id="msg_paid" name="payment_received"/>'
    '<bpmn:correlationProperty id="invoice" name="Invoice">'
    '<bpmn:correlationPropertyRetrievalExpression messageRef="msg_paid">'
    '<bpmn:formalExpression>invoice</bpmn:formalExpression>'
    '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>'
    '<bpmn:process id="collect" name="回款 Collection" isExecutable="true">'
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="paid"/>'
    '<bpmn:intermediateCatchEvent id="paid" name="Payment received">'
    '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
    '<bpmn:messageEventDefinition id="med1" messageRef="msg_paid"/></bpmn:intermediateCatchEvent>'
    '<bpmn:sequenceFlow id="f2" sourceRef="paid" targetRef="end"/>'
    '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
    '</bpmn:process></bpmn:definitions>').encode()


@pytest.fixture
def doc() -> dict:
    return openapi.document()


@pytest.fixture
def people(make_user, client) -> dict[str, Api]:
    for name, roles in PEOPLE.items():
        make_user(name, roles=roles)
    return {name: Api(client, token_for(name)) for name in PEOPLE}


@pytest.fixture
def books(database, people) -> dict[str, str]:
    """The shop (products A 10.00 at 13 %, B 55.50 at 9 %), customers C001 (zhangwei's) and C002 (liuyang's),
    and for each an order of 100 A delivered and invoiced (1 130.00): {"order1", "invoice1", "order2", ...}."""
    numbers = {}
    with database.transaction() as session:
        shop(session, stock={"A": 200, "B": 10})
        customer(session, "C001").sales_rep = "zhangwei"
        customer(session, "C002", name_zh="上海东方百货有限公司").sales_rep = "liuyang"
        for n, code in ((1, "C001"), (2, "C002")):
            order = services.create_order(session, customer=code, lines=[{"sku": "A", "quantity": "100"}])
            services.reserve_order(session, order)
            fulfilment.deliver(session, order)
            invoice = fulfilment.invoice_order(session, order, issue_date=date(2026, 3, 2))
            numbers[f"order{n}"], numbers[f"invoice{n}"] = order.number, invoice.number
    return numbers


def waiting_for_payment(database, engine, invoice: str) -> int:
    """An instance of the collection process waiting for `payment_received` on `invoice`; its id."""
    with database.transaction() as session:
        engine.deploy(session, {"collect.bpmn": COLLECT_BPMN}, user="tester")
        return engine.start(session, "collect", {"invoice": invoice}, user="tester").id


def shown(database, engine, instance_id: int) -> dict:
    with database.transaction(readonly=True) as session:
        return engine_queries.show(engine, session, instance_id)


def count(database, model) -> int:
    with database.transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------- quotations


def test_a_quotation_is_created_and_read_back_with_its_totals_as_text(people, books, doc):
    zhangwei = people["zhangwei"]
    response = zhangwei.post("/quotations", {
        "customer": "C001", "discount_percent": 5, "valid_until": "2026-12-31",
        "lines": [{"sku": "A", "quantity": 10}, {"sku": "B", "quantity": "2", "unit_price": "50.00",
                                                 "discount_percent": "10"}]})
    created = spec.check(doc, "/quotations", "post", response)
    assert response.status_code == 201, created
    number = created["number"]
    assert response.headers["Location"].endswith(f"/api/v1/quotations/{number}")
    assert created["status"] == "draft" and created["customer"] == "C001" and created["sales_rep"] == "zhangwei"
    assert created["valid_until"] == "2026-12-31" and created["discount_percent"] == "5.00"
    # A: 10 × 10.00 × 0.95 = 95.00 + 12.35 VAT; B: 2 × 50.00 × 0.9 × 0.95 = 85.50 + 7.70 VAT
    assert [(x["sku"], x["quantity"], x["net"], x["vat"], x["gross"]) for x in created["lines"]] == [
        ("A", "10", "95.00", "12.35", "107.35"), ("B", "2", "85.50", "7.70", "93.20")]
    assert (created["net_total"], created["vat_total"], created["gross_total"]) == ("180.50", "20.05", "200.55")

    read = spec.check(doc, "/quotations/{number}", "get", zhangwei.get(f"/quotations/{number}"))
    assert read == created
    listed = spec.check(doc, "/quotations", "get", zhangwei.get("/quotations", status="draft"))
    assert [q["number"] for q in listed["items"]] == [number] and listed["total"] == 1


def test_bad_quotation_input_is_422_with_field_errors_and_nothing_is_saved(people, books, doc, database):
    zhangwei = people["zhangwei"]
    response = zhangwei.post("/quotations", {"customer": "C001", "lines": [
        {"sku": "NOPE", "quantity": 1}, {"sku": "A", "quantity": "lots"}, {"sku": "B", "quantity": 1,
                                                                         "unit_price": 55.555}]})
    spec.check(doc, "/quotations", "post", response)
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"lines[0].sku", "lines[1].quantity", "lines[2].unit_price"}
    assert "at most 2 decimal places" in fields["lines[2].unit_price"]
    for body, field in (({"customer": "C999", "lines": [{"sku": "A", "quantity": 1}]}, "customer"),
                        ({"customer": "C002", "lines": [{"sku": "A", "quantity": 1}]}, "customer"),  # not hers
                        ({"customer": "C001", "lines": []}, "lines"),
                        ({"customer": "C001", "lines": ["A"]}, "lines[0]"),
                        ({"lines": [{"sku": "A", "quantity": 1}]}, "customer"),
                        ({"customer": "C001", "lines": [{"sku": "A", "quantity": 1}], "valid_until": "soon"},
                         "valid_until")):
        response = zhangwei.post("/quotations", body)
        assert response.status_code == 422 and field in error_of(response)["fields"], (body, response.get_json())
    assert count(database, Quotation) == 0


# ---------------------------------------------------------------------- orders and invoices


def test_a_sales_rep_sees_only_the_orders_and_invoices_of_their_customers(people, books, doc):
    zhangwei, manager = people["zhangwei"], people["zhaomin"]
    own = spec.check(doc, "/orders/{number}", "get", zhangwei.get(f"/orders/{books['order1']}"))
    assert own["customer"] == "C001" and own["status"] == "invoiced"
    assert [(x["sku"], x["quantity"], x["reserved"], x["delivered"], x["invoiced"]) for x in own["lines"]] == [
        ("A", "100", "0", "100", "100")]
    assert [i["number"] for i in own["invoices"]] == [books["invoice1"]]

    response = zhangwei.get(f"/orders/{books['order2']}")
    spec.check(doc, "/orders/{number}", "get", response)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert zhangwei.get(f"/invoices/{books['invoice2']}").status_code == 404
    assert [o["number"] for o in zhangwei.get("/orders").get_json()["items"]] == [books["order1"]]
    assert [i["number"] for i in zhangwei.get("/invoices").get_json()["items"]] == [books["invoice1"]]

    everyone = spec.check(doc, "/orders", "get", manager.get("/orders"))
    assert {o["number"] for o in everyone["items"]} == {books["order1"], books["order2"]}
    assert manager.get(f"/orders/{books['order2']}").status_code == 200
    assert manager.get("/orders", customer="C002").get_json()["total"] == 1
    spec.check(doc, "/orders", "get", manager.get("/orders", status="nope"))  # 422


def test_an_invoice_shows_its_amounts_due_date_and_outstanding(people, books, doc):
    invoice = spec.check(doc, "/invoices/{number}", "get", people["chenjing"].get(f"/invoices/{books['invoice1']}"))
    assert (invoice["gross_total"], invoice["paid"], invoice["outstanding"]) == ("1130.00", "0.00", "1130.00")
    assert invoice["issue_date"] == "2026-03-02" and invoice["due_date"] == "2026-04-01"
    assert invoice["status"] == "open" and invoice["order"] == books["order1"] and invoice["payments"] == []
    spec.check(doc, "/invoices", "get", people["chenjing"].get("/invoices", status="open"))


# ---------------------------------------------------------------------- money received


def test_a_payment_pays_the_invoice_posts_the_ledger_and_tells_the_waiting_process(people, books, doc, database,
                                                                                   engine):
    number = books["invoice1"]
    instance_id = waiting_for_payment(database, engine, number)
    response = people["chenjing"].post(f"/invoices/{number}/payments", {
        "amount": "1130.00", "received_on": "2026-03-20", "payer": "北京华联商贸有限公司", "memo": "货款"})
    result = spec.check(doc, "/invoices/{number}/payments", "post", response)
    assert response.status_code == 201, result
    assert result["payment"]["amount"] == "1130.00" and result["payment"]["received_on"] == "2026-03-20"
    assert result["invoice"] == {"number": number, "status": "paid", "gross_total": "1130.00", "paid": "1130.00",
                                 "credited": "0.00", "outstanding": "0.00"}
    assert result["announced"] == [instance_id]
    assert shown(database, engine, instance_id)["status"] == "completed"
    with database.transaction(readonly=True) as session:
        assert session.scalar(select(Payment.journal_entry_id).where(
            Payment.number == result["payment"]["number"])) is not None
        balances = {r["code"]: r["balance"] for r in trial_balance(session)["accounts"]}
        assert balances["1002"] == Decimal("1130.00")
    paid = people["chenjing"].get(f"/invoices/{number}").get_json()
    assert paid["status"] == "paid" and [p["number"] for p in paid["payments"]] == [result["payment"]["number"]]


def test_a_payment_amount_must_be_exact_money(people, books, doc):
    chenjing = people["chenjing"]
    for amount in (None, "abc", "10.005", 10.005, -5, True, "1e20"):
        response = chenjing.post(f"/invoices/{books['invoice1']}/payments", {"amount": amount})
        spec.check(doc, "/invoices/{number}/payments", "post", response)
        assert response.status_code == 422 and "amount" in error_of(response)["fields"], amount
    response = chenjing.post("/invoices/INV-2026-09999/payments", {"amount": "1.00"})
    assert response.status_code == 404
    assert chenjing.post(f"/invoices/{books['invoice1']}/payments", {"amount": 100}).status_code == 201


STATEMENT = ("交易日期,金额,付款人,摘要\n"
             "2026-03-10,1130.00,北京华联商贸有限公司,货款 {invoice1}\n"
             "2026-03-11,500.00,某某公司,货款\n")


def test_a_bank_statement_pays_the_invoices_its_memos_name(people, books, doc, database, engine, client):
    instance_id = waiting_for_payment(database, engine, books["invoice1"])
    headers = people["chenjing"].headers
    body = STATEMENT.format(**books).encode("gb18030")
    response = client.post("/api/v1/bank-statements", data=body, content_type="text/csv", headers=headers)
    result = spec.check(doc, "/bank-statements", "post", response)
    assert response.status_code == 200, result
    assert [(m["row"], m["invoice"], m["amount"], m["status"], m["announced"]) for m in result["matched"]] == [
        (2, books["invoice1"], "1130.00", "paid", [instance_id])]
    assert [(u["row"], u["reason"]) for u in result["unmatched"]] == [(3, "no invoice number in the memo")]
    assert shown(database, engine, instance_id)["status"] == "completed"

    upload = {"file": (io.BytesIO(f"Date,Amount,Memo\n2026-03-12,10.00,{books['invoice2']}\n".encode()),
                       "statement.csv")}
    response = client.post("/api/v1/bank-statements", data=upload, headers=headers,
                           content_type="multipart/form-data")
    assert response.status_code == 200 and response.get_json()["matched"][0]["status"] == "partially_paid"
    for data, content_type in ((b"date,payer\n", "text/csv"), (b'{"a": 1}', "application/json"),
                               (b"a\x00b", "text/csv")):
        response = client.post("/api/v1/bank-statements", data=data, content_type=content_type, headers=headers)
        spec.check(doc, "/bank-statements", "post", response)
        assert response.status_code == 422, (data, response.get_json())


# ---------------------------------------------------------------------- process messages


def test_a_message_reaches_the_instance_waiting_on_its_invoice(people, books, doc, database, engine):
    instance_id = waiting_for_payment(database, engine, books["invoice1"])
    other = waiting_for_payment(database, engine, books["invoice2"])
    response = people["chenjing"].post("/messages", {
        "name": "payment_received", "correlation": {"invoice": books["invoice1"]},
        "data": {"amount": "1130.00", "received_on": "2026-11-20", "payer": "北京华联", "reference": "bank ref"}})
    result = spec.check(doc, "/messages", "post", response)
    assert response.status_code == 200 and result == {"delivered_to": [instance_id], "started": []}
    done = shown(database, engine, instance_id)
    assert done["status"] == "completed" and done["data"]["reference"] == "bank ref"
    assert shown(database, engine, other)["status"] == "running"


def test_a_message_nobody_waits_for_is_404_with_a_clear_message(people, books, doc, database, engine):
    waiting_for_payment(database, engine, books["invoice1"])
    response = people["chenjing"].post("/messages", {"name": "payment_received",
                                                     "correlation": {"invoice": "INV-2026-09999"}})
    spec.check(doc, "/messages", "post", response)
    assert response.status_code == 404
    assert "no instance is waiting for message 'payment_received'" in error_of(response)["message"]
    response = people["chenjing"].post("/messages", {"name": "payment_received", "correlation": {"invoice": [1]}})
    assert response.status_code == 422 and "correlation.invoice" in error_of(response)["fields"]


# ---------------------------------------------------------------------- who may do what


def test_a_sales_user_may_not_record_payments_import_statements_or_send_messages(people, books, client, database):
    zhangwei = people["zhangwei"]
    assert zhangwei.post(f"/invoices/{books['invoice1']}/payments", {"amount": "1.00"}).status_code == 403
    assert zhangwei.post("/messages", {"name": "payment_received"}).status_code == 403
    response = client.post("/api/v1/bank-statements", data=STATEMENT.format(**books).encode(),
                           content_type="text/csv", headers=zhangwei.headers)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert people["chenjing"].post("/quotations", {"customer": "C001", "lines": []}).status_code == 403
    assert count(database, Payment) == 0

r"""SQL metacharacters (' " ; -- % _ \ and Chinese-style curly quotes) in every search box of the app, on SQLite
and PostgreSQL: each page answers 200, finds the record whose text holds the characters typed, and no other:
LIKE wildcards typed by a user mean themselves. The data is the demo company's plus, in each list, one record
whose searched text is made of those characters."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import db
from engine.models import HumanTask, ProcessInstance
from erp.crm.services import create_customer
from erp.demo import GROUPS
from erp.identity.permissions import ROLES
from erp.identity.services import ensure_user
from erp.risks.services import create_risk
from erp.sales import fulfilment, payments, services
from tests.conftest import demo_data
from tests.purchasing_data import supplier
from tests.webapp.conftest import login

#: the characters a search box must take literally
ODD = "奇'\"%_\\;--‘’“”"
#: typed into each box: substrings of ODD (find the odd record only) ...
MATCHING = ["'", '"', ";", "--", "%", "_", "\\", "‘’", "“”", "%_", "_\\", "\\;"]
#: ... and injection attempts that are in no record (find neither)
NOT_MATCHING = ["' OR '1'='1", "x%' --", "\\'", "%%", "__x", "'; DROP TABLE users; --", "” OR 1=1 --"]
ROW = re.compile(r'class="([\w-]+)-row[^"]*" data-([\w-]+)="([^"]*)"')


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def world(database, product_engine, make_user, client) -> dict:
    """The demo data, an odd record in each list, and a logged-in user who holds every role and group:
    {search page: (query parameter, the odd record's row key, a plain demo record's row key)}."""
    with db.transaction() as session:
        demo_data(session, product_engine)
        odd = _odd_records(session, product_engine)
        plain = _plain_records(session)
    make_user("searcher", roles=list(ROLES), groups=list(GROUPS))
    login(client, "searcher")
    return {
        "/crm/customers": ("q", odd["customer"], plain["customer"]),
        "/sales/quotations": ("q", odd["quotation"], plain["quotation"]),
        "/sales/orders": ("q", odd["order"], plain["order"]),
        "/sales/invoices": ("q", odd["invoice"], plain["invoice"]),
        "/sales/payments": ("q", odd["payment"], plain["payment"]),
        "/purchasing/suppliers": ("q", "S-000099", "S-000001"),
        "/projects/ERP-2026/risks": ("q", odd["risk"], "R-001"),
        "/inbox": ("q", odd["task"], plain["task"]),
        "/instances": ("business_key", odd["instance"], plain["instance"]),
        "/admin/users": ("q", "oddone", "wangfang"),
    }


def _odd_records(session, engine) -> dict:
    customer = create_customer(session, name_zh=f"{ODD}商行", by="tester")
    quotation = services.create_quotation(session, customer=customer.code, lines=[{"sku": "HX-TEA-001",
                                                                                    "quantity": "1"}])
    order = services.create_order(session, customer=customer.code, lines=[{"sku": "HX-TEA-001", "quantity": "1"}])
    services.reserve_order(session, order)
    fulfilment.deliver(session, order)
    invoice = fulfilment.invoice_order(session, order, issue_date=date(2026, 3, 2))
    payment = payments.record_payment(session, invoice.number, Decimal("1.00"), payer=ODD)
    supplier(session, "S-000099", f"{ODD}五金")
    risk = create_risk(session, "ERP-2026", title=f"{ODD}风险", owner="zhangwei", probability=2, impact=2,
                       category="technical", by="tester")
    instance = engine.start(session, "approval", {"title": "奇怪的申请", "amount": Decimal("100.00"),
                                                  "department": "行政部", "requester": "wangfang"},
                            business_key=f"PR-{ODD}", user="wangfang")
    task = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    ensure_user(session, "oddone", ODD, email="oddone@example.cn")
    return {"customer": str(customer.id), "quotation": quotation.number, "order": order.number,
            "invoice": invoice.number, "payment": payment.number, "risk": risk.code, "task": str(task),
            "instance": str(instance.id)}


def _plain_records(session) -> dict:
    """Demo records whose searched text holds none of the odd characters."""
    from erp.crm.models import Customer
    from erp.sales.models import Invoice, Payment, Quotation, SalesOrder

    first = {name: session.scalar(select(column).order_by(column).limit(1)) for name, column in (
        ("customer", Customer.id), ("quotation", Quotation.number), ("order", SalesOrder.number),
        ("invoice", Invoice.number), ("payment", Payment.number))}
    instance = session.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == "PR-2026-0001"))
    task = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance, HumanTask.status == "open"))
    return {**{k: str(v) for k, v in first.items()}, "instance": str(instance), "task": str(task)}


def rows(html: str) -> set[str]:
    return {key for _kind, _attribute, key in ROW.findall(html)}


def search(client, path: str, parameter: str, text: str) -> set[str]:
    response = client.get(path, query_string={parameter: text})
    assert response.status_code == 200, (path, text, response.status_code)
    return rows(response.get_data(as_text=True))


def test_every_search_box_takes_metacharacters_literally(world, client):
    """Without a search each list shows both records; with one, exactly the record holding the text typed."""
    for path, (parameter, odd, plain) in world.items():
        if path == "/admin/users":
            continue  # below
        shown = rows(client.get(path).get_data(as_text=True))
        assert {odd, plain} <= shown, (path, odd, plain)
        for text in MATCHING:
            found = search(client, path, parameter, text)
            assert odd in found and plain not in found, (path, text, found)
        for text in NOT_MATCHING:
            found = search(client, path, parameter, text)
            assert odd not in found and plain not in found, (path, text, found)


def _likeless(texts: list[str]) -> list[str]:
    return [t for t in texts if not set(t) & set("%_\\")]


def test_the_user_search_answers_and_finds_the_odd_user(world, client):
    _parameter, odd, _plain = world["/admin/users"]
    for text in _likeless(MATCHING):  # LIKE's own characters: see the next test
        assert odd in search(client, "/admin/users", "q", text), text
    for text in _likeless(NOT_MATCHING):
        assert odd not in search(client, "/admin/users", "q", text), text


def test_like_characters_in_the_user_search_match_themselves(world, client):
    _parameter, odd, plain = world["/admin/users"]
    assert plain not in search(client, "/admin/users", "q", "%")
    assert odd in search(client, "/admin/users", "q", "\\")  # PostgreSQL's default LIKE escape character


def test_the_api_task_and_supplier_searches_take_metacharacters_literally(world, client):
    _parameter, odd_task, plain_task = world["/inbox"]
    for text in MATCHING + NOT_MATCHING:
        response = client.get("/api/v1/tasks", query_string={"q": text})
        assert response.status_code == 200, (text, response.get_json())
        ids = {str(t["id"]) for t in response.get_json()["items"]}
        assert (odd_task in ids) == (text in ODD) and plain_task not in ids, (text, ids)
        response = client.get("/api/v1/suppliers", query_string={"q": text})
        assert response.status_code == 200, (text, response.get_json())
        codes = {s["code"] for s in response.get_json()["items"]}
        assert ("S-000099" in codes) == (text in ODD) and "S-000001" not in codes, (text, codes)

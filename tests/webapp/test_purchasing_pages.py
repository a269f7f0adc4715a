"""The purchasing pages: anyone raises a requisition through the form (which starts procurement once) and sees
only their own, buyers keep suppliers (their bank accounts masked unless one may see personal data) and record
quotes on the comparison page, a purchase order shows where its procurement stands on the real diagram, and
finance sees what is owed and its aging; in zh-CN and English."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import db
from engine.deploy import read_paths
from engine.models import ProcessInstance
from erp.finance.services import today
from erp.purchasing import invoicing, matching, receiving, rfqs, services
from erp.purchasing.models import Requisition, Supplier
from tests.conftest import ROOT
from tests.purchasing_data import approved, credit_code, goods, order, supplier
from tests.webapp.conftest import login
from tests.webapp.erp_pages import shown

BANK_ACCOUNT = "6222021234567890123"


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def procurement(database, engine):
    """The product's own procurement diagram and the approval it calls, deployed as they are in bpmn/ (only
    these folders: other areas' diagrams being written at the same time must not fail these tests)."""
    with database.transaction() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn" / "approval", ROOT / "bpmn" / "procurement"]))


@pytest.fixture
def shop(database):
    """Warehouse BJ-01, products A and B, and two qualified suppliers with a contact each."""
    with database.transaction() as session:
        goods(session)
        supplier(session, "S-000001", bank_name="招商银行", bank_account=BANK_ACCOUNT)
        supplier(session, "S-000002", "苏州华达紧固件有限公司", email="sales@huada.cn")


def _as(client, make_user, username, roles, locale="zh_CN"):
    login(client, make_user(username, roles=roles, locale=locale))
    return client


def _html(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def _count(model, *where):
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _requisition(database, requester="chenjing", lines=None) -> tuple[int, str]:
    with database.transaction() as session:
        found = services.create_requisition(session, requester=requester,
                                            lines=lines or [{"sku": "A", "quantity": "10"}])
        return found.id, found.number


def _form(**lines) -> dict:
    data = {"department": "行政部", "needed_by": "", "note": "办公用"}
    for row, (sku, quantity) in enumerate(lines.items()):
        data |= {f"sku_{row}": sku, f"quantity_{row}": quantity, f"warehouse_{row}": "BJ-01"}
    return data


# ---------------------------------------------------------------------- requisitions

def test_an_employee_raises_a_requisition_and_procurement_starts_once(client, make_user, shop, procurement):
    _as(client, make_user, "chenjing", ["employee"])
    form = _html(client, "/purchasing/requisitions/new")
    assert 'value="A"' in form and "BJ-01" in form
    response = client.post("/purchasing/requisitions/new", data=_form(A="12", B="4"))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with db.transaction() as session:
        found = session.scalars(select(Requisition)).one()
        assert (found.status, found.requester, found.department) == ("submitted", "chenjing", "行政部")
        number, requisition_id = found.number, found.id
    assert _count(ProcessInstance, ProcessInstance.business_key == number) == 1

    again = client.post(f"/purchasing/requisitions/{requisition_id}/submit")
    assert again.status_code == 302
    assert _count(ProcessInstance, ProcessInstance.business_key == number) == 1
    html = _html(client, response.headers["Location"])
    assert number in html and 'data-status="submitted"' in html
    assert 'id="process-position"' in html and "current-step" in html
    assert 'data-source="manual"' in html


@pytest.mark.parametrize("quantity", ["abc", "-3", "0"])
def test_a_bad_quantity_is_shown_on_the_form_and_nothing_is_saved(client, make_user, shop, procurement, quantity):
    _as(client, make_user, "chenjing", ["employee"])
    response = client.post("/purchasing/requisitions/new", data=_form(A=quantity))
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:800]
    assert 'id="form-errors"' in html and 'data-error-for="lines[0].quantity"' in html
    assert f'name="quantity_0" inputmode="decimal" value="{quantity}"' in html
    assert _count(Requisition) == 0 and _count(ProcessInstance) == 0


def test_a_requester_sees_only_their_own_requisitions(client, make_user, database, shop):
    mine_id, mine = _requisition(database, "chenjing")
    theirs_id, theirs = _requisition(database, "liming")
    _as(client, make_user, "chenjing", ["employee"])
    html = _html(client, "/purchasing/requisitions?who=all")
    assert mine in html and theirs not in html
    _html(client, f"/purchasing/requisitions/{mine_id}")
    _html(client, f"/purchasing/requisitions/{theirs_id}", 404)
    assert client.post(f"/purchasing/requisitions/{theirs_id}/submit").status_code == 404
    assert 'id="tab-suppliers"' not in html


def test_a_buyer_sees_everyones_requisitions(client, make_user, database, shop):
    theirs_id, theirs = _requisition(database, "liming")
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    assert theirs not in _html(client, "/purchasing/requisitions")
    assert theirs in _html(client, "/purchasing/requisitions?who=all")
    assert theirs in _html(client, f"/purchasing/requisitions/{theirs_id}")


def test_a_backorder_requisition_links_its_sales_order(client, make_user, database, shop):
    with database.transaction() as session:
        found = services.create_requisition(session, requester="system", lines=[{"sku": "A", "quantity": "5"}],
                                            source="backorder", source_reference="SO-2026-00003")
        requisition_id = found.id
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    html = _html(client, f"/purchasing/requisitions/{requisition_id}")
    assert 'data-source="backorder"' in html and "SO-2026-00003" in html


# ---------------------------------------------------------------------- suppliers

def test_a_buyer_creates_a_supplier_and_a_bad_credit_code_is_shown_on_the_form(client, make_user, shop):
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    data = {"name_zh": "天津利达五金制品有限公司", "tax_number": "91110108MA01XJ8E5X", "phone": "022-2345 6789",
            "payment_terms_days": "45", "category": "五金", "bank_account": BANK_ACCOUNT}
    response = client.post("/purchasing/suppliers/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:800]
    assert 'data-error-for="tax_number"' in html and "不是有效的统一社会信用代码" in html
    assert 'value="天津利达五金制品有限公司"' in html and 'value="91110108MA01XJ8E5X"' in html
    assert _count(Supplier) == 2

    response = client.post("/purchasing/suppliers/new", data=data | {"tax_number": credit_code()})
    assert response.status_code == 302
    html = _html(client, response.headers["Location"])
    assert "S-000003" in html and 'data-qualification="pending"' in html
    response = client.post(response.headers["Location"] + "/qualification", data={"qualification": "qualified"})
    assert response.status_code == 302
    assert 'data-qualification="qualified"' in _html(client, response.headers["Location"])


def test_the_bank_account_is_masked_for_a_buyer_and_shown_to_a_manager(app, make_user, database, shop):
    with database.transaction() as session:
        supplier_id = services.find_supplier(session, "S-000001").id
    buyer = _as(app.test_client(), make_user, "wangfang", ["employee", "purchasing"])
    html = _html(buyer, f"/purchasing/suppliers/{supplier_id}")
    assert BANK_ACCOUNT not in html and "622************0123" in html
    assert "13812345678" not in html and "138****5678" in html
    assert "sales@jinggong.cn" not in html
    edit = _html(buyer, f"/purchasing/suppliers/{supplier_id}/edit")
    assert BANK_ACCOUNT not in edit
    manager = _as(app.test_client(), make_user, "zhangwei", ["employee", "manager"])
    html = _html(manager, f"/purchasing/suppliers/{supplier_id}")
    assert BANK_ACCOUNT in html and "13812345678" in html and "sales@jinggong.cn" in html


def test_a_buyer_edit_keeps_the_hidden_bank_account(client, make_user, database, shop):
    with database.transaction() as session:
        supplier_id = services.find_supplier(session, "S-000001").id
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    response = client.post(f"/purchasing/suppliers/{supplier_id}/edit",
                           data={"name_zh": "上海精工五金有限公司", "payment_terms_days": "60", "bank_account": ""})
    assert response.status_code == 302
    with database.transaction() as session:
        found = services.find_supplier(session, "S-000001")
        assert (found.payment_terms_days, found.bank_account) == (60, BANK_ACCOUNT)


def test_a_warehouse_user_sees_suppliers_but_cannot_create_or_change_them(client, make_user, database, shop):
    with database.transaction() as session:
        supplier_id = services.find_supplier(session, "S-000001").id
    _as(client, make_user, "wangjun", ["employee", "warehouse"])
    html = _html(client, "/purchasing/suppliers?qualification=qualified")
    assert "S-000001" in html and 'id="new-supplier"' not in html
    assert client.get("/purchasing/suppliers/new").status_code == 403
    assert client.post("/purchasing/suppliers/new", data={"name_zh": "某公司"}).status_code == 403
    assert client.post(f"/purchasing/suppliers/{supplier_id}/qualification",
                       data={"qualification": "suspended"}).status_code == 403
    assert _count(Supplier) == 2


def test_the_supplier_list_searches_and_filters(client, make_user, database, shop):
    with database.transaction() as session:
        services.set_qualification(session, "S-000002", "suspended")
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    html = _html(client, "/purchasing/suppliers?qualification=suspended")
    assert 'data-code="S-000002"' in html and 'data-code="S-000001"' not in html
    html = _html(client, "/purchasing/suppliers?q=精工")
    assert 'data-code="S-000001"' in html and 'data-code="S-000002"' not in html


# ---------------------------------------------------------------------- RFQs

def _rfq(database) -> int:
    with database.transaction() as session:
        requisition = approved(session, [{"sku": "A", "quantity": "100"}, {"sku": "B", "quantity": "50"}])
        rfq = rfqs.create_rfq(session, requisition, ["S-000001", "S-000002"])
        rfqs.record_quote(session, rfq, "S-000001", [{"sku": "A", "unit_price": "5.00"},
                                                     {"sku": "B", "unit_price": "20.00"}], lead_time_days=7)
        return rfq.id


def _cheapest(html) -> list[str]:
    return re.findall(r'class="[^"]*\bcheapest" data-code="([^"]+)"', html)


def test_the_comparison_marks_the_cheapest_and_a_quote_is_recorded(client, make_user, database, shop):
    rfq_id = _rfq(database)
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    assert _cheapest(_html(client, f"/purchasing/rfqs/{rfq_id}")) == ["S-000001"]  # the only complete quote
    response = client.post(f"/purchasing/rfqs/{rfq_id}/quotes", data={
        "supplier": "S-000002", "sku_0": "A", "unit_price_0": "4.80", "sku_1": "B", "unit_price_1": "19.50",
        "lead_time_days": "10"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    html = _html(client, f"/purchasing/rfqs/{rfq_id}")
    assert _cheapest(html) == ["S-000002"]
    assert shown("1455.00") in html  # 100 × 4.80 + 50 × 19.50 net


def test_a_bad_price_keeps_the_quote_form_with_its_error(client, make_user, database, shop):
    rfq_id = _rfq(database)
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    response = client.post(f"/purchasing/rfqs/{rfq_id}/quotes", data={
        "supplier": "S-000002", "sku_0": "A", "unit_price_0": "abc", "sku_1": "B", "unit_price_1": "19.50"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:800]
    assert 'data-error-for="lines[0].unit_price"' in html and 'value="abc"' in html
    assert client.post(f"/purchasing/rfqs/{rfq_id}/quotes", data={"supplier": "S-000404", "sku_0": "A",
                                                                  "unit_price_0": "1"}).status_code == 404


def test_a_warehouse_user_cannot_record_quotes(client, make_user, database, shop):
    rfq_id = _rfq(database)
    _as(client, make_user, "wangjun", ["employee", "warehouse"])
    html = _html(client, f"/purchasing/rfqs/{rfq_id}")
    assert 'class="card card-body quote-form"' not in html
    assert client.post(f"/purchasing/rfqs/{rfq_id}/quotes", data={"supplier": "S-000002"}).status_code == 403
    assert "RFQ-" in _html(client, "/purchasing/rfqs")


# ---------------------------------------------------------------------- orders, receipts, payables

def test_a_purchase_order_shows_where_procurement_stands(app, make_user, database, engine, shop, procurement):
    with database.transaction() as session:
        po = order(session)
        number = services.find_requisition(session, po.requisition_id).number
        engine.start(session, "procurement", {"requisition": number, "requester": "lina"}, business_key=number,
                     user="lina")
        order_id, po_number = po.id, po.number
        receiving.receive(session, po, [{"sku": "A", "quantity": "6", "rejected": "1"}], by="wangjun")
    admin = _as(app.test_client(), make_user, "admin", ["administrator"])
    html = _html(admin, f"/purchasing/orders/{order_id}")
    assert po_number in html and number in html
    assert "current-step" in html and 'id="diagram"' in html
    assert 'class="text-end received">6' in html
    warehouse = _as(app.test_client(), make_user, "wangjun", ["employee", "warehouse"])
    html = _html(warehouse, f"/purchasing/orders/{order_id}")
    assert "current-step" in html and 'id="diagram"' not in html  # not theirs to open
    assert po_number in _html(warehouse, "/purchasing/orders?status=partially_received")
    assert 'id="orders-empty"' in _html(warehouse, "/purchasing/orders?status=closed")
    receipts = _html(warehouse, "/purchasing/receipts")
    assert "GR-" in receipts and "S-000001" in receipts


def test_finance_sees_the_payables_and_their_aging(client, make_user, database, shop):
    issued = today() - timedelta(days=45)  # due after 30 days: 15 days overdue
    with database.transaction() as session:
        po = order(session)
        receiving.receive(session, po, [{"sku": "A", "quantity": "10"}, {"sku": "B", "quantity": "4"}])
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="04471122", issue_date=issued,
                                                 lines=[{"sku": "A", "quantity": "10", "unit_price": "10.00"},
                                                        {"sku": "B", "quantity": "4", "unit_price": "25.00"}])
        number, gross = bill.number, bill.gross_total
    _as(client, make_user, "sunmei", ["employee", "finance"])
    html = _html(client, "/purchasing/payables")
    assert number in html and "04471122" in html
    assert 'class="text-end days-overdue">15<' in html
    assert f'id="overdue-total">{shown(gross)}<' in html
    assert f'id="aging-total">{shown(gross)}<' in html
    assert f'data-bucket="1-30">{shown(gross)}<' in html


def test_only_finance_and_managers_see_payables(client, make_user, shop):
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    assert client.get("/purchasing/payables").status_code == 403
    assert 'id="tab-payables"' not in _html(client, "/purchasing/suppliers")


def test_a_match_exception_lists_its_failing_lines(client, make_user, database, shop):
    with database.transaction() as session:
        po = order(session)
        receiving.receive(session, po, [{"sku": "A", "quantity": "10"}, {"sku": "B", "quantity": "4"}])
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="04471123", lines=[
            {"sku": "A", "quantity": "10", "unit_price": "11.00"}])
        matching.three_way_match(session, bill)
        number = bill.number
    _as(client, make_user, "wangfang", ["employee", "purchasing"])
    html = _html(client, "/purchasing/match-exceptions")
    assert f'data-bill="{number}"' in html and 'data-status="price_mismatch"' in html


# ---------------------------------------------------------------------- languages

def test_the_pages_speak_chinese_and_english(app, make_user, database, shop):
    zh = _as(app.test_client(), make_user, "wangfang", ["employee", "purchasing"])
    html = _html(zh, "/purchasing/suppliers")
    assert "供应商" in html and "合格" in html and "询价单" in html and "采购申请" in html
    en = _as(app.test_client(), make_user, "tom", ["employee", "purchasing"], locale="en")
    html = _html(en, "/purchasing/suppliers")
    assert "Suppliers" in html and "Qualified" in html and "Requests for quotation" in html
    assert "New requisition" in _html(en, "/purchasing/requisitions")

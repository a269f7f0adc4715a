"""The CRM pages: customers (a sales rep sees only theirs), masking of contacts, the duplicate warning, activities
and the pipeline's kanban board."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from erp.crm.models import Activity, Customer, Opportunity
from tests.webapp.conftest import login
from tests.webapp.erp_pages import load_company


@pytest.fixture
def company(database):
    load_company(database)


def _customer_id(database, code):
    with database.transaction() as session:
        return session.scalar(select(Customer.id).where(Customer.code == code))


def _opportunity(database, title):
    with database.transaction() as session:
        o = session.scalar(select(Opportunity).where(Opportunity.title == title))
        return o.id, o.stage


@pytest.fixture
def rep(client, make_user, company):
    login(client, make_user("zhaoqiang", roles=["employee", "sales"]))
    return client


@pytest.fixture
def manager(client, make_user, company):
    login(client, make_user("zhangwei", roles=["employee", "manager"]))
    return client


def test_a_sales_rep_sees_only_their_own_customers(rep):
    html = rep.get("/crm/customers").get_data(as_text=True)
    assert "北京鑫源百货有限公司" in html and "北京康宁酒店管理有限公司" in html
    assert "天津海润食品有限公司" not in html


def test_a_manager_sees_every_customer_and_can_search(manager):
    html = manager.get("/crm/customers").get_data(as_text=True)
    assert "天津海润食品有限公司" in html and "北京鑫源百货有限公司" in html
    found = manager.get("/crm/customers?q=海润").get_data(as_text=True)
    assert "天津海润食品有限公司" in found and "北京鑫源百货有限公司" not in found
    tagged = manager.get("/crm/customers?tag=酒店&tier=A").get_data(as_text=True)
    assert "北京康宁酒店管理有限公司" in tagged and "北京鑫源百货有限公司" not in tagged


def test_someone_elses_customer_does_not_exist_for_a_sales_rep(rep, database):
    assert rep.get(f"/crm/customers/{_customer_id(database, 'C-000003')}").status_code == 404
    response = rep.post(f"/crm/customers/{_customer_id(database, 'C-000003')}/activities",
                        data={"kind": "call", "subject": "x"})
    assert response.status_code == 404


def test_contacts_are_masked_for_a_sales_rep(rep, database):
    html = rep.get(f"/crm/customers/{_customer_id(database, 'C-000001')}").get_data(as_text=True)
    assert "139****2201" in html and "13901012201" not in html
    assert "zhoujg@xinyuan.example.cn" not in html
    assert "拜访周总，洽谈春节礼盒" in html  # the timeline


def test_contacts_are_shown_to_a_manager(manager, database):
    html = manager.get(f"/crm/customers/{_customer_id(database, 'C-000001')}").get_data(as_text=True)
    assert "13901012201" in html and "zhoujg@xinyuan.example.cn" in html and "周建国" in html


@pytest.mark.parametrize("role", ["warehouse", "finance", "employee", "analyst"])
def test_roles_without_crm_are_refused(client, make_user, role):
    login(client, make_user(f"only_{role}", roles=[role]))
    for path in ("/crm/customers", "/crm/pipeline", "/crm/customers/1"):
        assert client.get(path).status_code == 403, path


def test_an_administrator_may_look_but_not_edit(client, make_user, company):
    login(client, make_user("root", roles=["administrator"]))
    assert client.get("/crm/customers").status_code == 200
    assert client.get("/crm/pipeline").status_code == 200
    assert client.get("/crm/customers/new").status_code == 403


def test_a_likely_duplicate_is_warned_about_and_can_be_created_anyway(rep, database):
    form = {"name_zh": "北京鑫源百货有限公司", "tier": "B", "phone": "010-6588 1201"}
    warned = rep.post("/crm/customers/new", data=form)
    assert warned.status_code == 409
    html = warned.get_data(as_text=True)
    assert 'id="duplicate-warning"' in html and "C-000001" in html and 'name="confirm_duplicate"' in html
    created = rep.post("/crm/customers/new", data={**form, "confirm_duplicate": "1"})
    assert created.status_code == 302
    with database.transaction() as session:
        rows = session.scalars(select(Customer).where(Customer.name_zh == "北京鑫源百货有限公司")).all()
        assert len(rows) == 2
        assert {c.sales_rep for c in rows} == {"zhaoqiang"}
    assert rep.get(created.headers["Location"]).status_code == 200


def test_a_new_customer_with_a_bad_credit_code_is_refused(rep):
    response = rep.post("/crm/customers/new",
                        data={"name_zh": "北京新新科技有限公司", "tax_number": "91110105MA01A2B3C"})
    assert response.status_code == 422
    assert 'data-error-for="tax_number"' in response.get_data(as_text=True)


def test_logging_an_activity_puts_it_on_the_timeline(rep, database):
    cid = _customer_id(database, "C-000002")
    response = rep.post(f"/crm/customers/{cid}/activities",
                        data={"kind": "visit", "subject": "上门送样品", "notes": "厨师长试用"})
    assert response.status_code == 302
    follow_up = rep.post(f"/crm/customers/{cid}/activities",
                         data={"kind": "call", "subject": "回访试用结果", "due": "2030-01-15"})
    assert follow_up.status_code == 302
    html = rep.get(f"/crm/customers/{cid}").get_data(as_text=True)
    assert "上门送样品" in html and "回访试用结果" in html
    with database.transaction() as session:
        done = session.scalar(select(Activity).where(Activity.subject == "上门送样品"))
        due = session.scalar(select(Activity).where(Activity.subject == "回访试用结果"))
        assert done.done_at is not None and due.done_at is None and due.due_at is not None


def test_the_board_shows_the_stages_with_their_totals(manager):
    html = manager.get("/crm/pipeline").get_data(as_text=True)
    for stage in ("prospecting", "qualification", "proposal", "negotiation", "won", "lost"):
        assert f'data-stage="{stage}"' in html
    assert "春节礼盒团购（茶叶、白酒）" in html and "¥186,000.00" in html
    assert 'type="application/json" id="chart-pipeline"' in html


def test_a_sales_rep_sees_only_their_own_cards(rep):
    html = rep.get("/crm/pipeline").get_data(as_text=True)
    assert "春节礼盒团购（茶叶、白酒）" in html and "天津区域粮油代理" not in html


def test_moving_a_card_to_lost_needs_a_reason(rep, database):
    oid, stage = _opportunity(database, "中央厨房大米、食用油年度采购")
    refused = rep.post(f"/crm/opportunities/{oid}/move", data={"stage": "lost", "lost_reason": ""})
    assert refused.status_code == 422
    assert _opportunity(database, "中央厨房大米、食用油年度采购")[1] == stage
    moved = rep.post(f"/crm/opportunities/{oid}/move", data={"stage": "lost", "lost_reason": "预算取消"})
    assert moved.status_code == 302
    assert _opportunity(database, "中央厨房大米、食用油年度采购")[1] == "lost"


def test_moving_a_card_forward(rep, database):
    oid, _ = _opportunity(database, "中央厨房大米、食用油年度采购")
    assert rep.post(f"/crm/opportunities/{oid}/move", data={"stage": "proposal"}).status_code == 302
    assert _opportunity(database, "中央厨房大米、食用油年度采购")[1] == "proposal"


def test_a_sales_rep_cannot_move_someone_elses_card(rep, database):
    oid, stage = _opportunity(database, "天津区域粮油代理")
    assert rep.post(f"/crm/opportunities/{oid}/move", data={"stage": "proposal"}).status_code == 404
    assert _opportunity(database, "天津区域粮油代理")[1] == stage


def test_the_demo_has_no_duplicate_customers(database, company):
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 8

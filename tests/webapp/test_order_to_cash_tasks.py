"""Order-to-cash steps worked in the browser: the credit manager sees the figures the decision rests on, and
the warehouse ships part of the reserved stock through the lines table the form fills in."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from core import clock, db
from core.calendar import BEIJING
from engine import queries
from engine.deploy import read_paths
from erp.crm.services import update_customer
from erp.sales import services
from erp.sales.models import SalesOrder
from tests.conftest import ROOT
from tests.sales_data import customer, shop
from tests.webapp.conftest import login

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING)


@pytest.fixture
def engine(product_engine):
    return product_engine


@pytest.fixture
def order_in_flight(database, engine, make_user):
    make_user("zhaoqiang", roles=["employee", "sales"], groups=["sales"])
    make_user("lina", roles=["employee", "manager"], groups=["credit_manager"])
    make_user("wangjun", roles=["employee", "warehouse"], groups=["warehouse"])

    def start(credit_limit="100000.00"):
        with clock.frozen(MONDAY), db.transaction() as session:
            engine.deploy(session, read_paths([ROOT / "bpmn"]))
            shop(session)
            buyer = customer(session, credit_limit=credit_limit)
            update_customer(session, buyer.id, sales_rep="zhaoqiang", by="tester")
            number = services.create_quotation(session, customer="C001", lines=[
                {"sku": "A", "quantity": 10}, {"sku": "B", "quantity": 4}], sales_rep="zhaoqiang").number
            instance = engine.start(session, "order_to_cash", {"quotation": number, "requester": "zhaoqiang"},
                                    business_key=number, user="zhaoqiang")
            [task] = queries.tasks(session, instance_id=instance.id)
            return instance.id, task["id"]
    return start


def _order(database):
    with db.transaction() as session:
        order = session.scalars(select(SalesOrder)).one()
        return order.status, {line.line_no: line.delivered for line in order.lines}


def test_the_credit_manager_sees_the_exposure_and_the_limit(client, order_in_flight):
    _instance_id, task_id = order_in_flight(credit_limit="100.00")
    login(client, "lina")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    context = html[html.index('id="task-context"'):html.index('id="task-form"')]
    assert "风险敞口" in context and "¥354.98" in context  # 113.00 + 4 × 55.50 × 1.09
    assert "信用额度" in context and "¥100.00" in context and "超出信用额度" in context
    response = client.post(f"/tasks/{task_id}/complete", data={"credit_decision": "approve"}, follow_redirects=True)
    assert response.status_code == 200
    assert _order(None)[0] == "open"


def test_the_warehouse_ships_part_of_the_order_and_gets_the_task_again_for_the_rest(client, order_in_flight):
    _instance_id, task_id = order_in_flight()
    login(client, "wangjun")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    # the form lists the reserved lines: A × 10 and B × 4
    assert re.search(r'name="delivery_lines-0-sku"[^>]*value="A"', html), html
    assert re.search(r'name="delivery_lines-1-quantity"[^>]*value="4(\.000)?"', html)
    response = client.post(f"/tasks/{task_id}/complete", data={
        "delivery_lines-0-sku": "A", "delivery_lines-0-quantity": "6",
        "delivery_lines-1-sku": "B", "delivery_lines-1-quantity": "4", "delivery_lines-1-_delete": "1",
        "delivery_note": "第一车"}, follow_redirects=True)
    assert response.status_code == 200
    status, delivered = _order(None)
    assert status == "partially_delivered" and delivered == {1: 6, 2: 0}
    with db.transaction() as session:
        [task] = queries.tasks(session, status="open")
    html = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert re.search(r'name="delivery_lines-0-quantity"[^>]*value="4(\.000)?"', html)  # A: 10 − 6

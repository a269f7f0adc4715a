"""Factories for the personal-information tests: the officers, a customer with a contact, a customer who is a
natural person with a month of sales, and an engine with the privacy diagrams deployed."""
from __future__ import annotations

from datetime import date

from engine.deploy import read_paths
from erp.crm.services import add_contact, create_customer
from erp.identity.services import ensure_user
from erp.privacy.services import OFFICERS
from erp.sales import fulfilment, payments, services
from tests.conftest import ROOT
from tests.sales_data import shop

#: the person in charge of personal-information protection, the general manager leading the group, an admin
OFFICER, LEAD, ADMIN = "zhoumin", "liuyang", "admin"


def deploy_privacy(engine, session) -> None:
    engine.deploy(session, read_paths([ROOT / "bpmn" / "privacy"]))


def people(session) -> None:
    ensure_user(session, OFFICER, "周敏", email="zhoumin@example.cn", groups=[OFFICERS],
                roles=["employee", "privacy_officer"])
    ensure_user(session, LEAD, "刘洋", email="liuyang@example.cn", lead_of=[OFFICERS], roles=["employee", "manager"])
    ensure_user(session, ADMIN, "系统管理员", email="admin@example.cn", roles=["administrator"])
    ensure_user(session, "wangfang", "王芳", email="wangfang@example.cn", roles=["employee"])


def contact(session, *, mobile="13812345678", email="lixiaohong@huadong.example.cn"):
    """李小红 at 华东贸易 (C-000100)."""
    customer = create_customer(session, name_zh="华东贸易有限公司", code="C100", by="tester")
    return add_contact(session, customer.id, contact_name="李小红", title="采购经理", mobile=mobile, email=email,
                       is_primary=True)


def private_customer_with_sales(session):
    """王小明, a natural person buying for himself, with an order delivered, invoiced and paid in part."""
    shop(session)
    customer = create_customer(session, name_zh="王小明", code="C200", phone="13900001111",
                               address="北京市朝阳区建国路 1 号", by="tester")
    add_contact(session, customer.id, contact_name="王小明", mobile="13900001111", email="wxm@example.cn",
                is_primary=True)
    order = services.create_order(session, customer="C200", order_date=date(2026, 3, 3),
                                  lines=[{"sku": "A", "quantity": "10"}])
    services.reserve_order(session, order)
    fulfilment.deliver(session, order, delivery_date=date(2026, 3, 4))
    invoice = fulfilment.invoice_order(session, order, issue_date=date(2026, 3, 5))
    payments.record_payment(session, invoice.number, "50.00", received_on=date(2026, 3, 20), payer="王小明",
                            memo="王小明 货款")
    return customer

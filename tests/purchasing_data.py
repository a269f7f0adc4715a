"""Small factories for purchasing tests: qualified suppliers with contacts, and an approved requisition
ordered from one of them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from erp.finance.services import ensure_chart
from erp.purchasing import orders, services
from tests.stock_data import product, warehouse

M = Decimal



def credit_code(region: str = "110108", body: str = "MA01XJ8E5") -> str:
    from erp.crm.validation import credit_code_check_char

    first = f"91{region}{body}"
    return first + credit_code_check_char(first)


def supplier(session, code="S-000001", name_zh="上海精工五金有限公司", qualified=True, email="sales@jinggong.cn",
             terms=30, **fields):
    found = services.create_supplier(session, name_zh=name_zh, code=code, payment_terms_days=terms, by="tester",
                                     **fields)
    if qualified:
        services.set_qualification(session, found, "qualified")
    if email:
        services.add_supplier_contact(session, found.id, contact_name="刘洋", email=email, mobile="13812345678",
                                      is_primary=True)
    return found


def goods(session):
    """The chart, warehouse BJ-01 and products A (13 %) and B (9 %), both of category 五金."""
    ensure_chart(session)
    warehouse(session)
    product(session, "A", name_zh="螺丝", name_en="Screw", category="五金")
    product(session, "B", name_zh="螺母", name_en="Nut", vat_rate="0.09", category="五金")


def approved(session, lines, **kwargs):
    requisition = services.create_requisition(session, requester="lina", lines=lines, **kwargs)
    services.submit_requisition(session, requisition)
    return services.set_requisition_status(session, requisition, "approved")


def order(session, lines=None, supplier_code="S-000001", order_date=date(2026, 3, 2), expected_date=None,
          buyer="wangfang"):
    """A purchase order (default: A 10 at 10.00, B 4 at 25.00) from an approved requisition."""
    lines = lines or [{"sku": "A", "quantity": "10", "estimated_unit_price": "10.00"},
                      {"sku": "B", "quantity": "4", "estimated_unit_price": "25.00"}]
    return orders.create_order(session, approved(session, lines), supplier_code, order_date=order_date,
                               expected_date=expected_date, buyer=buyer)

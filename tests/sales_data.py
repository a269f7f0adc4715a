"""Small factories for sales tests: a customer, products with stock and a default price list."""
from __future__ import annotations

from decimal import Decimal

from erp.catalog.services import create_price_list, set_price
from erp.crm.services import create_customer
from erp.finance.services import ensure_chart
from erp.inventory.services import receive
from tests.stock_data import product, warehouse

M = Decimal


def customer(session, code="C001", name_zh="北京华联商贸有限公司", credit_limit="100000.00", terms=30):
    return create_customer(session, name_zh=name_zh, code=code, credit_limit=M(credit_limit),
                           payment_terms_days=terms, by="tester")


def shop(session, stock=None):
    """The chart, warehouse BJ-01, products A (13 %, cost 6), B (9 %, cost 40), S (6 %, no stock), prices on
    the default list (A 10.00, B 55.50, S 200.00) and `stock` ({sku: quantity}, default A 100, B 10)."""
    ensure_chart(session)
    warehouse(session)
    product(session, "A", name_zh="螺丝", name_en="Screw")
    product(session, "B", name_zh="大米", name_en="Rice", vat_rate="0.09")
    product(session, "S", name_zh="安装服务", name_en="Installation", vat_rate="0.06")
    create_price_list(session, name="标准价", is_default=True)
    for sku, price in (("A", "10.00"), ("B", "55.50"), ("S", "200.00")):
        set_price(session, "标准价", sku, price)
    costs = {"A": "6.00", "B": "40.00", "S": "100.00"}
    for sku, qty in (stock if stock is not None else {"A": 100, "B": 10}).items():
        if qty:
            receive(session, sku, "BJ-01", qty, unit_cost=costs[sku])

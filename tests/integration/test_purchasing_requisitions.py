"""Requisitions: by hand, from reorder points (once per warehouse, not twice while open) and from a
backordered sales order (not twice); services are refused; RFQs with their comparison and award."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as M

import pytest

from core.errors import InvalidInput
from erp.inventory.services import receive, set_reorder_point
from erp.purchasing import orders, receiving, rfqs, services
from erp.sales import services as sales
from tests.purchasing_data import approved, goods, order, supplier
from tests.sales_data import customer
from tests.stock_data import product, warehouse


def test_a_manual_requisition_is_estimated_at_the_last_price_else_the_average_cost(tx):
    with tx() as session:
        goods(session)
        receive(session, "B", "BJ-01", 5, unit_cost="20.50")
        req = services.create_requisition(session, requester="lina", department="仓储部",
                                          lines=[{"sku": "A", "quantity": "100", "estimated_unit_price": "1.10"},
                                                 {"sku": "B", "quantity": "10"}])
        assert (req.number[:4], req.number[-6:], req.status, req.source) == ("REQ-", "-00001", "draft", "manual")
        assert [x.estimated_unit_price for x in req.lines] == [M("1.10"), M("20.50")]
        assert req.estimated_total == M("124.30") + M("223.45")  # 110 + 13 % VAT, 205 + 9 % VAT
        services.submit_requisition(session, req)
        services.set_requisition_status(session, req, "rejected")
        with pytest.raises(InvalidInput):
            services.set_requisition_status(session, req, "approved")


def test_services_are_not_purchased_through_procurement(tx):
    with tx() as session:
        goods(session)
        product(session, "S", name_zh="安装服务", name_en="Installation", stocked=False)
        with pytest.raises(InvalidInput, match="services are not purchased through procurement yet"):
            services.create_requisition(session, requester="lina", lines=[{"sku": "S", "quantity": "1"}])


def test_reorder_points_make_one_requisition_per_warehouse_and_not_twice_while_open(tx):
    with tx() as session:
        goods(session)
        warehouse(session, "SH-01", name_zh="上海仓", name_en="Shanghai")
        set_reorder_point(session, "A", "BJ-01", 50, 200)
        set_reorder_point(session, "B", "BJ-01", 10, 40)
        set_reorder_point(session, "A", "SH-01", 5, 20)
        receive(session, "A", "SH-01", 30, unit_cost="1.00")  # above its reorder point there
        made = services.requisition_for_reorder_points(session)
        assert len(made) == 1
        req = made[0]
        assert (req.status, req.source, req.source_reference) == ("submitted", "reorder_point", "BJ-01/A,B")
        assert sorted(x.quantity for x in req.lines) == [M(40), M(200)]
        assert services.requisition_for_reorder_points(session) == []
        services.set_requisition_status(session, req, "rejected")
        assert len(services.requisition_for_reorder_points(session)) == 1


def test_a_backordered_sales_order_gets_one_requisition_for_what_it_lacks(tx):
    with tx() as session:
        goods(session)
        customer(session)
        receive(session, "A", "BJ-01", 3, unit_cost="8.00")
        so = sales.create_order(session, customer="C001", lines=[{"sku": "A", "quantity": "10", "unit_price": "12"},
                                                                 {"sku": "B", "quantity": "2", "unit_price": "30"}])
        assert sales.reserve_order(session, so)["status"] == "backordered"
        req = services.requisition_for_backorder(session, so.number)
        assert (req.source, req.source_reference, req.status) == ("backorder", so.number, "submitted")
        assert {(x.product_id, x.quantity) for x in req.lines} == {(so.lines[0].product_id, M(7)),
                                                                   (so.lines[1].product_id, M(2))}
        assert services.requisition_for_backorder(session, so.number) is None


def test_a_receipt_releases_the_backordered_sales_orders_oldest_first(tx):
    with tx() as session:
        goods(session)
        customer(session)
        supplier(session)
        first = sales.create_order(session, customer="C001", order_date=date(2026, 3, 1),
                                   lines=[{"sku": "A", "quantity": "5", "unit_price": "12"}])
        second = sales.create_order(session, customer="C001", order_date=date(2026, 3, 2),
                                    lines=[{"sku": "A", "quantity": "2", "unit_price": "12"}])
        other = sales.create_order(session, customer="C001", order_date=date(2026, 3, 2),
                                   lines=[{"sku": "B", "quantity": "1", "unit_price": "30"}])
        for so in (first, second, other):
            sales.reserve_order(session, so)
        req = services.requisition_for_backorder(session, first)
        services.set_requisition_status(session, req, "approved")
        po = orders.create_order(session, req, "S-000001")
        receipt = receiving.receive(session, po, [{"sku": "A", "quantity": "5"}])
        assert receiving.backorders_released(session, receipt) == [first.number, second.number]


def test_an_rfq_invites_qualified_suppliers_compares_their_quotes_and_is_awarded(tx):
    with tx() as session:
        goods(session)
        supplier(session, "S-000001", name_zh="上海精工五金有限公司", category="五金")
        supplier(session, "S-000002", name_zh="天津标准件厂", email="sales@tjbz.cn", category="五金")
        supplier(session, "S-000003", name_zh="广州紧固件有限公司", email="sales@gzjg.cn")
        supplier(session, "S-000004", name_zh="未审核供应商", qualified=False)
        req = approved(session, [{"sku": "A", "quantity": "100"}, {"sku": "B", "quantity": "10"}])
        rfq = rfqs.create_rfq(session, req, ["S-000001", "S-000002", "S-000003"], reply_by=date(2026, 3, 9))
        for code, a, b, days in (("S-000001", "1.20", "2.00", 5), ("S-000002", "1.00", "2.10", 10),
                                 ("S-000003", "1.50", "1.00", 3)):
            rfqs.record_quote(session, rfq, code, [{"sku": "A", "unit_price": a}, {"sku": "B", "unit_price": b}],
                              lead_time_days=days)
        rfqs.record_quote(session, rfq, "S-000001", [{"sku": "A", "unit_price": "1.05"},
                                                     {"sku": "B", "unit_price": "2.00"}])  # replaces its first
        table = rfqs.comparison(session, rfq)
        cheapest = [s["code"] for s in table["suppliers"] if s["cheapest"]]
        assert cheapest == ["S-000002"]  # 100 + 21 = 121 net, against 125 and 160
        assert table["lines"][0]["quotes"] == {"S-000001": M("1.05"), "S-000002": M("1.00"), "S-000003": M("1.50")}
        with pytest.raises(InvalidInput):
            rfqs.record_quote(session, rfq, "S-000004", [{"sku": "A", "unit_price": "0.5"}])
        rfqs.award(session, rfq, "S-000002")
        po = orders.create_order(session, req, rfq=rfq)
        assert (po.supplier_id, [x.unit_price for x in po.lines]) == (rfq.awarded_supplier_id, [M("1.00"), M("2.10")])
        assert req.status == "ordered"


def test_by_default_an_rfq_goes_to_suppliers_of_the_category_and_needs_two_qualified(tx):
    with tx() as session:
        goods(session)
        supplier(session, "S-000001", category="五金")
        supplier(session, "S-000002", name_zh="天津标准件厂", qualified=False)
        req = approved(session, [{"sku": "A", "quantity": "100"}])
        with pytest.raises(InvalidInput, match="at least 2 qualified suppliers"):
            rfqs.create_rfq(session, req)
        services.set_qualification(session, "S-000002", "qualified")
        supplier(session, "S-000003", name_zh="广州紧固件有限公司", category="五金")
        rfq = rfqs.create_rfq(session, req)
        assert sorted(session.get(type(services.find_supplier(session, "S-000001")), x.supplier_id).code
                      for x in rfq.suppliers) == ["S-000001", "S-000003"]


def test_an_order_refuses_a_supplier_that_is_not_qualified(tx):
    with tx() as session:
        goods(session)
        supplier(session, "S-000001", qualified=False)
        with pytest.raises(InvalidInput, match="not qualified"):
            order(session)

"""Quotations and orders: prices and totals, the discount for the approval, reservation with backorders,
partial deliveries posting the cost of sales, cancelling and closing."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from erp.finance.queries import trial_balance
from erp.inventory.models import StockReservation
from erp.inventory.queries import available
from erp.sales import fulfilment, services
from erp.sales.queries import order_detail, orders, quotations
from tests.sales_data import customer, shop
from tests.stock_data import assert_stock_consistent

M = Decimal


def quote(session, lines=None, **fields):
    return services.create_quotation(session, customer="C001", lines=lines or [
        {"sku": "A", "quantity": "30"}, {"sku": "B", "quantity": "4", "discount_percent": "10"}], **fields)


def accepted_order(session, lines=None, **fields):
    quotation = quote(session, lines, **fields)
    services.set_quotation_status(session, quotation, "sent")
    services.set_quotation_status(session, quotation, "accepted")
    return services.create_order_from_quotation(session, quotation, by="wang")


@pytest.fixture
def shop_tx(tx):
    with tx() as session:
        shop(session)
        customer(session)
    return tx


def test_a_quotation_prices_from_the_default_list_with_vat_per_product(shop_tx):
    with shop_tx() as session:
        q = quote(session, discount_percent="5")
        assert q.number.startswith("QT-") and q.number.endswith("-00001") and q.status == "draft"
        a, b = q.lines
        assert (a.unit_price, a.vat_rate, a.net, a.vat) == (M("10.00"), M("0.13"), M("285.00"), M("37.05"))
        # 4 × 55.50 × 0.9 × 0.95 = 189.81; 9 % VAT = 17.0829 → 17.08
        assert (b.unit_price, b.vat_rate, b.net, b.vat) == (M("55.50"), M("0.09"), M("189.81"), M("17.08"))
        assert (q.net_total, q.vat_total, q.gross_total) == (M("474.81"), M("54.13"), M("528.94"))
        assert services.max_discount_percent(q) == M("14.50")


def test_a_given_unit_price_wins_and_bad_lines_are_refused_together(shop_tx):
    with shop_tx() as session:
        q = quote(session, [{"sku": "S", "quantity": "1", "unit_price": "180.00"}])
        assert (q.net_total, q.vat_total) == (M("180.00"), M("10.80"))
        with pytest.raises(InvalidInput) as refused:
            quote(session, [{"sku": "NOPE", "quantity": "1"}, {"sku": "A", "quantity": "-1"},
                            {"sku": "B", "quantity": "1", "discount_percent": "120"}])
        assert set(refused.value.errors) == {"lines[0].sku", "lines[1].quantity", "lines[2].discount_percent"}


def test_quotation_statuses_move_only_forward_and_expire(shop_tx):
    from datetime import date
    with shop_tx() as session:
        q = quote(session, quote_date=date(2026, 3, 1), valid_until=date(2026, 3, 10))
        services.set_quotation_status(session, q, "sent")
        with pytest.raises(InvalidInput):
            services.create_order_from_quotation(session, q)
        assert services.expire_quotations(session, date(2026, 3, 11)) == [q.number]
        with pytest.raises(InvalidInput):
            services.set_quotation_status(session, q, "accepted")
        assert [r["status"] for r in quotations(session, customer="C001")] == ["expired"]


def test_an_order_with_full_stock_is_reserved_and_delivered_in_parts_at_average_cost(shop_tx):
    with shop_tx() as session:
        order = accepted_order(session)
        assert order.quotation_id is not None and order.gross_total == M("556.78")
        result = services.reserve_order(session, order)
        assert result["shortages"] == [] and order.status == "open"
        assert available(session, "A") == M("70")
        first = fulfilment.deliver(session, order, [{"sku": "A", "quantity": "10"}], by="li")
        assert first.cost_total == M("60.00") and order.status == "partially_delivered"
        second = fulfilment.deliver(session, order)
        assert second.cost_total == M("280.00")  # 20 × 6 + 4 × 40
        assert order.status == "delivered"
        assert_stock_consistent(session)
        tb = {r["code"]: r["balance"] for r in trial_balance(session)["accounts"]}
        assert tb["5401"] == M("340.00") and tb["1405"] == M("-340.00")  # receipts are not posted by inventory
        with pytest.raises(InvalidInput):
            fulfilment.deliver(session, order, [{"sku": "A", "quantity": "1"}])


def test_a_shortage_backorders_the_line_and_a_later_receipt_fills_it(shop_tx):
    from erp.inventory.services import receive
    with shop_tx() as session:
        order = accepted_order(session, [{"sku": "A", "quantity": "5"}, {"sku": "B", "quantity": "25"}])
        result = services.reserve_order(session, order)
        assert order.status == "backordered"
        assert result["shortages"] == [{"sku": "B", "requested": M("25"), "available": M("10"), "short": M("15")}]
        assert [(x.reserved, x.quantity) for x in order.lines] == [(M("5"), M("5")), (M("10"), M("25"))]
        fulfilment.deliver(session, order)
        assert order.status == "partially_delivered"
        receive(session, "B", "BJ-01", 20, unit_cost="46.00")
        assert services.reserve_order(session, order)["shortages"] == []
        delivery = fulfilment.deliver(session, order)
        assert delivery.cost_total == M("690.00")  # 15 × 46 (the average of the 20 received)
        assert order.status == "delivered" and order_detail(session, order.number)["lines"][1]["delivered"] == M("25")
        assert_stock_consistent(session)


def test_cancelling_releases_the_reservations_and_a_delivered_order_cannot_be_cancelled(shop_tx):
    with shop_tx() as session:
        order = accepted_order(session)
        services.reserve_order(session, order)
        services.cancel_order(session, order)
        assert order.status == "cancelled" and available(session, "A") == M("100")
        assert {r.status for r in session.scalars(select(StockReservation))} == {"released"}
        other = services.create_order(session, customer="C001", lines=[{"sku": "A", "quantity": "2"}])
        services.reserve_order(session, other)
        fulfilment.deliver(session, other)
        with pytest.raises(InvalidInput):
            services.cancel_order(session, other)
        assert [o["status"] for o in orders(session)] == ["cancelled", "delivered"]


def test_closing_needs_the_deliveries_invoiced_and_gives_up_the_backorder(shop_tx):
    with shop_tx() as session:
        order = services.create_order(session, customer="C001", lines=[{"sku": "B", "quantity": "12"}])
        services.reserve_order(session, order)
        fulfilment.deliver(session, order, [{"sku": "B", "quantity": "6"}])
        with pytest.raises(InvalidInput):
            services.close_order(session, order)
        fulfilment.invoice_order(session, order)
        services.close_order(session, order)
        assert order.status == "closed" and available(session, "B") == M("4")
        assert_stock_consistent(session)

"""Discounts given on a quotation, in money: what order-to-cash sends for approval (document type
`sales_discount`), and bringing a quotation back within the discount amount an approver allowed.
Take a session, never commit."""
from __future__ import annotations

from decimal import Decimal

from core.errors import InvalidInput
from erp.sales import pricing
from erp.sales.models import Quotation
from erp.sales.services import find_quotation, max_discount_percent

CENT = Decimal("0.01")


def list_gross(quotation: Quotation) -> Decimal:
    """The gross (价税合计) the quotation would have at list prices, without any discount."""
    return sum((pricing.line_amounts(x.quantity, x.unit_price, x.vat_rate).gross for x in quotation.lines),
               pricing.ZERO)


def discount_amount(quotation: Quotation) -> Decimal:
    """How much the customer is given, gross: list gross − quoted gross."""
    return list_gross(quotation) - quotation.gross_total


def summary(session, quotation) -> dict:
    """What the order-to-cash diagram decides on: the customer, the totals, the largest discount in per cent
    and the discount in money."""
    from erp.crm.models import Customer

    quotation = find_quotation(session, quotation)
    customer = session.get(Customer, quotation.customer_id)
    return {"quotation": quotation.number, "status": quotation.status, "customer": customer.code,
            "customer_name": customer.name_zh, "customer_tier": customer.tier, "sales_rep": quotation.sales_rep,
            "net_total": quotation.net_total, "gross_total": quotation.gross_total,
            "list_gross": list_gross(quotation), "discount_percent": max_discount_percent(quotation),
            "discount_amount": discount_amount(quotation)}


def set_document_discount(quotation: Quotation, percent: Decimal) -> None:
    """Re-price every line under a new document discount (the lines' own discounts stay)."""
    quotation.discount_percent = percent
    for x in quotation.lines:
        amounts = pricing.line_amounts(x.quantity, x.unit_price, x.vat_rate, x.discount_percent, percent)
        x.net, x.vat, x.gross = amounts.net, amounts.vat, amounts.gross
    totals = pricing.totals(quotation.lines)
    quotation.net_total, quotation.vat_total, quotation.gross_total = totals.net, totals.vat, totals.gross


def limit_discount(session, quotation, allowed) -> dict:
    """Bring the quotation's discount within `allowed` (gross CNY) by lowering its document discount to the
    largest percentage (to the hundredth) that fits; the lines' own discounts are not touched, so when they
    alone exceed the allowance the quotation is refused. Returns the discount before and after."""
    quotation = find_quotation(session, quotation)
    allowed = Decimal(str(allowed)).quantize(CENT)
    before = discount_amount(quotation)
    if before <= allowed:
        return {"quotation": quotation.number, "discount_before": before, "discount_after": before,
                "document_discount_percent": quotation.discount_percent, "changed": False}
    low, high = 0, int(quotation.discount_percent * 100)  # in hundredths of a per cent; low always fits
    set_document_discount(quotation, Decimal(0))
    if discount_amount(quotation) > allowed:
        raise InvalidInput(f"the line discounts of quotation {quotation.number} alone exceed the approved "
                           f"discount of {allowed}", {"discount": ["lower the line discounts"]})
    while low < high:  # the discount grows with the percentage: find the largest that fits
        middle = (low + high + 1) // 2
        set_document_discount(quotation, Decimal(middle) / 100)
        if discount_amount(quotation) <= allowed:
            low = middle
        else:
            high = middle - 1
    set_document_discount(quotation, Decimal(low) / 100)
    session.flush()
    return {"quotation": quotation.number, "discount_before": before, "discount_after": discount_amount(quotation),
            "document_discount_percent": quotation.discount_percent, "changed": True}

"""The three-way match (三单匹配): a supplier invoice against its purchase order and goods receipts. Take a
session, never commit."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.errors import InvalidInput
from erp.purchasing.models import PurchaseOrderLine
from erp.purchasing.receiving import skus_of
from erp.purchasing.services import find_order, find_supplier_invoice

HUNDRED = Decimal(100)
MATCHABLE = ("received", "matched", "exception")


def three_way_match(session, supplier_invoice, *, price_tolerance_percent=Decimal("2"),
                    quantity_tolerance_percent=Decimal("0")) -> dict:
    """Compare each invoice line with its order line: the price with the PO price (a difference beyond
    `price_tolerance_percent` either way is a price mismatch), the quantity invoiced so far on the order line
    with the quantity received (more invoiced than received, beyond `quantity_tolerance_percent` of the
    received quantity, is a quantity mismatch; nothing received at all: not_received). Stores the result on
    the invoice and sets it matched or exception."""
    invoice = find_supplier_invoice(session, supplier_invoice, lock=True)
    if invoice.status not in MATCHABLE:
        raise InvalidInput(f"supplier invoice {invoice.number} is {invoice.status}",
                           {"invoice": ["already decided on"]})
    price_tolerance = Decimal(str(price_tolerance_percent))
    quantity_tolerance = Decimal(str(quantity_tolerance_percent))
    skus = skus_of(session, find_order(session, invoice.order_id))
    lines = []
    for x in invoice.lines:
        line = session.get(PurchaseOrderLine, x.order_line_id)
        diff_percent = _percent(x.unit_price - line.unit_price, line.unit_price)
        quantity_diff = line.invoiced - line.received
        if line.received == 0:
            status = "not_received"
        elif quantity_diff > line.received * quantity_tolerance / HUNDRED:
            status = "quantity_mismatch"
        elif abs(diff_percent) > price_tolerance:
            status = "price_mismatch"
        else:
            status = "ok"
        lines.append({"sku": skus[line.product_id], "ordered": line.quantity, "received": line.received,
                      "invoiced": line.invoiced, "po_price": line.unit_price, "invoice_price": x.unit_price,
                      "price_diff_percent": diff_percent, "quantity_diff": quantity_diff, "status": status})
    difference = invoice.net_total - sum((x.cleared for x in invoice.lines), Decimal("0.00"))
    ok = all(x["status"] == "ok" for x in lines)
    invoice.status = "matched" if ok else "exception"
    result = {"invoice": invoice.number, "ok": ok, "lines": lines, "price_difference": difference,
              "status": invoice.status, "price_tolerance_percent": price_tolerance,
              "quantity_tolerance_percent": quantity_tolerance}
    invoice.match = _stored(result)
    session.flush()
    return result


def _percent(difference: Decimal, base: Decimal) -> Decimal:
    if base == 0:
        return Decimal("0.00") if difference == 0 else HUNDRED
    return (difference / base * HUNDRED).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _stored(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value

"""Quotations (报价单) and sales orders (销售订单): create, move through their statuses, reserve stock, cancel,
close. Take a session, never commit. Deliveries and invoices are in fulfilment.py, money in payments.py."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.catalog.models import Product
from erp.catalog.queries import price_of
from erp.crm.models import Customer
from erp.finance.services import today
from erp.inventory import reservations
from erp.sales import pricing
from erp.sales.models import Quotation, QuotationLine, SalesOrder, SalesOrderLine

QUOTATION_MOVES = {  # status → the statuses it may move to
    "draft": ("sent", "approved", "rejected", "expired"),
    "sent": ("approved", "rejected", "accepted", "expired"),
    "approved": ("sent", "accepted", "rejected", "expired"),
}
VALID_DAYS = 30


def create_quotation(session, *, customer, lines, quote_date: date | None = None, valid_until: date | None = None,
                     sales_rep: str | None = None, discount_percent="0", price_list: str | None = None,
                     by: str | None = None) -> Quotation:
    """A draft quotation. `lines`: [{sku, quantity, unit_price?, discount_percent?}]; a missing unit price
    comes from `price_list` (else the default list) at the line's quantity; the VAT rate from the product."""
    errors: dict[str, list[str]] = {}
    buyer = find_customer(session, customer)
    quote_date = quote_date or today()
    overall = pricing.percent(discount_percent, "discount_percent", errors)
    priced = _priced_lines(session, lines, price_list, quote_date, errors)
    pricing.refuse_if(errors, "the quotation was not saved")
    quotation = Quotation(number=pricing.next_number(session, Quotation, "QT", quote_date), customer_id=buyer.id,
                          quote_date=quote_date, valid_until=valid_until or quote_date + timedelta(days=VALID_DAYS),
                          sales_rep=sales_rep or buyer.sales_rep, price_list=price_list, discount_percent=overall,
                          status="draft", created_at=clock.now(), created_by=by)
    for no, (product, qty, price, discount) in enumerate(priced, start=1):
        amounts = pricing.line_amounts(qty, price, product.vat_rate, discount, overall)
        quotation.lines.append(QuotationLine(line_no=no, product_id=product.id, quantity=qty, unit_price=price,
                                             discount_percent=discount, vat_rate=product.vat_rate,
                                             net=amounts.net, vat=amounts.vat, gross=amounts.gross))
    _set_totals(quotation)
    session.add(quotation)
    session.flush()
    return quotation


def max_discount_percent(quotation: Quotation) -> Decimal:
    """The largest total discount of any line (its own and the document's combined), in per cent: what the
    order-to-cash process compares with the approval threshold of its DMN table."""
    return max((pricing.effective_discount(x.discount_percent, quotation.discount_percent) for x in quotation.lines),
               default=Decimal("0.00"))


def set_quotation_status(session, quotation, status: str) -> Quotation:
    """send, approve, reject, accept or expire a quotation; other moves are refused."""
    quotation = find_quotation(session, quotation)
    if status not in QUOTATION_MOVES.get(quotation.status, ()):
        raise InvalidInput(f"quotation {quotation.number} is {quotation.status} and cannot become {status}",
                           {"status": [f"not allowed from {quotation.status}"]})
    quotation.status = status
    session.flush()
    return quotation


def expire_quotations(session, on: date | None = None) -> list[str]:
    """Mark every quotation still open after its last valid day as expired; returns their numbers."""
    on = on or today()
    stale = session.scalars(select(Quotation).where(Quotation.status.in_(list(QUOTATION_MOVES)),
                                                    Quotation.valid_until < on)).all()
    for quotation in stale:
        quotation.status = "expired"
    session.flush()
    return [q.number for q in stale]


def create_order_from_quotation(session, quotation, *, order_date: date | None = None,
                                by: str | None = None) -> SalesOrder:
    """The order for an accepted quotation, with its lines, prices and discounts (at most one order each)."""
    quotation = find_quotation(session, quotation)
    if quotation.status != "accepted":
        raise InvalidInput(f"quotation {quotation.number} is {quotation.status}, not accepted",
                           {"quotation": ["only an accepted quotation becomes an order"]})
    if session.scalar(select(SalesOrder.number).where(SalesOrder.quotation_id == quotation.id)):
        raise InvalidInput(f"quotation {quotation.number} already has an order", {"quotation": ["already ordered"]})
    order = _new_order(session, quotation.customer_id, order_date, quotation.sales_rep, quotation.discount_percent,
                       by)
    order.quotation_id = quotation.id
    for x in quotation.lines:
        order.lines.append(SalesOrderLine(line_no=x.line_no, product_id=x.product_id, quantity=x.quantity,
                                          unit_price=x.unit_price, discount_percent=x.discount_percent,
                                          vat_rate=x.vat_rate, net=x.net, vat=x.vat, gross=x.gross,
                                          reserved=Decimal(0), delivered=Decimal(0), invoiced=Decimal(0),
                                          delivered_cost=Decimal("0.00")))
    _set_totals(order)
    session.add(order)
    session.flush()
    return order


def create_order(session, *, customer, lines, order_date: date | None = None, discount_percent="0",
                 price_list: str | None = None, sales_rep: str | None = None, by: str | None = None) -> SalesOrder:
    """An order without a quotation; lines as for create_quotation."""
    errors: dict[str, list[str]] = {}
    buyer = find_customer(session, customer)
    order_date = order_date or today()
    overall = pricing.percent(discount_percent, "discount_percent", errors)
    priced = _priced_lines(session, lines, price_list, order_date, errors)
    pricing.refuse_if(errors, "the order was not saved")
    order = _new_order(session, buyer.id, order_date, sales_rep or buyer.sales_rep, overall, by)
    for no, (product, qty, price, discount) in enumerate(priced, start=1):
        amounts = pricing.line_amounts(qty, price, product.vat_rate, discount, overall)
        order.lines.append(SalesOrderLine(line_no=no, product_id=product.id, quantity=qty, unit_price=price,
                                          discount_percent=discount, vat_rate=product.vat_rate, net=amounts.net,
                                          vat=amounts.vat, gross=amounts.gross, reserved=Decimal(0),
                                          delivered=Decimal(0), invoiced=Decimal(0),
                                          delivered_cost=Decimal("0.00")))
    _set_totals(order)
    session.add(order)
    session.flush()
    return order


def reserve_order(session, order, warehouse: str | None = None) -> dict:
    """Reserve what each line still lacks (ordered − delivered − reserved), as much as there is: a line that
    cannot be covered keeps what it got and the order becomes backordered (not an error). Returns
    {"reserved": [{sku, quantity}], "shortages": [{sku, requested, available, short}], "status"}."""
    order = find_order(session, order, lock=True)
    _require_status(order, ("open", "backordered", "partially_delivered"), "reserve stock for")
    skus = _skus(session, order)
    services_ = unstocked(session, order)
    reserved, shortages = [], []
    for line in order.lines:
        need = line.quantity - line.delivered - line.reserved
        if need <= 0 or line.product_id in services_:  # a service is delivered without stock
            continue
        sku = skus[line.product_id]
        result = reservations.reserve(session, reference(order), [{"sku": sku, "quantity": need}], warehouse)
        got = need
        if not result.reserved:
            shortage = result.shortages[0]
            shortages.append(shortage)
            got = shortage["available"]
            if got > 0:
                reservations.reserve(session, reference(order), [{"sku": sku, "quantity": got}], warehouse)
        if got > 0:
            line.reserved += got
            reserved.append({"sku": sku, "quantity": got})
    if shortages and order.status == "open":
        order.status = "backordered"
    elif not shortages and order.status == "backordered":
        order.status = "open"
    session.flush()
    return {"reserved": reserved, "shortages": shortages, "status": order.status}


def cancel_order(session, order) -> SalesOrder:
    """Cancel an order nothing of which was delivered; its reservations are released."""
    order = find_order(session, order, lock=True)
    _require_status(order, ("open", "backordered"), "cancel")
    reservations.release(session, reference(order))
    for line in order.lines:
        line.reserved = Decimal(0)
    order.status = "cancelled"
    session.flush()
    return order


def close_order(session, order) -> SalesOrder:
    """Close an order once all it delivered is invoiced; what is still reserved is released (a remaining
    backorder is given up)."""
    order = find_order(session, order, lock=True)
    _require_status(order, ("partially_delivered", "delivered", "invoiced"), "close")
    if any(x.invoiced < x.delivered for x in order.lines):
        raise InvalidInput(f"order {order.number} has delivered goods not yet invoiced",
                           {"order": ["invoice the deliveries first"]})
    reservations.release(session, reference(order))
    for line in order.lines:
        line.reserved = Decimal(0)
    order.status = "closed"
    session.flush()
    return order


def refresh_status(order: SalesOrder) -> None:
    """After a delivery or an invoice: delivered / invoiced / partially delivered from the line quantities."""
    if order.status in ("closed", "cancelled"):
        return
    if all(x.invoiced == x.quantity for x in order.lines):
        order.status = "invoiced"
    elif all(x.delivered == x.quantity for x in order.lines):
        order.status = "delivered"
    elif any(x.delivered > 0 for x in order.lines):
        order.status = "partially_delivered"


def reference(order: SalesOrder) -> tuple[str, str]:
    """The stock reservations' reference of an order."""
    return ("sales_order", order.number)


def find_customer(session, customer) -> Customer:
    if isinstance(customer, Customer):
        return customer
    query = select(Customer).where(Customer.id == customer) if isinstance(customer, int) else \
        select(Customer).where(Customer.code == str(customer))
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"no customer {customer}")
    return found


def find_quotation(session, quotation) -> Quotation:
    return _find(session, Quotation, quotation, "quotation")


def find_order(session, order, *, lock: bool = False) -> SalesOrder:
    return _find(session, SalesOrder, order, "sales order", lock)


def _find(session, model, key, label: str, lock: bool = False):
    if isinstance(key, model):
        if lock:
            session.refresh(key, with_for_update=True)
        return key
    query = select(model).where(model.id == key if isinstance(key, int) else model.number == str(key))
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no {label} {key}")
    return found


def _new_order(session, customer_id, order_date, sales_rep, discount, by) -> SalesOrder:
    order_date = order_date or today()
    return SalesOrder(number=pricing.next_number(session, SalesOrder, "SO", order_date), customer_id=customer_id,
                      order_date=order_date, sales_rep=sales_rep, status="open", discount_percent=discount,
                      created_at=clock.now(), created_by=by)


def _priced_lines(session, lines, price_list, on, errors) -> list[tuple[Product, Decimal, Decimal, Decimal]]:
    if not isinstance(lines, (list, tuple)) or not lines:
        errors["lines"] = ["give at least one line of {sku, quantity}"]
        return []
    priced, seen = [], set()
    for i, line in enumerate(lines):
        product = session.scalar(select(Product).where(Product.sku == line.get("sku")))
        qty = pricing.number(line.get("quantity"), 3, f"lines[{i}].quantity", errors)
        discount = pricing.percent(line.get("discount_percent"), f"lines[{i}].discount_percent", errors)
        if product is None:
            errors.setdefault(f"lines[{i}].sku", []).append(f"no product with SKU {line.get('sku')}")
            continue
        if product.id in seen:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{product.sku} is already on another line")
        seen.add(product.id)
        price = _unit_price(session, line, product, qty, price_list, on, errors, i)
        if qty is not None and discount is not None and price is not None:
            priced.append((product, qty, price, discount))
    return priced


def _unit_price(session, line, product, qty, price_list, on, errors, i) -> Decimal | None:
    if line.get("unit_price") is not None:
        return pricing.number(line["unit_price"], 2, f"lines[{i}].unit_price", errors, positive=False)
    if qty is None:
        return None
    try:
        return price_of(session, product.sku, qty, price_list, on)
    except (NotFound, InvalidInput) as exc:
        errors.setdefault(f"lines[{i}].unit_price", []).append(str(exc))
        return None


def _set_totals(document) -> None:
    amounts = pricing.totals(document.lines)
    document.net_total, document.vat_total, document.gross_total = amounts.net, amounts.vat, amounts.gross


def _require_status(order: SalesOrder, allowed: tuple[str, ...], action: str) -> None:
    if order.status not in allowed:
        raise InvalidInput(f"cannot {action} order {order.number}: it is {order.status}",
                           {"order": [f"is {order.status}"]})


def unstocked(session, order: SalesOrder) -> set[int]:
    """The order's products that are not kept in stock (services)."""
    ids = [x.product_id for x in order.lines]
    return set(session.scalars(select(Product.id).where(Product.id.in_(ids), Product.stocked.is_(False))))


def deliverable_quantity(line: SalesOrderLine, services_: set[int]) -> Decimal:
    """What can go out now: the reserved quantity, or for a service everything not yet delivered."""
    return line.quantity - line.delivered if line.product_id in services_ else line.reserved


def _skus(session, order: SalesOrder) -> dict[int, str]:
    ids = [x.product_id for x in order.lines]
    return dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(ids))).all())

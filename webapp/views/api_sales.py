"""Order-to-cash in the JSON API (/api/v1, on the api blueprint): quotations, orders and invoices, payments and
bank statements, and process messages from integrations (a bank telling that an invoice was paid).

A user without sales.view_all sees only the documents of the customers in their charge; the others are 404.
Money goes out as text with two decimals and comes in as text or a JSON number (never a binary float)."""
from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import jsonify, request, url_for

from core.errors import InvalidInput, NotFound
from erp.catalog.money import to_cents
from erp.sales import api_queries, collection, payments, services
from erp.sales.models import INVOICE_STATUSES, ORDER_STATUSES, QUOTATION_STATUSES, Invoice, Quotation, SalesOrder
from webapp import requestdb
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views.api import _body, _choice_arg, _object, _page, _paging, _text, _text_args, blueprint

#: Decimal fields that are quantities (shown without trailing zeros); every other Decimal is money or a rate
QUANTITIES = frozenset({"quantity", "reserved", "delivered", "invoiced"})
#: the largest amount or quantity the columns (NUMERIC(18, 2) and (18, 3)) hold
LIMIT = Decimal(10) ** 15
MAX_LINES = 200
STATEMENT_TYPES = ("text/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel")


# ---------------------------------------------------------------------- in and out


def _json(value, key: str | None = None):
    """Plain JSON: Decimal as text (two decimals, quantities as they are), dates in ISO 8601."""
    if isinstance(value, dict):
        return {k: _json(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v, key) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if key in QUANTITIES else str(to_cents(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _date(body: dict, name: str) -> date | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a date", {name: ["a date as YYYY-MM-DD"]}) from None


def _within_limit(value, field: str, errors: dict) -> None:
    """Numbers the columns cannot hold are refused here (the services check the rest: decimals, sign)."""
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (str, int, Decimal)) else None
    except InvalidOperation:
        return
    if number is not None and number.is_finite() and abs(number) >= LIMIT:
        errors.setdefault(field, []).append("too large")


def _rep() -> str | None:
    """The sales rep whose customers the caller is limited to; None: every customer."""
    return None if user().can("sales.view_all") else user().username


def _number(number: str) -> str:
    if "\x00" in number:
        raise NotFound(f"no document {number!r}")
    return number


def _list(model, statuses):
    status = _choice_arg("status", statuses)
    _text_args("customer")
    page, per_page = _paging(25)
    items, total = api_queries.page(requestdb.session(), model, rep=_rep(), status=status,
                                    customer=request.args.get("customer") or None, page=page, per_page=per_page)
    return jsonify(_json(_page(items, total, page, per_page)))


# ---------------------------------------------------------------------- quotations


def _quotation_lines(body: dict) -> list[dict]:
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidInput("give at least one line", {"lines": ["give at least one line of {sku, quantity}"]})
    if len(lines) > MAX_LINES:
        raise InvalidInput("too many lines", {"lines": [f"at most {MAX_LINES} lines"]})
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{i}]"] = ["must be an object {sku, quantity, unit_price?, discount_percent?}"]
            continue
        if not isinstance(line.get("sku"), str) or not line["sku"].strip():
            errors[f"lines[{i}].sku"] = ["required (text)"]
        for name in ("quantity", "unit_price"):
            _within_limit(line.get(name), f"lines[{i}].{name}", errors)
    if errors:
        raise InvalidInput("the quotation was not saved", errors)
    return [{**line, "sku": line["sku"].strip()} for line in lines]


@blueprint.route("/quotations", methods=["POST"])
@requires("sales.edit")
def create_quotation():
    db, me = requestdb.session(), user()
    body = _body()
    customer = _text(body, "customer", required=True, max_length=100)
    lines = _quotation_lines(body)
    if not api_queries.customer_visible(db, customer, rep=_rep()):
        raise InvalidInput(f"no customer {customer}", {"customer": [f"no customer {customer}"]})
    quotation = services.create_quotation(db, customer=customer, lines=lines, valid_until=_date(body, "valid_until"),
                                          discount_percent=body.get("discount_percent", "0"), by=me.username)
    response = jsonify(_json(api_queries.quotation_detail(db, quotation.number, rep=None)))
    response.status_code = 201
    response.headers["Location"] = url_for("api.quotation", number=quotation.number)
    return response


@blueprint.route("/quotations")
@requires("sales.view")
def quotations():
    return _list(Quotation, QUOTATION_STATUSES)


@blueprint.route("/quotations/<number>")
@requires("sales.view")
def quotation(number):
    return jsonify(_json(api_queries.quotation_detail(requestdb.session(), _number(number), rep=_rep())))


# ---------------------------------------------------------------------- orders and invoices


@blueprint.route("/orders")
@requires("sales.view")
def orders():
    return _list(SalesOrder, ORDER_STATUSES)


@blueprint.route("/orders/<number>")
@requires("sales.view")
def order(number):
    return jsonify(_json(api_queries.order_detail(requestdb.session(), _number(number), rep=_rep())))


@blueprint.route("/invoices")
@requires("sales.view")
def invoices():
    return _list(Invoice, INVOICE_STATUSES)


@blueprint.route("/invoices/<number>")
@requires("sales.view")
def invoice(number):
    return jsonify(_json(api_queries.invoice_detail(requestdb.session(), _number(number), rep=_rep())))


# ---------------------------------------------------------------------- money received


@blueprint.route("/invoices/<number>/payments", methods=["POST"])
@requires("payment.record")
def record_payment(number):
    db, me = requestdb.session(), user()
    body = _body()
    api_queries.invoice_visible(db, _number(number), rep=_rep())
    if body.get("amount") is None:
        raise InvalidInput("amount is required", {"amount": ["required"]})
    errors: dict[str, list[str]] = {}
    _within_limit(body["amount"], "amount", errors)
    if errors:
        raise InvalidInput("the payment was not recorded", errors)
    payment = payments.record_payment(db, number, body["amount"], received_on=_date(body, "received_on"),
                                      payer=_text(body, "payer", max_length=200),
                                      memo=_text(body, "memo", max_length=500), by=me.username)
    announced = collection.announce_payment(db, engine(), number, payment=payment.number, user=me.username)
    paid = api_queries.invoice_detail(db, number, rep=None)
    response = jsonify(_json({
        "payment": {**api_queries.payment_row(payment), "invoice": paid["number"]},
        "invoice": {k: paid[k] for k in ("number", "status", "gross_total", "paid", "credited", "outstanding")},
        "announced": announced}))
    response.status_code = 201
    return response


def _statement_bytes() -> bytes:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("send the statement as the form field `file`", {"file": ["required"]})
        data = upload.read()
    elif request.mimetype in STATEMENT_TYPES:
        data = request.get_data(cache=False)
    else:
        raise InvalidInput("send the statement as text/csv or multipart/form-data",
                           {"file": ["a CSV file (Content-Type text/csv)"]})
    if b"\x00" in data:
        raise InvalidInput("the statement is not a CSV text file", {"file": ["contains NUL characters"]})
    return data


@blueprint.route("/bank-statements", methods=["POST"])
@requires("payment.record")
def import_bank_statement():
    db, me = requestdb.session(), user()
    data = _statement_bytes()
    try:
        imported = payments.import_bank_statement(db, data, by=me.username)
    except (UnicodeDecodeError, csv.Error) as exc:  # neither UTF-8 nor GB18030, or not CSV
        raise InvalidInput("the statement could not be read", {"file": [str(exc).split("\n")[0]]}) from None
    return jsonify(_json(collection.announce_statement(db, engine(), imported, user=me.username)))


# ---------------------------------------------------------------------- process messages


def _correlation(body: dict) -> dict:
    correlation = _object(body, "correlation")
    errors = {f"correlation.{k}": ["must be text or a number"] for k, v in correlation.items()
              if isinstance(v, (dict, list, bool))}
    if errors:
        raise InvalidInput("correlation values are text or numbers", errors)
    return correlation


@blueprint.route("/messages", methods=["POST"])
@requires("message.send")
def send_message():
    body = _body()
    name = _text(body, "name", required=True, max_length=200)
    result = engine().deliver_message(requestdb.session(), name, _correlation(body), _object(body, "data"),
                                      user=user().username)
    return jsonify({"delivered_to": result["delivered_to"], "started": result["started"]})

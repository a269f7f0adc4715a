"""Procure-to-pay in the JSON API (/api/v1, on the api blueprint): requisitions (a submitted one starts the
procurement process), suppliers, RFQ comparisons and the quotes suppliers send, purchase orders and supplier
invoices.

Anyone may raise a requisition; without purchasing.view a requester sees only their own (the others are 404).
Suppliers' bank accounts and contacts are masked without personal_data.view. Money goes out as text with two
decimals and comes in as text or a JSON number (never a binary float)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import jsonify, request, url_for

from core.errors import InvalidInput
from erp.catalog.money import to_cents
from erp.masking import mask_data
from erp.purchasing import api_queries, rfqs, services
from erp.purchasing.models import (
    INVOICE_STATUSES,
    ORDER_STATUSES,
    PERSONAL_FIELDS,
    QUALIFICATIONS,
    REQUISITION_STATUSES,
)
from erp.purchasing.process import PROCESS
from webapp import requestdb
from webapp.access_log import note_unmasked
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views.api import _body, _choice_arg, _page, _paging, _text, _text_args, blueprint
from webapp.views.api_sales import MAX_LINES, _date, _number, _within_limit

#: Decimal fields that are quantities (shown without trailing zeros); every other Decimal is money or a rate
QUANTITIES = frozenset({"quantity", "ordered", "received", "short_closed", "invoiced", "accepted", "rejected",
                        "quantity_diff"})
#: the supplier fields a client may set (text unless named below), with their longest length
SUPPLIER_TEXT = {"name_zh": 200, "name_en": 200, "tax_number": 18, "phone": 20, "address": 500, "city": 100,
                 "province": 100, "category": 100, "bank_name": 200, "bank_account": 64, "buyer": 100}
CONTACT_TEXT = {"contact_name": 100, "title": 100, "mobile": 11, "email": 320}


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


def _created(detail: dict, endpoint: str, **values):
    response = jsonify(_json(detail))
    response.status_code = 201
    response.headers["Location"] = url_for(endpoint, **values)
    return response


def _listing(rows_and_total, page: int, per_page: int):
    items, total = rows_and_total
    return jsonify(_json(_page(items, total, page, per_page)))


def _lines(body: dict, texts: tuple[str, ...], numbers: tuple[str, ...], what: str) -> list[dict]:
    """The body's `lines`: objects with a text `sku`, the optional `texts` and the `numbers` (text or JSON numbers
    the columns can hold); the services check the rest."""
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidInput("give at least one line", {"lines": ["give at least one line of {sku, …}"]})
    if len(lines) > MAX_LINES:
        raise InvalidInput("too many lines", {"lines": [f"at most {MAX_LINES} lines"]})
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{i}]"] = ["must be an object {sku, …}"]
            continue
        for name in ("sku", *texts):
            value = line.get(name)
            if (name == "sku" or value is not None) and (not isinstance(value, str) or not value.strip()):
                errors[f"lines[{i}].{name}"] = ["required (text)" if name == "sku" else "must be text"]
        for name in numbers:
            if isinstance(line.get(name), (bool, dict, list)):
                errors[f"lines[{i}].{name}"] = ["must be a number"]
            else:
                _within_limit(line.get(name), f"lines[{i}].{name}", errors)
    if errors:
        raise InvalidInput(f"the {what} was not saved", errors)
    return [{k: v.strip() if isinstance(v, str) else v for k, v in line.items()} for line in lines]


def _flag(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", {name: ["true or false"]})
    return value


def _whole(body: dict, name: str, *, low: int = 0, high: int = 3650) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number", {name: [f"a whole number from {low} to {high}"]})
    return value


def _requester() -> str | None:
    """The requester whose requisitions the caller is limited to; None: every requisition."""
    return None if user().can("purchasing.view") else user().username


def _masked(detail: dict) -> dict:
    note_unmasked("purchasing_supplier", detail.get("id", detail.get("code")), detail, PERSONAL_FIELDS)
    return detail if user().can("personal_data.view") else mask_data(detail, PERSONAL_FIELDS)


# ---------------------------------------------------------------------- requisitions


@blueprint.route("/requisitions", methods=["POST"])
@requires("requisition.create")
def create_requisition():
    db, me = requestdb.session(), user()
    body = _body()
    lines = _lines(body, ("warehouse",), ("quantity", "estimated_unit_price"), "requisition")
    submit = _flag(body, "submit", True)
    requisition = services.create_requisition(
        db, requester=me.username, lines=lines, department=_text(body, "department", max_length=100),
        needed_by=_date(body, "needed_by"), note=_text(body, "note"))
    instance_id = None
    if submit:
        services.submit_requisition(db, requisition)
        instance_id = engine().start(db, PROCESS, {"requisition": requisition.number, "requester": me.username},
                                     business_key=requisition.number, user=me.username).id
    detail = api_queries.requisition_detail(db, requisition.number, requester=None)
    return _created({**detail, "instance_id": instance_id}, "api.requisition", number=requisition.number)


@blueprint.route("/requisitions")
@requires("requisition.create")
def requisitions():
    status = _choice_arg("status", REQUISITION_STATUSES)
    page, per_page = _paging(25)
    return _listing(api_queries.requisition_page(requestdb.session(), requester=_requester(), status=status,
                                                 page=page, per_page=per_page), page, per_page)


@blueprint.route("/requisitions/<number>")
@requires("requisition.create")
def requisition(number):
    return jsonify(_json(api_queries.requisition_detail(requestdb.session(), _number(number),
                                                        requester=_requester())))


# ---------------------------------------------------------------------- suppliers


def _supplier_fields(body: dict) -> dict:
    fields = {name: _text(body, name, max_length=limit) for name, limit in SUPPLIER_TEXT.items()}
    fields = {k: v for k, v in fields.items() if v is not None}
    qualification = body.get("qualification")
    if qualification is not None:
        if qualification not in QUALIFICATIONS:
            raise InvalidInput("unknown qualification", {"qualification": [f"one of {', '.join(QUALIFICATIONS)}"]})
        fields["qualification"] = qualification
    if body.get("qualified_until") is not None:
        fields["qualified_until"] = _date(body, "qualified_until")
    terms = _whole(body, "payment_terms_days", high=365)
    if terms is not None:
        fields["payment_terms_days"] = terms
    return fields


def _contacts(body: dict) -> list[dict]:
    contacts = body.get("contacts") or []
    if not isinstance(contacts, list) or len(contacts) > 50:
        raise InvalidInput("contacts must be a list", {"contacts": ["a list of at most 50 {contact_name, …}"]})
    checked = []
    for i, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            raise InvalidInput("a contact is an object", {f"contacts[{i}]": ["must be an object {contact_name, …}"]})
        try:
            checked.append({**{name: _text(contact, name, required=name == "contact_name", max_length=limit)
                               for name, limit in CONTACT_TEXT.items()},
                            "is_primary": _flag(contact, "is_primary", False)})
        except InvalidInput as exc:
            raise InvalidInput(f"contacts[{i}]: {exc}", {f"contacts[{i}].{k}": v for k, v in exc.errors.items()}) \
                from None
    return checked


@blueprint.route("/suppliers", methods=["POST"])
@requires("purchasing.edit")
def create_supplier():
    db, me = requestdb.session(), user()
    body = _body()
    fields = _supplier_fields(body)
    if "name_zh" not in fields:
        raise InvalidInput("name_zh is required", {"name_zh": ["required"]})
    contacts = _contacts(body)
    supplier = services.create_supplier(db, by=me.username, code=_text(body, "code", max_length=40), **fields)
    for contact in contacts:
        services.add_supplier_contact(db, supplier.id, **contact)
    detail = _masked(api_queries.supplier_detail(db, supplier.code))
    return _created(detail, "api.supplier", code=supplier.code)


@blueprint.route("/suppliers")
@requires("purchasing.view")
def suppliers():
    qualification = _choice_arg("qualification", QUALIFICATIONS)
    _text_args("q")
    page, per_page = _paging(25)
    return _listing(api_queries.supplier_page(requestdb.session(), text=request.args.get("q") or None,
                                              qualification=qualification, page=page, per_page=per_page),
                    page, per_page)


@blueprint.route("/suppliers/<code>")
@requires("purchasing.view")
def supplier(code):
    return jsonify(_json(_masked(api_queries.supplier_detail(requestdb.session(), _number(code)))))


# ---------------------------------------------------------------------- RFQs


@blueprint.route("/rfqs/<number>")
@requires("purchasing.view")
def rfq(number):
    return jsonify(_json(api_queries.rfq_comparison(requestdb.session(), _number(number))))


@blueprint.route("/rfqs/<number>/quotes", methods=["POST"])
@requires("purchasing.edit")
def record_quote(number):
    db = requestdb.session()
    body = _body()
    found = api_queries.find_rfq(db, _number(number))
    supplier_code = _text(body, "supplier", required=True, max_length=40)
    lines = _lines(body, (), ("unit_price",), "quote")
    lead_time_days = _whole(body, "lead_time_days")
    valid_until, note = _date(body, "valid_until"), _text(body, "note")
    if not api_queries.supplier_exists(db, supplier_code):
        raise InvalidInput(f"no supplier {supplier_code}", {"supplier": [f"no supplier {supplier_code}"]})
    rfqs.record_quote(db, found, supplier_code, lines, lead_time_days=lead_time_days, valid_until=valid_until,
                      note=note)
    return _created(api_queries.rfq_comparison(db, found.number), "api.rfq", number=found.number)


# ---------------------------------------------------------------------- purchase orders


@blueprint.route("/purchase-orders")
@requires("purchasing.view")
def purchase_orders():
    status = _choice_arg("status", ORDER_STATUSES)
    _text_args("supplier")
    page, per_page = _paging(25)
    return _listing(api_queries.order_page(requestdb.session(), status=status,
                                           supplier=request.args.get("supplier") or None, page=page,
                                           per_page=per_page), page, per_page)


@blueprint.route("/purchase-orders/<number>")
@requires("purchasing.view")
def purchase_order(number):
    return jsonify(_json(api_queries.order_detail(requestdb.session(), _number(number))))


# ---------------------------------------------------------------------- supplier invoices
# payables.view is held by finance, managers and administrators, who all hold purchasing.view too: requiring
# purchasing.view lets in exactly "payables.view or purchasing.view" (a test keeps the two sets so)


@blueprint.route("/supplier-invoices")
@requires("purchasing.view")
def supplier_invoices():
    status = _choice_arg("status", INVOICE_STATUSES)
    _text_args("supplier")
    page, per_page = _paging(25)
    return _listing(api_queries.supplier_invoice_page(requestdb.session(), status=status,
                                                      supplier=request.args.get("supplier") or None, page=page,
                                                      per_page=per_page), page, per_page)


@blueprint.route("/supplier-invoices/<number>")
@requires("purchasing.view")
def supplier_invoice(number):
    return jsonify(_json(api_queries.supplier_invoice_detail(requestdb.session(), _number(number))))

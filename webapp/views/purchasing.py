"""Purchasing pages (采购): suppliers (list, detail with rating, new, edit, qualification), requests for quotation
with the quotes side by side, purchase orders with where their procurement instance stands, goods receipts,
match exceptions and payables. Requisitions (which everyone may raise) are in purchasing_requisitions.py. The
rules live in erp.purchasing."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from core.errors import InvalidInput
from engine import queries as engine_queries
from engine.models import ProcessInstance
from erp.finance.queries import ap_aging
from erp.masking import mask_data
from erp.purchasing import queries, rfqs, services
from erp.purchasing.models import (
    ORDER_STATUSES,
    PERSONAL_FIELDS,
    QUALIFICATIONS,
    RFQ_STATUSES,
    Supplier,
)
from webapp import requestdb, visibility
from webapp.access_log import note_unmasked
from webapp.i18n import locale_tag
from webapp.navigation import EXTRA, known_names
from webapp.security import requires, user
from webapp.views import instances
from webapp.views.ledger import BUCKET_LABELS

blueprint = Blueprint("purchasing", __name__, url_prefix="/purchasing")

EXTRA.append(("purchasing.requisitions", lazy_gettext("Purchasing"), "requisition.create", None))

PROCUREMENT = "procurement"
SUPPLIER_FIELDS = ("name_zh", "name_en", "tax_number", "phone", "address", "city", "province", "category",
                   "payment_terms_days", "bank_name", "bank_account", "buyer")
QUALIFICATION_LABELS = {"pending": lazy_gettext("Pending qualification"), "qualified": lazy_gettext("Qualified"),
                        "suspended": lazy_gettext("Suspended for now"), "disqualified": lazy_gettext("Disqualified")}
REQUISITION_LABELS = {"draft": lazy_gettext("Draft"), "submitted": lazy_gettext("Submitted"),
                      "approved": lazy_gettext("Approved to buy"), "rejected": lazy_gettext("Rejected"),
                      "ordered": lazy_gettext("Order placed"), "cancelled": lazy_gettext("Cancelled")}
SOURCE_LABELS = {"manual": lazy_gettext("Raised by hand"), "reorder_point": lazy_gettext("Reorder point"),
                 "backorder": lazy_gettext("Backorder")}
RFQ_LABELS = {"open": lazy_gettext("Waiting for quotes"), "awarded": lazy_gettext("Awarded"),
              "cancelled": lazy_gettext("Cancelled")}
ORDER_LABELS = {"open": lazy_gettext("To receive"), "partially_received": lazy_gettext("Partly received"),
                "received": lazy_gettext("Received"), "closed": lazy_gettext("Closed"),
                "cancelled": lazy_gettext("Cancelled")}
INVOICE_LABELS = {"received": lazy_gettext("Recorded"), "matched": lazy_gettext("Matched"),
                  "exception": lazy_gettext("Match exception"), "accepted": lazy_gettext("Difference accepted"),
                  "disputed": lazy_gettext("Disputed"), "approved": lazy_gettext("Approved for payment"),
                  "partially_paid": lazy_gettext("Partly paid out"), "paid": lazy_gettext("Paid out")}
KIND_LABELS = {"special": lazy_gettext("Special VAT invoice"), "ordinary": lazy_gettext("Ordinary VAT invoice")}
MATCH_LABELS = {"ok": lazy_gettext("Matches"), "price_mismatch": lazy_gettext("Price differs"),
                "quantity_mismatch": lazy_gettext("Quantity differs"), "not_received": lazy_gettext("Not received")}
#: the domain's reasons for these fields, said in the reader's language
FIELD_MESSAGES = {"name_zh": lazy_gettext("Give the Chinese name."),
                  "tax_number": lazy_gettext("Not a unified social credit code (18 characters, check character "
                                             "included)."),
                  "phone": lazy_gettext("Not a phone number."), "mobile": lazy_gettext("Not a mobile number."),
                  "email": lazy_gettext("Not an email address."),
                  "payment_terms_days": lazy_gettext("A whole number of days from 0 to 365."),
                  "contact_name": lazy_gettext("Give the contact's name."),
                  "quantity": lazy_gettext("Give a quantity above zero, at most three decimals."),
                  "unit_price": lazy_gettext("Give a price of zero or more, at most two decimals."),
                  "lead_time_days": lazy_gettext("A whole number of days.")}


# ---------------------------------------------------------------------- shared

def page(template: str, tab: str, status: int = 200, **context):
    return render_template(f"purchasing/{template}", tab=tab, qualification_labels=QUALIFICATION_LABELS,
                           requisition_labels=REQUISITION_LABELS, source_labels=SOURCE_LABELS,
                           rfq_labels=RFQ_LABELS, order_labels=ORDER_LABELS, invoice_labels=INVOICE_LABELS,
                           kind_labels=KIND_LABELS, match_labels=MATCH_LABELS, zh=locale_tag() == "zh-CN",
                           **context), status


def args(*names) -> dict:
    return {k: request.args.get(k, "").strip() for k in names}


def localized(errors: dict) -> dict:
    """The domain's field errors with the reader's wording where we have one (lines[2].quantity -> quantity)."""
    shown = {}
    for key, messages in (errors or {}).items():
        field = key.rsplit(".", 1)[-1] if key.startswith("lines[") else key
        shown[key] = [str(FIELD_MESSAGES[field])] if field in FIELD_MESSAGES else list(messages)
    return shown


def parse_date(text: str, field: str, errors: dict) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = [_("Not a date.")]
        return None


def procurement(db, requisition_number: str | None):
    """The newest procurement instance of a requisition (its business key), or None."""
    if not requisition_number:
        return None
    return db.execute(select(ProcessInstance.id, ProcessInstance.status)
                      .where(ProcessInstance.process_key == PROCUREMENT,
                             ProcessInstance.business_key == requisition_number)
                      .order_by(ProcessInstance.id.desc()).limit(1)).first()


def process_context(db, requisition_number: str | None) -> dict:
    """Where the requisition's procurement stands; the diagram only for those who may see the instance."""
    process = procurement(db, requisition_number)
    return {"process": process, "position": instances.position(process.id) if process else None,
            "diagram_visible": process is not None and visibility.may_view_instance(db, process.id, user())}


def open_task(db, requisition_number: str | None, element_id: str) -> dict | None:
    """The open task `element_id` of the requisition's procurement instance (e.g. compare_quotes)."""
    process = procurement(db, requisition_number)
    if process is None:
        return None
    return next((t for t in engine_queries.tasks(db, instance_id=process.id) if t["element_id"] == element_id),
                None)


# ---------------------------------------------------------------------- suppliers

@blueprint.route("/suppliers")
@requires("purchasing.view")
def suppliers():
    shown = args("q", "qualification")
    rows = queries.suppliers(requestdb.session(), text=shown["q"] or None,
                             qualification=shown["qualification"] if shown["qualification"] in QUALIFICATIONS
                             else None)
    known_names(r["buyer"] for r in rows)
    return page("suppliers.html", "suppliers", rows=rows, args=shown, qualifications=QUALIFICATIONS)


def _supplier_form() -> dict:
    return {k: request.form.get(k, "").strip() for k in SUPPLIER_FIELDS}


def _supplier_fields(values: dict, *, keep_bank_account: bool = False) -> dict:
    """The form's values for the service: empty optional fields as None, the terms as a whole number."""
    fields = {k: (v or None) for k, v in values.items()}
    fields["name_zh"] = values.get("name_zh", "")
    terms = values.get("payment_terms_days", "")
    fields["payment_terms_days"] = int(terms) if terms.isdigit() else (terms or 30)
    if keep_bank_account and not values.get("bank_account"):
        del fields["bank_account"]  # the masked field was left empty: unchanged
    return fields


def _supplier_form_page(values: dict, errors: dict | None = None, status: int = 200, supplier=None):
    return page("supplier_form.html", "suppliers", status, values=values, errors=errors or {}, supplier=supplier,
                sees_personal=user().can("personal_data.view"))


@blueprint.route("/suppliers/new", methods=["GET", "POST"])
@requires("purchasing.edit")
def new_supplier():
    if request.method == "GET":
        return _supplier_form_page({"payment_terms_days": "30", "buyer": user().username})
    values = _supplier_form()
    try:
        found = services.create_supplier(requestdb.session(), by=user().username, **_supplier_fields(values))
    except InvalidInput as exc:
        return _supplier_form_page(values, localized(exc.errors), 422)
    flash(_("Supplier %(code)s was created; it may be asked for quotes once it is qualified.", code=found.code),
          "success")
    return redirect(url_for("purchasing.supplier", supplier_id=found.id))


@blueprint.route("/suppliers/<int:supplier_id>")
@requires("purchasing.view")
def supplier(supplier_id):
    return _supplier_page(supplier_id)


def _supplier_page(supplier_id: int, errors: dict | None = None, values: dict | None = None, status: int = 200):
    db = requestdb.session()
    detail = queries.supplier_detail(db, supplier_id)
    if not user().can("personal_data.view"):
        detail = mask_data(detail, PERSONAL_FIELDS)
    note_unmasked("purchasing_supplier", supplier_id, detail, PERSONAL_FIELDS)
    known_names([detail["buyer"]] + [o["buyer"] for o in detail["open_orders"]])
    return page("supplier.html", "suppliers", status, s=detail, errors=errors or {}, values=values or {},
                qualifications=QUALIFICATIONS, may_edit=user().can("purchasing.edit"),
                may_see_payables=user().can("payables.view"))


@blueprint.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@requires("purchasing.edit")
def edit_supplier(supplier_id):
    db = requestdb.session()
    found = services.find_supplier(db, supplier_id)
    sees_personal = user().can("personal_data.view")
    if request.method == "GET":
        values = {k: "" if getattr(found, k) is None else str(getattr(found, k)) for k in SUPPLIER_FIELDS}
        if not sees_personal:
            values["bank_account"] = ""
        note_unmasked("purchasing_supplier", supplier_id, values, ("bank_account",))
        return _supplier_form_page(values, supplier=found)
    values = _supplier_form()
    try:
        services.update_supplier(db, found, by=user().username,
                                 **_supplier_fields(values, keep_bank_account=not sees_personal))
    except InvalidInput as exc:  # checked before anything changes: the supplier is as it was
        return _supplier_form_page(values, localized(exc.errors), 422, supplier=found)
    flash(_("Supplier %(code)s was saved.", code=found.code), "success")
    return redirect(url_for("purchasing.supplier", supplier_id=supplier_id))


@blueprint.route("/suppliers/<int:supplier_id>/qualification", methods=["POST"])
@requires("purchasing.edit")
def qualification(supplier_id):
    db = requestdb.session()
    found = services.find_supplier(db, supplier_id)
    values = {k: request.form.get(k, "").strip() for k in ("qualification", "until")}
    errors: dict[str, list[str]] = {}
    until = parse_date(values["until"], "until", errors)
    if values["qualification"] not in QUALIFICATIONS:
        errors["qualification"] = [_("Choose a qualification.")]
    if not errors:
        try:
            services.set_qualification(db, found, values["qualification"], until)
        except InvalidInput as exc:
            errors = {"until": [_("A qualification cannot end in the past.")]} if "until" in (exc.errors or {}) \
                else localized(exc.errors)
    if errors:
        return _supplier_page(supplier_id, errors, values, 422)
    flash(_("%(code)s is now: %(qualification)s.", code=found.code,
            qualification=QUALIFICATION_LABELS[values["qualification"]]), "success")
    return redirect(url_for("purchasing.supplier", supplier_id=supplier_id))


@blueprint.route("/suppliers/<int:supplier_id>/contacts", methods=["POST"])
@requires("purchasing.edit")
def add_contact(supplier_id):
    db = requestdb.session()
    services.find_supplier(db, supplier_id)
    values = {k: request.form.get(k, "").strip() for k in ("contact_name", "title", "mobile", "email")}
    try:
        services.add_supplier_contact(db, supplier_id, contact_name=values["contact_name"],
                                      title=values["title"] or None, mobile=values["mobile"] or None,
                                      email=values["email"] or None, is_primary=request.form.get("is_primary") == "1")
    except InvalidInput as exc:
        return _supplier_page(supplier_id, localized(exc.errors), values, 422)
    flash(_("Contact %(name)s was added.", name=values["contact_name"]), "success")
    return redirect(url_for("purchasing.supplier", supplier_id=supplier_id))


# ---------------------------------------------------------------------- requests for quotation

@blueprint.route("/rfqs")
@requires("purchasing.view")
def rfq_list():
    shown = args("status")
    rows = queries.rfqs(requestdb.session(), status=shown["status"] if shown["status"] in RFQ_STATUSES else None)
    return page("rfqs.html", "rfqs", rows=rows, args=shown, statuses=RFQ_STATUSES)


def _rfq_page(rfq_id: int, errors: dict | None = None, values: dict | None = None, status: int = 200):
    """The comparison; `errors` and `values` are those of one supplier's quote form ({code: ...})."""
    db = requestdb.session()
    sheet = queries.rfq_sheet(db, rfq_id)
    return page("rfq.html", "rfqs", status, r=sheet, errors=errors or {}, values=values or {},
                task=open_task(db, sheet["requisition"], "compare_quotes"),
                may_edit=user().can("purchasing.edit"))


@blueprint.route("/rfqs/<int:rfq_id>")
@requires("purchasing.view")
def rfq(rfq_id):
    return _rfq_page(rfq_id)


def _quote_input(values: dict) -> tuple[list[dict], list[int], int | None, date | None]:
    errors: dict[str, list[str]] = {}
    lines, rows = [], []
    for row, line in enumerate(values["lines"]):
        if line["unit_price"]:
            lines.append({"sku": line["sku"], "unit_price": line["unit_price"].replace(",", "").lstrip("¥￥")})
            rows.append(row)
    if not lines:
        errors["lines"] = [_("Give a price for at least one product.")]
    lead = values["lead_time_days"]
    if lead and not lead.isdigit():
        errors["lead_time_days"] = [str(FIELD_MESSAGES["lead_time_days"])]
    valid_until = parse_date(values["valid_until"], "valid_until", errors)
    if errors:
        raise InvalidInput(_("The quote was not recorded."), errors)
    return lines, rows, int(lead) if lead else None, valid_until


@blueprint.route("/rfqs/<int:rfq_id>/quotes", methods=["POST"])
@requires("purchasing.edit")
def record_quote(rfq_id):
    db = requestdb.session()
    found = rfqs.find_rfq(db, rfq_id)
    form = request.form
    code = form.get("supplier", "").strip()
    count = sum(1 for k in form if k.startswith("sku_"))
    values = {"lead_time_days": form.get("lead_time_days", "").strip(), "note": form.get("note", "").strip(),
              "valid_until": form.get("valid_until", "").strip(),
              "lines": [{"sku": form.get(f"sku_{i}", ""), "unit_price": form.get(f"unit_price_{i}", "").strip()}
                        for i in range(count)]}
    rows: list[int] = []
    try:
        lines, rows, lead, valid_until = _quote_input(values)
        rfqs.record_quote(db, found, code, lines, lead_time_days=lead, valid_until=valid_until,
                          note=values["note"] or None)
    except InvalidInput as exc:
        return _rfq_page(rfq_id, {code: _quote_errors(exc, rows)}, {code: values}, 422)
    flash(_("The quote of %(code)s was recorded.", code=code), "success")
    return redirect(url_for("purchasing.rfq", rfq_id=rfq_id))


def _quote_errors(exc: InvalidInput, rows: list[int]) -> dict:
    """The service's errors on lines[i] (the i-th priced line) moved to the form's rows."""
    moved = {}
    for key, messages in localized(exc.errors).items():
        if key.startswith("lines[") and "]" in key:
            index, rest = key[len("lines["):].split("]", 1)
            if index.isdigit() and int(index) < len(rows):
                key = f"lines[{rows[int(index)]}]{rest}"
        moved[key] = messages
    if set(moved) & {"rfq", "supplier"}:
        moved.setdefault("general", []).append(str(exc))
    return moved


# ---------------------------------------------------------------------- purchase orders and receipts

@blueprint.route("/orders")
@requires("purchasing.view")
def orders():
    shown = args("status")
    rows = queries.orders(requestdb.session(), status=shown["status"] if shown["status"] in ORDER_STATUSES else None)
    known_names(r["buyer"] for r in rows)
    return page("orders.html", "orders", rows=rows, args=shown, statuses=ORDER_STATUSES)


@blueprint.route("/orders/<int:order_id>")
@requires("purchasing.view")
def order(order_id):
    db = requestdb.session()
    detail = queries.order_sheet(db, order_id)
    known_names([detail["buyer"]] + [r["by"] for r in detail["receipts"]])
    return page("order.html", "orders", o=detail, **process_context(db, detail["requisition"]))


@blueprint.route("/receipts")
@requires("purchasing.view")
def receipts():
    db = requestdb.session()
    rows = queries.receipts(db)
    suppliers_of = {o["order"]: o for o in queries.orders(db)}
    known_names(r["by"] for r in rows)
    return page("receipts.html", "receipts", rows=rows, orders=suppliers_of)


# ---------------------------------------------------------------------- match exceptions and payables

@blueprint.route("/match-exceptions")
@requires("purchasing.view")
def match_exceptions():
    db = requestdb.session()
    rows = queries.match_exceptions(db)
    requisitions = queries.requisitions_of_orders(db, {r["order"] for r in rows})
    order_ids = {o["order"]: o["id"] for o in queries.orders(db)}
    for row in rows:
        row["task"] = open_task(db, requisitions.get(row["order"]), "match_exception")
        row["order_id"] = order_ids.get(row["order"])
    return page("match_exceptions.html", "exceptions", rows=rows)


@blueprint.route("/payables")
@requires("payables.view")
def payables():
    db = requestdb.session()
    rows = queries.payables(db)
    report = ap_aging(db)
    codes = [p["partner_code"] for p in report["partners"] if p["partner_code"]]
    names = dict(db.execute(select(Supplier.code, Supplier.name_zh).where(Supplier.code.in_(codes))).tuples().all()
                 ) if codes else {}
    order_ids = {o["order"]: o["id"] for o in queries.orders(db)}
    return page("payables.html", "payables", rows=rows, report=report, names=names, buckets=BUCKET_LABELS,
                order_ids=order_ids, overdue_total=sum((r["outstanding"] for r in rows if r["overdue"]), 0))


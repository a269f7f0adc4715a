"""Sales pages (销售): quotations (list, new, detail, submit into order-to-cash), sales orders with where their
order-to-cash instance stands, invoices with their payments (recording a payment, importing a bank statement)
and the payments received. A sales rep sees only the documents of the customers in their charge; sales.view_all
sees everyone's. The rules live in erp.sales."""
from __future__ import annotations

import csv
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from core.errors import InvalidInput, NotFound
from engine.models import ProcessInstance
from erp.catalog import queries as catalog
from erp.catalog.money import to_decimal
from erp.crm.models import PERSONAL_FIELDS
from erp.crm.queries import masked
from erp.finance.services import today
from erp.sales import collection, payments, queries, services
from erp.sales.models import INVOICE_STATUSES, ORDER_STATUSES, QUOTATION_STATUSES, Quotation
from webapp import requestdb, visibility
from webapp.access_log import note_unmasked
from webapp.i18n import locale_tag, money
from webapp.navigation import EXTRA, known_names
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views import instances

blueprint = Blueprint("sales", __name__, url_prefix="/sales")

EXTRA.append(("sales.quotations", lazy_gettext("Sales"), "sales.view", None))

ORDER_TO_CASH = "order_to_cash"
#: a quotation in these statuses may still be sent into order-to-cash
SUBMITTABLE = ("draft", "sent", "approved")
LINE_ROWS = 5
QUOTATION_LABELS = {"draft": lazy_gettext("Draft"), "sent": lazy_gettext("Sent to customer"),
                    "approved": lazy_gettext("Approved internally"), "rejected": lazy_gettext("Rejected"),
                    "accepted": lazy_gettext("Accepted by customer"), "expired": lazy_gettext("Expired")}
ORDER_LABELS = {"open": lazy_gettext("To deliver"), "backordered": lazy_gettext("Backordered"),
                "partially_delivered": lazy_gettext("Partly delivered"), "delivered": lazy_gettext("Delivered"),
                "invoiced": lazy_gettext("Invoiced"), "closed": lazy_gettext("Closed"),
                "cancelled": lazy_gettext("Cancelled")}
INVOICE_LABELS = {"open": lazy_gettext("Unpaid"), "partially_paid": lazy_gettext("Partly paid"),
                  "paid": lazy_gettext("Paid")}
KIND_LABELS = {"special": lazy_gettext("Special VAT invoice"), "ordinary": lazy_gettext("Ordinary VAT invoice")}


# ---------------------------------------------------------------------- who sees what

def _rep_filter() -> str | None:
    """None for people who see every customer's documents; otherwise the rep's username."""
    return None if user().can("sales.view_all") else user().username


def _check_customer(customer_rep: str | None) -> None:
    """Another rep's document does not exist for a sales rep (404, not 403: its existence is not told)."""
    rep = _rep_filter()
    if rep is not None and customer_rep != rep:
        raise NotFound(_("Not found."))


def _page(template: str, tab: str, status: int = 200, **context):
    return render_template(f"sales/{template}", tab=tab, quotation_labels=QUOTATION_LABELS,
                           order_labels=ORDER_LABELS, invoice_labels=INVOICE_LABELS, kind_labels=KIND_LABELS,
                           zh=locale_tag() == "zh-CN", **context), status


def _args(*names) -> dict:
    return {k: request.args.get(k, "").strip() for k in names}


def _order_to_cash(db, quotation_number: str):
    """The newest order-to-cash instance of a quotation (its business key), or None."""
    return db.execute(select(ProcessInstance.id, ProcessInstance.status)
                      .where(ProcessInstance.process_key == ORDER_TO_CASH,
                             ProcessInstance.business_key == quotation_number)
                      .order_by(ProcessInstance.id.desc()).limit(1)).first()


# ---------------------------------------------------------------------- quotations

@blueprint.route("/quotations")
@requires("sales.view")
def quotations():
    db = requestdb.session()
    args = _args("status", "customer", "q")
    rows = queries.quotation_list(db, status=args["status"] if args["status"] in QUOTATION_STATUSES else None,
                                  customer_id=int(args["customer"]) if args["customer"].isdigit() else None,
                                  text=args["q"] or None, rep=_rep_filter())
    known_names(r["sales_rep"] for r in rows)
    return _page("quotations.html", "quotations", rows=rows, args=args, statuses=QUOTATION_STATUSES,
                 customers=queries.customers_of(db, _rep_filter()))


def _quotation_form() -> dict:
    form = request.form
    rows = max(LINE_ROWS, sum(1 for k in form if k.startswith("sku_")))
    lines = [{f: form.get(f"{f}_{i}", "").strip() for f in ("sku", "quantity", "unit_price", "discount_percent")}
             for i in range(rows)]
    return {"customer_id": form.get("customer_id", "").strip(), "valid_until": form.get("valid_until", "").strip(),
            "discount_percent": form.get("discount_percent", "").strip() or "0", "lines": lines}


def _new_quotation_form(values: dict, errors: dict | None = None, status: int = 200):
    db = requestdb.session()
    return _page("quotation_new.html", "quotations", status, values=values, errors=errors or {},
                 customers=queries.customers_of(db, _rep_filter()), products=catalog.products(db))


def _quotation_input(values: dict) -> tuple[int, list[dict], list[int], date | None]:
    """(customer id, the filled lines, their row numbers on the form, valid until) or InvalidInput."""
    errors: dict[str, list[str]] = {}
    allowed = {c["id"] for c in queries.customers_of(requestdb.session(), _rep_filter())}
    customer = int(values["customer_id"]) if values["customer_id"].isdigit() else None
    if customer not in allowed:
        errors["customer_id"] = [_("Choose one of your customers.")]
    lines, rows = [], []
    for row, line in enumerate(values["lines"]):
        if not any(line.values()):
            continue
        if not line["sku"]:
            errors[f"lines[{row}].sku"] = [_("Choose a product.")]
        lines.append({"sku": line["sku"], "quantity": line["quantity"], "unit_price": line["unit_price"] or None,
                      "discount_percent": line["discount_percent"] or None})
        rows.append(row)
    if not lines:
        errors["lines"] = [_("Give at least one line.")]
    valid_until = None
    if values["valid_until"]:
        try:
            valid_until = date.fromisoformat(values["valid_until"])
        except ValueError:
            errors["valid_until"] = [_("Not a date.")]
    if errors:
        raise InvalidInput(_("The quotation was not saved."), errors)
    return customer, lines, rows, valid_until


def _on_rows(errors: dict, rows: list[int]) -> dict:
    """The service's errors on lines[i] (the i-th filled line) moved to the form's row numbers."""
    moved = {}
    for key, messages in errors.items():
        if key.startswith("lines[") and "]" in key:
            index, rest = key[len("lines["):].split("]", 1)
            if index.isdigit() and int(index) < len(rows):
                key = f"lines[{rows[int(index)]}]{rest}"
        moved[key] = messages
    return moved


@blueprint.route("/quotations/new", methods=["GET", "POST"])
@requires("sales.edit")
def new_quotation():
    if request.method == "GET":
        return _new_quotation_form({"customer_id": request.args.get("customer", ""), "valid_until": "",
                                    "discount_percent": "0", "lines": [{}] * LINE_ROWS})
    values = _quotation_form()
    rows: list[int] = []
    try:
        customer, lines, rows, valid_until = _quotation_input(values)
        quotation = services.create_quotation(requestdb.session(), customer=customer, lines=lines,
                                              valid_until=valid_until, discount_percent=values["discount_percent"],
                                              sales_rep=_rep_filter(), by=user().username)
    except InvalidInput as exc:
        return _new_quotation_form(values, _on_rows(exc.errors or {}, rows), 422)
    flash(_("Quotation %(number)s was created.", number=quotation.number), "success")
    return redirect(url_for("sales.quotation", quotation_id=quotation.id))


@blueprint.route("/quotations/<int:quotation_id>")
@requires("sales.view")
def quotation(quotation_id):
    db = requestdb.session()
    detail = queries.quotation_detail(db, quotation_id)
    _check_customer(detail["customer"]["sales_rep"])
    detail["customer"] = masked(detail["customer"], user().can("personal_data.view"))
    note_unmasked("crm_customer", detail["customer"]["id"], detail["customer"], PERSONAL_FIELDS)
    process = _order_to_cash(db, detail["number"])
    known_names([detail["sales_rep"], detail["created_by"]])
    return _page("quotation.html", "quotations", q=detail, process=process,
                 process_visible=process is not None and visibility.may_view_instance(db, process.id, user()),
                 may_submit=user().can("sales.edit") and process is None and detail["status"] in SUBMITTABLE)


@blueprint.route("/quotations/<int:quotation_id>/submit", methods=["POST"])
@requires("sales.edit")
def submit_quotation(quotation_id):
    """Send the quotation into order-to-cash (once: a second submit finds the running instance)."""
    db = requestdb.session()
    found = db.scalar(select(Quotation).where(Quotation.id == quotation_id).with_for_update())
    if found is None:
        raise NotFound(_("Not found."))
    _check_customer(queries.customer_summary(db, found.customer_id)["sales_rep"])
    target = redirect(url_for("sales.quotation", quotation_id=quotation_id))
    if _order_to_cash(db, found.number) is not None:
        flash(_("Quotation %(number)s is already in order-to-cash.", number=found.number), "info")
        return target
    if found.status not in SUBMITTABLE:
        flash(_("A quotation that is %(status)s cannot be submitted for order.",
                status=QUOTATION_LABELS[found.status]), "error")
        return target
    try:
        started = engine().start(db, ORDER_TO_CASH, {"quotation": found.number, "requester": user().username},
                                 business_key=found.number, user=user().username)
    except NotFound:
        flash(_("The order-to-cash process is not deployed; ask an administrator."), "error")
        return target
    flash(_("Quotation %(number)s was submitted for order (process instance #%(id)s).", number=found.number,
            id=started.id), "success")
    return target


# ---------------------------------------------------------------------- sales orders

@blueprint.route("/orders")
@requires("sales.view")
def orders():
    args = _args("status", "q")
    rows = queries.order_list(requestdb.session(), status=args["status"] if args["status"] in ORDER_STATUSES else None,
                              text=args["q"] or None, rep=_rep_filter())
    known_names(r["sales_rep"] for r in rows)
    return _page("orders.html", "orders", rows=rows, args=args, statuses=ORDER_STATUSES)


@blueprint.route("/orders/<int:order_id>")
@requires("sales.view")
def order(order_id):
    db = requestdb.session()
    detail = queries.order_sheet(db, order_id)
    _check_customer(detail["customer"]["sales_rep"])
    detail["customer"] = masked(detail["customer"], user().can("personal_data.view"))
    note_unmasked("crm_customer", detail["customer"]["id"], detail["customer"], PERSONAL_FIELDS)
    process = _order_to_cash(db, detail["quotation"]["number"]) if detail["quotation"] else None
    known_names([detail["sales_rep"]])
    return _page("order.html", "orders", o=detail, process=process,
                 position=instances.position(process.id) if process else None,
                 diagram_visible=process is not None and visibility.may_view_instance(db, process.id, user()))


# ---------------------------------------------------------------------- invoices and payments

@blueprint.route("/invoices")
@requires("sales.view")
def invoices():
    args = _args("status", "overdue", "q")
    rows = queries.invoice_list(requestdb.session(),
                                status=args["status"] if args["status"] in INVOICE_STATUSES else None,
                                overdue=args["overdue"] == "1", text=args["q"] or None, rep=_rep_filter())
    return _page("invoices.html", "invoices", rows=rows, args=args, statuses=INVOICE_STATUSES)


def _invoice_page(invoice_id: int, values: dict | None = None, errors: dict | None = None, status: int = 200):
    db = requestdb.session()
    detail = queries.invoice_detail(db, invoice_id)
    _check_customer(detail["customer"]["sales_rep"])
    detail["customer"] = masked(detail["customer"], user().can("personal_data.view"))
    note_unmasked("crm_customer", detail["customer"]["id"], detail["customer"], PERSONAL_FIELDS)
    known_names(p["created_by"] for p in detail["payments"])
    values = values or {"amount": str(detail["outstanding"]) if detail["outstanding"] > 0 else "",
                        "received_on": today().isoformat(), "payer": detail["customer"]["name_zh"], "memo": ""}
    return _page("invoice.html", "invoices", status, inv=detail, values=values, errors=errors or {},
                 may_record=user().can("payment.record"))


@blueprint.route("/invoices/<int:invoice_id>")
@requires("sales.view")
def invoice(invoice_id):
    return _invoice_page(invoice_id)


def _payment_input(values: dict) -> tuple[object, date]:
    errors: dict[str, list[str]] = {}
    amount = None
    try:
        amount = to_decimal(values["amount"].replace(",", "").replace("¥", "").replace("￥", ""), 2)
        if amount <= 0:
            errors["amount"] = [_("The amount must be more than zero.")]
    except ValueError:
        errors["amount"] = [_("Give the amount in yuan, at most two decimals.")]
    try:
        received_on = date.fromisoformat(values["received_on"])
    except ValueError:
        errors["received_on"] = [_("Not a date.")]
    if errors:
        raise InvalidInput(_("The payment was not recorded."), errors)
    return amount, received_on


@blueprint.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@requires("payment.record")
def record_payment(invoice_id):
    db = requestdb.session()
    detail = queries.invoice_detail(db, invoice_id)  # 404 for an unknown invoice
    values = {k: request.form.get(k, "").strip() for k in ("amount", "received_on", "payer", "memo")}
    try:
        amount, received_on = _payment_input(values)
        payment = payments.record_payment(db, invoice_id, amount, received_on=received_on,
                                          payer=values["payer"] or None, memo=values["memo"] or None,
                                          by=user().username)
    except InvalidInput as exc:
        return _invoice_page(invoice_id, values, exc.errors or {}, 422)
    collection.announce_payment(db, engine(), detail["number"], payment=payment.number, user=user().username)
    flash(_("Payment %(number)s of %(amount)s was recorded.", number=payment.number,
            amount=money(payment.amount)), "success")
    return redirect(url_for("sales.invoice", invoice_id=invoice_id))


@blueprint.route("/bank-statements", methods=["GET", "POST"])
@requires("payment.record")
def bank_statement():
    if request.method == "GET":
        return _page("bank_statement.html", "statement", result=None, errors={})
    db = requestdb.session()
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    try:
        if not data:
            raise InvalidInput(_("Choose a CSV file."), {"file": [_("Choose a CSV file.")]})
        result = payments.import_bank_statement(db, data, by=user().username)
    except (UnicodeDecodeError, csv.Error):
        return _page("bank_statement.html", "statement", 422, result=None,
                     errors={"file": [_("The file is not a CSV file in UTF-8 or GB18030.")]})
    except InvalidInput as exc:
        return _page("bank_statement.html", "statement", 422, result=None, errors=exc.errors or {})
    collection.announce_statement(db, engine(), result, user=user().username)
    return _page("bank_statement.html", "statement", result=result, errors={})


@blueprint.route("/payments")
@requires("sales.view")
def payment_list():
    args = _args("q")
    rows = queries.payment_list(requestdb.session(), text=args["q"] or None, rep=_rep_filter())
    return _page("payments.html", "payments", rows=rows, args=args)

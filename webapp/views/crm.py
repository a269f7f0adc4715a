"""CRM pages (客户管理): customers (search, create with the duplicate warning, detail with contacts and the
activity timeline), logging activities, and the pipeline as a kanban board. A sales rep sees only the customers
in their charge (Customer.sales_rep); crm.view_all sees everyone's. The rules live in erp.crm."""
from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.crm import queries, services
from erp.crm.models import PERSONAL_FIELDS, STAGES, Customer, Opportunity
from webapp import requestdb
from webapp.access_log import note_unmasked
from webapp.navigation import EXTRA, known_names
from webapp.security import requires, user

blueprint = Blueprint("crm", __name__, url_prefix="/crm")

EXTRA.append(("crm.customers", lazy_gettext("Customers"), "crm.view", None))
EXTRA.append(("crm.pipeline", lazy_gettext("Pipeline"), "crm.view", None))

BEIJING = ZoneInfo("Asia/Shanghai")
FORM_FIELDS = ("name_zh", "name_en", "tax_number", "phone", "address", "city", "province", "tier",
               "credit_limit", "payment_terms_days", "sales_rep", "tags", "segment")
STAGE_LABELS = {"prospecting": lazy_gettext("Prospecting"), "qualification": lazy_gettext("Qualification"),
                "proposal": lazy_gettext("Proposal"), "negotiation": lazy_gettext("Negotiation"),
                "won": lazy_gettext("Won"), "lost": lazy_gettext("Lost")}
ACTIVITY_LABELS = {"call": lazy_gettext("Call"), "visit": lazy_gettext("Visit"), "email": lazy_gettext("Email"),
                   "meeting": lazy_gettext("Meeting")}
REASON_LABELS = {"similar_name": lazy_gettext("similar name"), "same_phone": lazy_gettext("same phone"),
                 "same_tax_number": lazy_gettext("same tax number")}


def _sees_all() -> bool:
    return user().can("crm.view_all")


def _rep_filter() -> str | None:
    """None for people who see every customer; otherwise only the rep's own."""
    return None if _sees_all() else user().username


def _check_customer(customer_rep: str | None) -> None:
    """Someone else's customer does not exist for a sales rep (404, not 403: its existence is not told)."""
    if not _sees_all() and customer_rep != user().username:
        raise NotFound("no such customer")


def _labels() -> dict:
    return {"stages": STAGE_LABELS, "activities": ACTIVITY_LABELS, "reasons": REASON_LABELS}


# ---------------------------------------------------------------------- customers

@blueprint.route("/customers")
@requires("crm.view")
def customers():
    args = {k: request.args.get(k, "").strip() for k in ("q", "tag", "tier")}
    rows = queries.search_customers(requestdb.session(), args["q"] or None, tag=args["tag"] or None,
                                    tier=args["tier"] if args["tier"] in services.TIERS else None,
                                    rep=_rep_filter(), limit=200)
    known_names(r["sales_rep"] for r in rows)
    return render_template("crm/customers.html", rows=rows, args=args, tiers=services.TIERS)


def _customer_form() -> dict:
    return {k: request.form.get(k, "").strip() for k in FORM_FIELDS}


def _customer_fields(values: dict) -> dict:
    fields = {k: v for k, v in values.items() if v != "" and k != "tags"}
    fields["name_zh"] = values.get("name_zh", "")
    fields["tags"] = [t for t in re.split(r"[,，、\s]+", values.get("tags", "")) if t]
    if "payment_terms_days" in fields:
        terms = fields["payment_terms_days"]
        fields["payment_terms_days"] = int(terms) if terms.isdigit() else terms
    if not _sees_all():
        fields["sales_rep"] = user().username  # a rep's new customer is theirs, or they could not see it
    return fields


def _new_form(values, errors=None, candidates=None, status=200):
    return render_template("crm/customer_new.html", values=values, errors=errors or {}, candidates=candidates,
                           tiers=services.TIERS, sees_all=_sees_all(), **_labels()), status


@blueprint.route("/customers/new", methods=["GET", "POST"])
@requires("crm.edit")
def new_customer():
    if request.method == "GET":
        return _new_form({"tier": "C", "payment_terms_days": "30", "sales_rep": user().username})
    values = _customer_form()
    try:
        customer = services.create_customer(requestdb.session(), by=user().username,
                                            confirm_duplicate=request.form.get("confirm_duplicate") == "1",
                                            **_customer_fields(values))
    except services.LikelyDuplicate as exc:
        return _new_form(values, candidates=exc.candidates, status=409)
    except InvalidInput as exc:
        return _new_form(values, errors=exc.errors, status=422)
    flash(_("Customer %(code)s was created.", code=customer.code), "success")
    return redirect(url_for("crm.customer", customer_id=customer.id))


@blueprint.route("/customers/<int:customer_id>")
@requires("crm.view")
def customer(customer_id):
    db = requestdb.session()
    detail = queries.customer_detail(db, customer_id)
    _check_customer(detail["sales_rep"])
    detail = queries.masked(detail, user().can("personal_data.view"))
    note_unmasked("crm_customer", customer_id, detail, PERSONAL_FIELDS)
    known_names([detail["sales_rep"]] + [e.get("owner") or e.get("by") for e in detail["timeline"]]
                + [o["owner"] for o in detail["opportunities"]])
    return render_template("crm/customer.html", c=detail, kinds=services.ACTIVITY_KINDS,
                           may_edit=user().can("crm.edit"), **_labels())


def _due(text: str):
    """A follow-up date (YYYY-MM-DD) as 09:00 Beijing time that day."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(_("Not a date."), {"due": [_("Not a date.")]}) from None
    return datetime.combine(day, time(9), BEIJING)


@blueprint.route("/customers/<int:customer_id>/activities", methods=["POST"])
@requires("crm.edit")
def log_activity(customer_id):
    db = requestdb.session()
    found = db.get(Customer, customer_id)
    if found is None:
        raise NotFound(f"no customer {customer_id}")
    _check_customer(found.sales_rep)
    form = request.form
    due = form.get("due", "").strip()
    opportunity = form.get("opportunity_id", "")
    services.log_activity(db, kind=form.get("kind", ""), subject=form.get("subject", ""), owner=user().username,
                          customer_id=customer_id, opportunity_id=int(opportunity) if opportunity.isdigit() else None,
                          notes=form.get("notes", "").strip() or None, due_at=_due(due) if due else None,
                          done_at=None if due else clock.now())
    flash(_("Follow-up scheduled.") if due else _("Activity logged."), "success")
    return redirect(url_for("crm.customer", customer_id=customer_id))


# ---------------------------------------------------------------------- pipeline

def _board(db, owner: str | None) -> dict[str, list[dict]]:
    """The opportunities (with their customer's name) per stage, soonest close first."""
    query = (select(Opportunity, Customer.name_zh).join(Customer, Customer.id == Opportunity.customer_id)
             .order_by(Opportunity.expected_close, Opportunity.id))
    if owner is not None:
        query = query.where(Opportunity.owner == owner)
    board: dict[str, list[dict]] = {stage: [] for stage in STAGES}
    for opportunity, customer_name in db.execute(query):
        board[opportunity.stage].append({**queries.opportunity_row(opportunity), "customer_name": customer_name})
    return board


def _pipeline_page(status=200):
    db = requestdb.session()
    owner = _rep_filter()
    board = _board(db, owner)
    sums = queries.pipeline(db, owner, include_closed=True)
    known_names(card["owner"] for cards in board.values() for card in cards)
    chart = {"categories": [str(STAGE_LABELS[s["stage"]]) for s in sums["stages"]],
             "series": [{"name": _("Expected revenue"), "data": [str(s["amount"]) for s in sums["stages"]]},
                        {"name": _("Weighted"), "data": [str(s["weighted"]) for s in sums["stages"]]}]}
    return render_template("crm/pipeline.html", board=board, sums={s["stage"]: s for s in sums["stages"]},
                           totals=sums, stage_order=STAGES, chart=chart, may_edit=user().can("crm.edit"),
                           **_labels()), status


@blueprint.route("/pipeline")
@requires("crm.view")
def pipeline():
    return _pipeline_page()


@blueprint.route("/opportunities/<int:opportunity_id>/move", methods=["POST"])
@requires("crm.edit")
def move(opportunity_id):
    db = requestdb.session()
    found = db.get(Opportunity, opportunity_id)
    if found is None:
        raise NotFound(f"no opportunity {opportunity_id}")
    if not _sees_all() and found.owner != user().username:
        raise NotFound(f"no opportunity {opportunity_id}")
    stage = request.form.get("stage", "")
    try:
        services.move_opportunity(db, opportunity_id, stage, by=user().username,
                                  lost_reason=request.form.get("lost_reason", "").strip() or None)
    except InvalidInput as exc:
        flash(_("A lost opportunity needs the reason it was lost.") if "lost_reason" in exc.errors
              else _("Choose a stage."), "error")
        return _pipeline_page(422)
    flash(_("%(title)s moved to %(stage)s.", title=found.title, stage=STAGE_LABELS[stage]), "success")
    return redirect(url_for("crm.pipeline"))

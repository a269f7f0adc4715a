"""The books (账簿): trial balance, profit and loss, balance sheet and receivables aging, as tables with charts.
Every figure comes from erp.finance.queries; the pages only choose the dates."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from core.errors import InvalidInput
from erp.crm.models import Customer
from erp.finance import queries
from erp.finance.services import today
from webapp import requestdb
from webapp.navigation import EXTRA
from webapp.security import requires

blueprint = Blueprint("ledger", __name__, url_prefix="/ledger")

EXTRA.append(("ledger.trial_balance", lazy_gettext("Books"), "ledger.view", None))

PROFIT_LABELS = {
    "operating_revenue": lazy_gettext("Operating revenue"), "operating_cost": lazy_gettext("Cost of sales"),
    "taxes_and_surcharges": lazy_gettext("Taxes and surcharges"),
    "selling_expenses": lazy_gettext("Selling expenses"),
    "administrative_expenses": lazy_gettext("Administrative expenses"),
    "finance_costs": lazy_gettext("Finance costs"), "investment_income": lazy_gettext("Investment income"),
    "non_operating_income": lazy_gettext("Non-operating income"),
    "non_operating_expenses": lazy_gettext("Non-operating expenses"), "income_tax": lazy_gettext("Income tax"),
}
BUCKET_LABELS = {"current": lazy_gettext("Not yet due"), "1-30": lazy_gettext("1–30 days"),
                 "31-60": lazy_gettext("31–60 days"), "61-90": lazy_gettext("61–90 days"),
                 "over_90": lazy_gettext("Over 90 days")}


def _day(name: str, default: date) -> date:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Not a date."), {name: [_("Not a date.")]}) from None


def _page(template: str, **context):
    return render_template(f"ledger/{template}", tab=template.removesuffix(".html"), **context)


@blueprint.route("/trial-balance")
@requires("ledger.view")
def trial_balance():
    as_of = _day("as_of", today())
    return _page("trial_balance.html", report=queries.trial_balance(requestdb.session(), as_of), as_of=as_of)


@blueprint.route("/profit-and-loss")
@requires("ledger.view")
def profit_and_loss():
    until = _day("date_to", today())
    since = _day("date_from", until.replace(month=1, day=1))
    report = queries.profit_and_loss(requestdb.session(), since, until)
    chart = {"categories": [str(PROFIT_LABELS[k]) for k in PROFIT_LABELS],
             "series": [{"name": _("Amount"), "data": [str(report["lines"][k]) for k in PROFIT_LABELS]}]}
    return _page("profit_and_loss.html", report=report, date_from=since, date_to=until, labels=PROFIT_LABELS,
                 chart=chart)


@blueprint.route("/balance-sheet")
@requires("ledger.view")
def balance_sheet():
    as_of = _day("as_of", today())
    return _page("balance_sheet.html", report=queries.balance_sheet(requestdb.session(), as_of), as_of=as_of)


@blueprint.route("/ar-aging")
@requires("ledger.view")
def ar_aging():
    db = requestdb.session()
    as_of = _day("as_of", today())
    report = queries.ar_aging(db, as_of)
    codes = [p["partner_code"] for p in report["partners"] if p["partner_code"]]
    names = dict(db.execute(select(Customer.code, Customer.name_zh).where(Customer.code.in_(codes))).tuples().all()
                 ) if codes else {}
    chart = {"categories": [str(label) for label in BUCKET_LABELS.values()],
             "series": [{"name": _("Receivables"), "data": [str(report["totals"][b]) for b in BUCKET_LABELS]}]}
    return _page("ar_aging.html", report=report, as_of=as_of, buckets=BUCKET_LABELS, names=names, chart=chart)

"""The task inbox (待办): my tasks, my groups' unclaimed tasks, filters, sorting, pagination, saved filters."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select

from core import clock
from core.errors import InvalidInput
from engine import worklist
from erp.identity.models import SavedFilter
from webapp import requestdb
from webapp.navigation import known_names
from webapp.security import requires, user

blueprint = Blueprint("inbox", __name__)

FILTER_KEYS = ("view", "process", "business_key", "overdue", "due_soon", "min_priority", "q", "sort", "desc")


@blueprint.route("/")
@requires("task.work")
def index():
    return redirect(url_for("inbox.tasks"))


@blueprint.route("/inbox")
@requires("task.work")
def tasks():
    db = requestdb.session()
    me = user()
    flt = worklist.InboxFilter.from_args(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = 25
    now = clock.now()
    found = worklist.inbox_page(db, me.username, me.groups, flt, now=now, page=page, per_page=per_page)
    if flt.view in ("all", "group") and worklist.is_unfiltered(flt):
        # the page's walk counted my groups' offered tasks, the costly one of the navigation's counts
        mine = found.mine if flt.view == "all" else worklist.assigned_count(db, me.username)
        g.nav_counts = {"mine": mine, "group": found.offered,
                        "overdue": worklist.overdue_count(db, me.username, now=now)}
    known_names([name for row in found.rows for name in (row["started_by"], row["assignee"])])
    current = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
    return render_template(
        "inbox/tasks.html", rows=found.rows, total=found.total, page=page,
        pages=max((found.total + per_page - 1) // per_page, 1), flt=flt, current=current, query=urlencode(current),
        processes=worklist.process_keys(db), saved=_saved_filters(db, me.id))


def _saved_filters(db, user_id):
    return db.scalars(select(SavedFilter).where(SavedFilter.user_id == user_id).order_by(SavedFilter.name)).all()


@blueprint.route("/inbox/filters", methods=["POST"])
@requires("task.work")
def save_filter():
    db = requestdb.session()
    name = request.form.get("name", "").strip()[:100]
    query = request.form.get("query", "")[:2000]
    if not name:
        raise InvalidInput(_("A saved filter needs a name."), {"name": [_("required")]})
    existing = db.scalars(select(SavedFilter).where(SavedFilter.user_id == user().id,
                                                    SavedFilter.name == name)).first()
    if existing:
        existing.query = query
    else:
        db.add(SavedFilter(user_id=user().id, name=name, query=query))
    flash(_("Filter saved."), "success")
    return redirect(url_for("inbox.tasks") + ("?" + query if query else ""))


@blueprint.route("/inbox/filters/<int:filter_id>/delete", methods=["POST"])
@requires("task.work")
def delete_filter(filter_id):
    db = requestdb.session()
    db.execute(delete(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.user_id == user().id))
    flash(_("Filter deleted."), "success")
    return redirect(url_for("inbox.tasks"))

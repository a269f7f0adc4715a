"""The inbox tabs of tasks I handed on (转办, 委派, 加签) and tasks copied to me (抄送我的), with their counts in
the navigation."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from core.errors import NotFound
from engine import queries as engine_queries
from engine.models import HumanTask, TaskInvolvement
from webapp import requestdb
from webapp.navigation import EXTRA
from webapp.security import requires, user
from webapp.views.tasks import HANDED_ON_KINDS, PER_PAGE, blueprint

# ---------------------------------------------------------------------------------------------- inbox tabs


def _unread_copies(session, me) -> int:
    return session.scalar(select(func.count()).select_from(TaskInvolvement).where(
        TaskInvolvement.user_name == me.username, TaskInvolvement.kind == "copied",
        TaskInvolvement.read_at.is_(None)))


def _handed_on_count(session, me) -> int:
    return session.scalar(select(func.count()).select_from(TaskInvolvement)
                          .join(HumanTask, HumanTask.id == TaskInvolvement.task_id)
                          .where(TaskInvolvement.user_name == me.username, HumanTask.status == "open",
                                 TaskInvolvement.kind.in_(HANDED_ON_KINDS)))


EXTRA.append(("tasks.handed_on", lazy_gettext("Handed on"), "task.work", _handed_on_count))
EXTRA.append(("tasks.copied", lazy_gettext("Copied to me"), "task.work", _unread_copies))


def _involved(kind: str | None, endpoint: str):
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = engine_queries.involved_tasks(requestdb.session(), user().username, kind=kind, page=page,
                                                per_page=PER_PAGE)
    return render_template("tasks/involved.html", rows=rows, total=total, page=page, kind=kind,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), endpoint=endpoint,
                           args={"kind": kind} if endpoint == "tasks.involved" and kind else {})


@blueprint.route("/inbox/involved")
@requires("task.work")
def involved():
    kind = request.args.get("kind") or None
    if kind not in (None, *engine_queries.INVOLVEMENT_KINDS):
        raise NotFound(_("Not found."))
    return _involved(kind, "tasks.involved")


@blueprint.route("/inbox/handed-on")
@requires("task.work")
def handed_on():
    return _involved("handed_on", "tasks.handed_on")


@blueprint.route("/inbox/copied")
@requires("task.work")
def copied():
    return _involved("copied", "tasks.copied")

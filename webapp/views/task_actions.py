"""The approval actions on a task, each a small form on the task page: transfer (转办), delegate (委派) and
resolve, add signer (加签), return (退回), withdraw (撤回), copy (抄送), comment, dates."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import InvalidInput
from engine.models import HumanTask
from webapp import requestdb
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views.tasks import BEIJING, _form, _load, _render, _submitted, blueprint

# ---------------------------------------------------------------------------------------------- actions


def _act(task_id: int, action: str, run, message: str, *, to_inbox: bool = False):
    """Run one action; its input errors come back beside the action's fields on the task page (422)."""
    page = _load(task_id)
    try:
        run(requestdb.session(), page, user().username)
    except InvalidInput as exc:
        return _render(page, action_errors={action: exc.errors or {"": [str(exc)]}}, status=422)
    flash(message, "success")
    return redirect(url_for("inbox.tasks") if to_inbox else url_for("tasks.show", task_id=task_id))


def _field(name: str) -> str:
    return (request.form.get(name) or "").strip()


@blueprint.route("/tasks/<int:task_id>/transfer", methods=["POST"])
@requires("task.work")
def transfer(task_id):
    return _act(task_id, "transfer", lambda s, p, me: engine().transfer(
        s, p.task.id, me, _field("to_user"), comment=_field("comment") or None),
        _("Task transferred to %(name)s.", name=_field("to_user")), to_inbox=True)


@blueprint.route("/tasks/<int:task_id>/delegate", methods=["POST"])
@requires("task.work")
def delegate(task_id):
    return _act(task_id, "delegate", lambda s, p, me: engine().delegate(
        s, p.task.id, me, _field("to_user"), comment=_field("comment") or None),
        _("Task delegated to %(name)s; it comes back to you when they resolve it.", name=_field("to_user")))


@blueprint.route("/tasks/<int:task_id>/resolve", methods=["POST"])
@requires("task.work")
def resolve(task_id):
    def run(session, page, me):
        data, _errors, _store = _submitted(page, _form(page.task))
        engine().resolve(session, page.task.id, me, data=data or None, comment=_field("resolve_comment") or None)

    return _act(task_id, "resolve", run, _("Task handed back to its owner."), to_inbox=True)


@blueprint.route("/tasks/<int:task_id>/add-signer", methods=["POST"])
@requires("task.work")
def add_signer(task_id):
    position = _field("position") or "before"
    message = (_("%(name)s signs before you; the task then comes back to you.", name=_field("signer"))
               if position == "before" else _("%(name)s signs after you.", name=_field("signer")))
    return _act(task_id, "add_signer", lambda s, p, me: engine().add_signer(
        s, p.task.id, me, _field("signer"), position=position, comment=_field("comment") or None),
        message, to_inbox=position == "before")


@blueprint.route("/tasks/<int:task_id>/return", methods=["POST"])
@requires("task.work")
def return_task(task_id):
    to = _field("to") or "previous"
    return _act(task_id, "return", lambda s, p, me: engine().return_task(s, p.task.id, me, _field("reason"), to=to),
                _("Task returned to the requester.") if to == "requester"
                else _("Task returned to the previous step."), to_inbox=True)


@blueprint.route("/tasks/<int:task_id>/withdraw", methods=["POST"])
@requires("task.work")
def withdraw(task_id):
    page = _load(task_id)
    session, me = requestdb.session(), user().username
    engine().withdraw(session, page.task.id, me)
    again = session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == page.instance.id, HumanTask.status == "open",
        HumanTask.element_id == page.task.element_id, HumanTask.assignee == me).order_by(HumanTask.id.desc()))
    flash(_("Task withdrawn: it is back in your inbox."), "success")
    return redirect(url_for("tasks.show", task_id=again) if again else url_for("inbox.tasks"))


@blueprint.route("/tasks/<int:task_id>/copy", methods=["POST"])
@requires("task.work")
def copy(task_id):
    wanted = [u.strip() for value in request.form.getlist("to_users") for u in value.split(",") if u.strip()]
    return _act(task_id, "copy", lambda s, p, me: engine().copy_to(s, p.task.id, me, wanted,
                                                                     note=_field("note") or None),
                _("Copied to %(names)s.", names=", ".join(wanted)))


@blueprint.route("/tasks/<int:task_id>/comment", methods=["POST"])
@requires("task.work")
def comment(task_id):
    return _act(task_id, "comment", lambda s, p, me: engine().comment(s, p.task.id, me, _field("text")),
                _("Comment added."))


@blueprint.route("/tasks/<int:task_id>/dates", methods=["POST"])
@requires("task.work")
def dates(task_id):
    def run(session, page, me):
        changes = {name: _moment(name) for name in ("due_at", "follow_up_at") if name in request.form}
        supervise = page.supervises and not (page.can_work or page.task.owner == me)
        engine().set_dates(session, page.task.id, me, supervise=supervise, **changes)

    return _act(task_id, "dates", run, _("Dates saved."))


def _moment(name: str):
    """A datetime-local input (Beijing time) as an aware moment; empty clears the date."""
    text = _field(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Enter a date and time."), {name: [_("Enter a date and time.")]}) from None
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)



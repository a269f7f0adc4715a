"""Purchase requisitions (采购申请) on the purchasing blueprint: anyone may raise one and follow their own; the
form creates and submits it and starts procurement (business key = the requisition number). People with
purchasing.view see everyone's; for the others another person's requisition does not exist (404)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import InvalidInput, NotFound
from engine.models import ProcessInstance
from erp.purchasing import queries, services
from erp.purchasing.models import REQUISITION_STATUSES
from webapp import requestdb
from webapp.navigation import known_names
from webapp.runtime import engine
from webapp.security import requires, user
from webapp.views.purchasing import (
    PROCUREMENT,
    REQUISITION_LABELS,
    args,
    blueprint,
    localized,
    page,
    parse_date,
    process_context,
)

LINE_ROWS = 5
#: an instance in these statuses is still working on its requisition: submitting again starts nothing
LIVE = ("running", "incident", "suspended")


def _check_requester(requester: str) -> None:
    if requester != user().username and not user().can("purchasing.view"):
        raise NotFound(_("Not found."))


@blueprint.route("/requisitions")
@requires("requisition.create")
def requisitions():
    shown = args("status", "who")
    everyone = shown["who"] == "all" and user().can("purchasing.view")
    rows = queries.requisitions(requestdb.session(), requester=None if everyone else user().username,
                                status=shown["status"] if shown["status"] in REQUISITION_STATUSES else None)
    known_names(r["requester"] for r in rows)
    return page("requisitions.html", "requisitions", rows=rows, args=shown, everyone=everyone,
                statuses=REQUISITION_STATUSES)


def _form() -> dict:
    form = request.form
    rows = max(LINE_ROWS, sum(1 for k in form if k.startswith("sku_")))
    lines = [{f: form.get(f"{f}_{i}", "").strip() for f in ("sku", "quantity", "warehouse")} for i in range(rows)]
    return {**{k: form.get(k, "").strip() for k in ("department", "needed_by", "note")}, "lines": lines}


def _form_page(values: dict, errors: dict | None = None, status: int = 200):
    return page("requisition_new.html", "requisitions", status, values=values, errors=errors or {},
                **queries.requisition_choices(requestdb.session()))


def _input(values: dict) -> tuple[list[dict], list[int], object]:
    """(the filled lines, their row numbers on the form, needed by) or InvalidInput."""
    errors: dict[str, list[str]] = {}
    lines, rows = [], []
    for row, line in enumerate(values["lines"]):
        if not line["sku"] and not line["quantity"]:
            continue
        if not line["sku"]:
            errors[f"lines[{row}].sku"] = [_("Choose a product.")]
        lines.append({"sku": line["sku"], "quantity": line["quantity"], "warehouse": line["warehouse"] or None})
        rows.append(row)
    if not lines:
        errors["lines"] = [_("Give at least one line.")]
    needed_by = parse_date(values["needed_by"], "needed_by", errors)
    if errors:
        raise InvalidInput(_("The requisition was not saved."), errors)
    return lines, rows, needed_by


def _on_rows(errors: dict, rows: list[int]) -> dict:
    moved = {}
    for key, messages in localized(errors).items():
        if key.startswith("lines[") and "]" in key:
            index, rest = key[len("lines["):].split("]", 1)
            if index.isdigit() and int(index) < len(rows):
                key = f"lines[{rows[int(index)]}]{rest}"
        moved[key] = messages
    return moved


@blueprint.route("/requisitions/new", methods=["GET", "POST"])
@requires("requisition.create")
def new_requisition():
    if request.method == "GET":
        return _form_page({"department": "", "needed_by": "", "note": "", "lines": [{}] * LINE_ROWS})
    values = _form()
    rows: list[int] = []
    try:
        lines, rows, needed_by = _input(values)
        found = services.create_requisition(requestdb.session(), requester=user().username, lines=lines,
                                            department=values["department"] or None, needed_by=needed_by,
                                            note=values["note"] or None)
    except InvalidInput as exc:
        return _form_page(values, _on_rows(exc.errors or {}, rows), 422)
    flash(_("Requisition %(number)s was created.", number=found.number), "success")
    _submit(found.id)
    return redirect(url_for("purchasing.requisition", requisition_id=found.id))


@blueprint.route("/requisitions/<int:requisition_id>")
@requires("requisition.create")
def requisition(requisition_id):
    db = requestdb.session()
    detail = queries.requisition_sheet(db, requisition_id)
    _check_requester(detail["requester"])
    known_names([detail["requester"]])
    context = process_context(db, detail["requisition"])
    return page("requisition.html", "requisitions", q=detail, **context,
                may_submit=context["process"] is None and detail["status"] in ("draft", "rejected", "submitted")
                and detail["requester"] == user().username)


@blueprint.route("/requisitions/<int:requisition_id>/submit", methods=["POST"])
@requires("requisition.create")
def submit_requisition(requisition_id):
    _submit(requisition_id)
    return redirect(url_for("purchasing.requisition", requisition_id=requisition_id))


def _submit(requisition_id: int) -> None:
    """Submit the requisition and start procurement for it, once: the row is locked, so of two submits at the
    same time the second waits and then finds the instance the first started."""
    db = requestdb.session()
    found = services.find_requisition(db, requisition_id, lock=True)
    if found.requester != user().username:
        _check_requester(found.requester)
        raise NotFound(_("Not found."))  # others may look at it, but only the requester hands it in
    running = db.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == PROCUREMENT, ProcessInstance.business_key == found.number,
        ProcessInstance.status.in_(LIVE)).limit(1))
    if running is not None:
        flash(_("Requisition %(number)s is already in procurement (process instance #%(id)s).",
                number=found.number, id=running), "info")
        return
    if found.status in ("draft", "rejected"):
        services.submit_requisition(db, found)
    elif found.status != "submitted":
        flash(_("A requisition that is %(status)s cannot be submitted.", status=REQUISITION_LABELS[found.status]),
              "error")
        return
    try:
        started = engine().start(db, PROCUREMENT, {"requisition": found.number, "requester": found.requester},
                                 business_key=found.number, user=user().username)
    except NotFound:
        flash(_("The procurement process is not deployed; the requisition will be started once it is."), "error")
        return
    flash(_("Requisition %(number)s was submitted for approval (process instance #%(id)s).", number=found.number,
            id=started.id), "success")

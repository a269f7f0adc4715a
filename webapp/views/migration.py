"""Data migration pages (数据迁移) for data stewards: upload a legacy file (the dry run), its report with the
rows in error to download, submission for approval (the data_migration process), import templates, and the
runs with their import progress and reconciliation. The rules live in erp.migration."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from core.errors import Conflict, InvalidInput, NotFound
from erp.migration import runs
from erp.migration.entities import ENTITIES
from erp.migration.messages import translated
from erp.migration.models import Mapping, MigrationRun
from erp.migration.process import start_migration
from erp.migration.sources import read_source
from erp.migration.templates import template_csv, template_xlsx
from webapp import requestdb
from webapp.access_log import personal_shown
from webapp.forms_render import language
from webapp.navigation import EXTRA
from webapp.runtime import engine
from webapp.security import requires, user

blueprint = Blueprint("migration", __name__, url_prefix="/migration")
EXTRA.append(("migration.index", lazy_gettext("Data migration"), "migration.run", None))

STATUS_LABELS = {"validated": lazy_gettext("Dry run done"), "approved": lazy_gettext("Approved"),
                 "importing": lazy_gettext("Importing"), "imported": lazy_gettext("Imported"),
                 "reconciled": lazy_gettext("Reconciled"), "signed_off": lazy_gettext("Signed off"),
                 "failed": lazy_gettext("Failed"), "superseded": lazy_gettext("Superseded")}
RUNS_SHOWN = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def entity_label(key: str) -> str:
    spec = ENTITIES.get(key)
    if spec is None:
        return key
    return spec.label_zh if language() == "zh" else spec.label_en


def field_labels(key: str) -> dict[str, str]:
    spec = ENTITIES.get(key)
    zh = language() == "zh"
    return {f.name: f.label_zh if zh else f.label_en for f in spec.fields} if spec else {}


def _page(template: str, **context):
    return render_template(f"migration/{template}", status_labels=STATUS_LABELS, entity_label=entity_label,
                           entities=list(ENTITIES), reason_text=reason_text, **context)


def reason_text(reason: dict) -> str:
    """A validation reason in the reader's language (the templates are in parts/migration_messages.po)."""
    return translated(reason, _)


def _run(run_id: int) -> MigrationRun:
    return runs.find_run(requestdb.session(), run_id)


@blueprint.route("")
@requires("migration.run")
def index():
    rows = requestdb.session().scalars(select(MigrationRun).order_by(MigrationRun.id.desc()).limit(RUNS_SHOWN)).all()
    return _page("index.html", rows=rows)


def _mappings() -> list[Mapping]:
    return requestdb.session().scalars(select(Mapping).order_by(Mapping.entity, Mapping.name)).all()


@blueprint.route("/upload", methods=["GET", "POST"])
@requires("migration.run")
def upload():
    if request.method == "GET":
        return _page("upload.html", values={"entity": request.args.get("entity", "customers")}, errors={},
                     mappings=_mappings())
    values = {"entity": request.form.get("entity", ""), "mapping": request.form.get("mapping", "")}
    chosen = request.files.get("file")
    try:
        if values["entity"] not in ENTITIES:
            raise InvalidInput(_("Choose what the file holds."), {"entity": [_("Choose what the file holds.")]})
        if chosen is None or not chosen.filename:
            raise InvalidInput(_("Choose a file to upload."), {"file": [_("Choose a file to upload.")]})
        run = runs.stage(requestdb.session(), values["entity"], read_source(chosen.filename, chosen.read()),
                         mapping=values["mapping"] or None, by=user().username, source_name=chosen.filename)
    except NotFound as exc:
        return _page("upload.html", values=values, errors={"mapping": [str(exc)]}, mappings=_mappings()), 422
    except InvalidInput as exc:
        errors = exc.errors or {"file": [str(exc)]}
        return _page("upload.html", values=values, errors=errors, mappings=_mappings()), 422
    return redirect(url_for("migration.run", run_id=run.id))


@blueprint.route("/runs/<int:run_id>")
@requires("migration.run")
def run(run_id):
    found = _run(run_id)
    report = runs.report(requestdb.session(), found)
    return _page("run.html", run=found, report=report, fields=field_labels(found.entity),
                 may_submit=found.status == "validated" and found.instance_id is None and not found.errors)


@blueprint.route("/runs/<int:run_id>/errors.csv")
@requires("migration.run")
def error_rows(run_id):
    found = _run(run_id)
    warnings = request.args.get("warnings") == "1"
    data = runs.error_rows_csv(requestdb.session(), found, include_warnings=warnings, explain=reason_text)
    name = f"migration-{found.id}-{'problems' if warnings else 'errors'}.csv"
    personal_shown("migration_run", found.id, [], how="export")  # legacy rows may hold anyone's data
    response = send_file(BytesIO(data), mimetype="text/csv", as_attachment=True, download_name=name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.route("/runs/<int:run_id>/submit", methods=["POST"])
@requires("migration.run")
def submit(run_id):
    found = _run(run_id)
    try:
        start_migration(requestdb.session(), engine(), found, user=user().username)
    except Conflict as exc:
        flash(str(exc), "danger")
        return redirect(url_for("migration.run", run_id=run_id))
    flash(_("Run %(run)s was submitted for approval.", run=found.id), "success")
    return redirect(url_for("migration.run", run_id=run_id))


@blueprint.route("/templates")
@requires("migration.run")
def templates():
    return _page("templates.html")


@blueprint.route("/templates/<entity>/<fmt>")
@requires("migration.run")
def template(entity, fmt):
    if entity not in ENTITIES or fmt not in ("xlsx", "csv"):
        abort(404)
    data = template_xlsx(entity) if fmt == "xlsx" else template_csv(entity)
    return send_file(BytesIO(data), mimetype=XLSX if fmt == "xlsx" else "text/csv", as_attachment=True,
                     download_name=f"{entity}_template.{fmt}", max_age=0)

"""Saved column mappings (数据映射) on the migration blueprint: a data steward maps a legacy file's columns to
an entity's fields with their transforms, saves the mapping under a name and chooses it on the next upload.
A mapping can start from a sample file's headers or from the mapping a dry run used. The rules (which
transforms exist, what a valid mapping is) live in erp.migration.mapping."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from core.errors import InvalidInput
from erp.migration import mapping as rules
from erp.migration.entities import ENTITIES
from erp.migration.models import Mapping
from erp.migration.sources import read_source
from webapp import requestdb
from webapp.security import requires, user
from webapp.views.migration import _page, _run, blueprint, field_labels

#: the transforms a field may switch on, in the order they run (map and lookup have their own inputs)
SWITCHES = ("trim", "upper", "lower", "title", "date", "number", "phone_cn")
SWITCH_LABELS = {"trim": lazy_gettext("Trim spaces"), "upper": lazy_gettext("Upper case"),
                 "lower": lazy_gettext("Lower case"), "title": lazy_gettext("Title Case"),
                 "date": lazy_gettext("Date"), "number": lazy_gettext("Number"),
                 "phone_cn": lazy_gettext("Chinese phone number")}
MAP_LABELS = {"provinces": lazy_gettext("Provinces"), "units": lazy_gettext("Units"),
              "countries": lazy_gettext("Countries"), "yes_no": lazy_gettext("Yes / no")}


@blueprint.route("/mappings")
@requires("migration.run")
def mappings():
    found = requestdb.session().scalars(select(Mapping).order_by(Mapping.entity, Mapping.name)).all()
    return _page("mappings.html", mappings=found)


@blueprint.route("/mappings/new", methods=["GET", "POST"])
@requires("migration.run")
def new_mapping():
    entity_key = request.values.get("entity", "customers")
    if entity_key not in ENTITIES:
        abort(404)
    columns, headers = _starting_point(entity_key)
    if request.method == "POST" and "name" in request.form:
        return _save(None, entity_key)
    return _editor(None, entity_key, request.values.get("name", ""), columns, headers)


@blueprint.route("/mappings/<int:mapping_id>", methods=["GET", "POST"])
@requires("migration.run")
def edit_mapping(mapping_id):
    found = _mapping(mapping_id)
    if request.method == "POST":
        return _save(found, found.entity)
    return _editor(found, found.entity, found.name, found.columns, _sources_of(found.columns))


@blueprint.route("/mappings/<int:mapping_id>/delete", methods=["POST"])
@requires("migration.run")
def delete_mapping(mapping_id):
    found = _mapping(mapping_id)
    requestdb.session().delete(found)
    flash(_("Mapping %(name)s deleted.", name=found.name), "success")
    return redirect(url_for("migration.mappings"))


def _mapping(mapping_id: int) -> Mapping:
    found = requestdb.session().get(Mapping, mapping_id)
    if found is None:
        abort(404)
    return found


def _starting_point(entity_key: str) -> tuple[dict, list[str]]:
    """The columns to start from: a dry run's mapping (?run=), a sample file's headers (uploaded), or none."""
    run_id = request.values.get("run", type=int)
    if run_id:
        run = _run(run_id)
        return run.mapping, _sources_of(run.mapping)
    sample = request.files.get("sample")
    if sample is not None and sample.filename:
        try:
            headers = read_source(sample.filename, sample.read()).columns
        except InvalidInput as exc:
            flash(str(exc), "danger")
            return {}, []
        return rules.auto_mapping(entity_key, headers), headers
    return {}, []


def _sources_of(columns: dict) -> list[str]:
    return [rule["source"] for rule in columns.values() if rule.get("source")]


def _editor(found, entity_key: str, name: str, columns: dict, headers: list[str], errors=None, status=200):
    rows = [_row(f, columns.get(f.name)) for f in ENTITIES[entity_key].fields]
    return _page("mapping.html", mapping=found, entity_key=entity_key, name=name, rows=rows, headers=headers,
                 errors=errors or {}, switches=SWITCHES, switch_labels=SWITCH_LABELS, map_labels=MAP_LABELS,
                 fields=field_labels(entity_key)), status


def _row(f, rule: dict | None) -> dict:
    """One field's inputs from its rule ({source, transforms, default})."""
    rule = rule or {"source": None, "transforms": rules.default_transforms(f), "default": None}
    steps = {step.get("op"): step for step in rule.get("transforms") or ()}
    values = (steps.get("map") or {}).get("values")
    return {"field": f, "source": rule.get("source") or "", "default": rule.get("default") or "",
            "on": [op for op in SWITCHES if op in steps],
            "formats": ", ".join((steps.get("date") or {}).get("formats", ())),
            "decimal": (steps.get("number") or {}).get("decimal", "."),
            "map": values if isinstance(values, str) else ("custom" if values else ""),
            "map_values": "\n".join(f"{k}={v}" for k, v in values.items()) if isinstance(values, dict) else "",
            "lookup": (steps.get("lookup") or {}).get("entity", "")}


def _save(found, entity_key: str):
    form = request.form
    name = form.get("name", "").strip()
    try:
        columns = {f.name: rule for f in ENTITIES[entity_key].fields
                   if (rule := _rule(f.name, form)) is not None}
        if found is not None and name != found.name:
            requestdb.session().delete(found)
            requestdb.session().flush()
        saved = rules.save_mapping(requestdb.session(), entity_key, name, columns, by=user().username)
    except InvalidInput as exc:
        errors = exc.errors or {"name": [str(exc)]}
        columns = {f.name: _rule(f.name, form, strict=False) or {} for f in ENTITIES[entity_key].fields}
        return _editor(found, entity_key, name, columns, _sources_of(columns), errors, 422)
    flash(_("Mapping %(name)s saved.", name=saved.name), "success")
    return redirect(url_for("migration.edit_mapping", mapping_id=saved.id))


def _rule(name: str, form, strict: bool = True) -> dict | None:
    """A field's rule from the form, or None when the field takes neither a column nor a default."""
    source, default = form.get(f"source-{name}", "").strip(), form.get(f"default-{name}", "").strip()
    if not source and not default:
        return None
    steps = [_step(op, name, form) for op in SWITCHES if form.get(f"op-{name}-{op}")]
    chosen_map = form.get(f"map-{name}", "")
    if chosen_map == "custom":
        steps.append({"op": "map", "values": _pairs(form.get(f"mapvalues-{name}", ""), name, strict)})
    elif chosen_map:
        steps.append({"op": "map", "values": chosen_map})
    if form.get(f"lookup-{name}"):
        steps.append({"op": "lookup", "entity": form[f"lookup-{name}"]})
    return {"source": source or None, "transforms": steps, "default": default or None}


def _step(op: str, name: str, form) -> dict:
    if op == "date":
        formats = [f.strip() for f in form.get(f"formats-{name}", "").split(",") if f.strip()]
        return {"op": "date", "formats": formats} if formats else {"op": "date"}
    if op == "number" and form.get(f"decimal-{name}") == ",":
        return {"op": "number", "decimal": ","}
    return {"op": op}


def _pairs(text: str, name: str, strict: bool) -> dict:
    """Lines of old=new (旧值=新值) as the value map."""
    pairs, bad = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        old, sep, new = line.partition("=")
        if not sep or not old.strip():
            bad.append(line)
            continue
        pairs[old.strip()] = new.strip()
    if bad and strict:
        raise InvalidInput(_("Write each value as old=new."), {name: [_("Write each value as old=new.")]})
    return pairs

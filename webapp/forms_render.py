"""Forms for people: a JSON Schema (+ UI schema) rendered as HTML fields, the submitted request parsed back into
typed data (money as Decimal, files as attachment references), errors shown beside their fields, and the
read-only view of submitted data.

Everything the renderer shows comes from "raw" values: the strings of a submitted request (so a form shown
again after an error keeps what the user typed) or stored data turned into such strings (`raw_from_data`).
Inputs are named like `lines-0-sku`; errors are keyed by the dotted path jsonschema reports (`lines.0.sku`).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from core.errors import InvalidInput

CENT = Decimal("0.01")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LETTER = re.compile(r"[A-Za-z]")
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_MISSING = object()


# ---------------------------------------------------------------------------------------------- labels


def language() -> str:
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def localized(title: str | None, lang: str | None = None) -> str:
    """'金额 (元) Amount (CNY)' -> '金额 (元)' for Chinese, 'Amount (CNY)' for English; any other title whole."""
    if not title:
        return ""
    first_cjk = _CJK.search(title)
    english = _LETTER.search(title, first_cjk.end()) if first_cjk else None
    if english is None:
        return title
    chinese, english_part = title[:english.start()].strip(), title[english.start():].strip()
    return chinese if (lang or language()) == "zh" else english_part


def instructions_html(schema: dict, ui: dict) -> Markup | None:
    """The form's instructions (markdown, raw HTML disabled, so a diagram author cannot inject script)."""
    text = (ui or {}).get("ui:instructions") or (schema or {}).get("x-instructions")
    return Markup(_MARKDOWN.render(str(text))) if text else None


# ---------------------------------------------------------------------------------------------- fields


@dataclass
class Field:
    key: str  # the property name
    name: str  # the HTML input name
    path: str  # the data path errors are keyed by
    kind: str
    label: str
    help: str
    required: bool
    schema: dict
    ui: dict
    options: list[tuple[str, str]] = field(default_factory=list)  # (value as text, label)
    children: list[Field] = field(default_factory=list)  # a group's fields; a table's columns
    # bound to a request or data:
    value: object = ""  # text, or a list of texts (multiselect), or a list of references (files)
    rows: list[list[Field]] = field(default_factory=list)
    template: list[Field] = field(default_factory=list)  # a table's empty row for forms.js to copy
    errors: list[str] = field(default_factory=list)


def is_file(schema: dict) -> bool:
    return schema.get("format") == "file" or bool(schema.get("x-file"))


def is_money(schema: dict) -> bool:
    return schema.get("format") == "money" or bool(schema.get("x-money"))


def kind_of(schema: dict, ui: dict) -> str:
    widget = ui.get("ui:widget")
    kind = schema.get("type")
    if is_file(schema):
        return "file"
    if kind == "array":
        items = schema.get("items") or {}
        if is_file(items):
            return "files"
        if items.get("type") == "object":
            return "table"
        if "enum" in items:
            return "checkboxes" if widget == "checkboxes" else "multiselect"
        return "list"
    if "enum" in schema:
        return "radio" if widget == "radio" else "select"
    if kind == "boolean":
        return "checkbox"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "money" if is_money(schema) else "number"
    if kind == "object" and schema.get("properties"):
        return "group"
    fmt = schema.get("format")
    if fmt in ("date", "email"):
        return fmt
    if fmt == "date-time":
        return "datetime"
    return "textarea" if widget == "textarea" else "text"


def enum_options(schema: dict, ui: dict) -> list[tuple[str, str]]:
    """Choices with their labels from ui:enumNames or x-enumNames (a list beside the enum, or a mapping),
    shown as they are ("同意 Approve")."""
    values = schema.get("enum") or (schema.get("items") or {}).get("enum") or []
    names = ui.get("ui:enumNames") or schema.get("x-enumNames") or (schema.get("items") or {}).get("x-enumNames")
    options = []
    for i, value in enumerate(values):
        if isinstance(names, dict):
            label = names.get(str(value), value)
        elif isinstance(names, list) and i < len(names):
            label = names[i]
        else:
            label = value
        options.append((_text(value), str(label)))
    return options


def fields_of(schema: dict, ui: dict | None = None, name_prefix: str = "", path_prefix: str = "") -> list[Field]:
    """The rendered fields of an object schema, in ui:order or the schema's order (x-fill ones left out)."""
    ui = ui or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    order = [k for k in ui.get("ui:order", []) if k in properties]
    order += [k for k in properties if k not in order]
    fields = []
    for key in order:
        prop = properties[key] or {}
        prop_ui = ui.get(key) or {}
        if prop.get("x-fill") or prop_ui.get("ui:widget") == "hidden":
            continue
        kind = kind_of(prop, prop_ui)
        name, path = f"{name_prefix}{key}", f"{path_prefix}{key}"
        f = Field(key, name, path, kind, localized(prop.get("title")) or key,
                  localized(prop_ui.get("ui:help") or prop.get("description")), key in required, prop, prop_ui)
        if kind in ("select", "radio", "multiselect", "checkboxes"):
            f.options = enum_options(prop, prop_ui)
        elif kind == "group":
            f.children = fields_of(prop, prop_ui, f"{name}-", f"{path}.")
        elif kind == "table":
            f.children = fields_of(prop["items"], prop_ui.get("items") or {}, "", "")
        fields.append(f)
    return fields


def fill_keys(schema: dict) -> dict[str, str]:
    """{property: what fills it} for the properties the server sets (x-fill: current_user)."""
    return {k: p["x-fill"] for k, p in (schema.get("properties") or {}).items() if (p or {}).get("x-fill")}


# ---------------------------------------------------------------------------------------------- raw values


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def raw_from_data(schema: dict, ui: dict | None, data: dict | None) -> MultiDict:
    """Stored data as the strings a submitted form would hold, to prefill the form."""
    raw = MultiDict()
    _raw_into(raw, fields_of(schema, ui), data or {})
    return raw


def _raw_into(raw: MultiDict, fields: list[Field], data: dict) -> None:
    for f in fields:
        value = data.get(f.key) if isinstance(data, dict) else None
        if value is None:
            continue
        if f.kind == "group":
            _raw_into(raw, f.children, value)
        elif f.kind == "table":
            for i, row in enumerate(value if isinstance(value, list) else []):
                _raw_into(raw, fields_of(f.schema["items"], f.ui.get("items"), f"{f.name}-{i}-"), row)
        elif f.kind in ("multiselect", "checkboxes"):
            for item in value if isinstance(value, list) else [value]:
                raw.add(f.name, _text(item))
        elif f.kind == "list":
            raw.add(f.name, "\n".join(_text(v) for v in value) if isinstance(value, list) else _text(value))
        elif f.kind == "file":
            raw.add(f"{f.name}-ref", json.dumps(value, ensure_ascii=False))
        elif f.kind == "files":
            for ref in value if isinstance(value, list) else [value]:
                raw.add(f"{f.name}-ref", json.dumps(ref, ensure_ascii=False))
        elif f.kind == "checkbox":
            if value:
                raw.add(f.name, "on")
        else:
            raw.add(f.name, _text(value))


def table_rows(raw, files, f: Field) -> list[int]:
    """The submitted row indexes of a table that hold something, in order (gaps and removed rows skipped)."""
    pattern = re.compile(rf"^{re.escape(f.name)}-(\d+)-(.+)$")
    rows: dict[int, bool] = {}
    deleted = set()
    for key in [*raw.keys(), *(files.keys() if files else ())]:
        match = pattern.match(key)
        if not match:
            continue
        index, column = int(match.group(1)), match.group(2)
        if column == "_delete":
            deleted.add(index)
            continue
        values = raw.getlist(key) if key in raw else [getattr(v, "filename", "") for v in files.getlist(key)]
        rows[index] = rows.get(index, False) or any(str(v).strip() for v in values)
    return [i for i in sorted(rows) if rows[i] and i not in deleted]


def _row_fields(f: Field, raw_index, index) -> list[Field]:
    items = f.schema.get("items") or {}
    return fields_of(items, f.ui.get("items") or {}, f"{f.name}-{raw_index}-", f"{f.path}.{index}.")


# ---------------------------------------------------------------------------------------------- parsing


class FileStore:
    """How parsing keeps uploaded files: `store(file) -> reference`, `check(reference) -> reference or None`."""

    def store(self, upload) -> dict:  # pragma: no cover - an interface
        raise NotImplementedError

    def check(self, reference: dict) -> dict | None:  # pragma: no cover - an interface
        raise NotImplementedError


def parse(schema: dict, ui: dict | None, raw, files=None, *, username: str | None = None,
          file_store: FileStore | None = None) -> tuple[dict, dict[str, list[str]]]:
    """The typed data of a submitted form and the errors of values that could not be read (by data path).
    Fields the server fills (x-fill: current_user) are set here, whatever the request says."""
    data: dict = {}
    errors: dict[str, list[str]] = {}
    _parse_into(data, errors, fields_of(schema, ui), raw, files, file_store)
    for key, source in fill_keys(schema).items():
        data.pop(key, None)
        if source == "current_user" and username:
            data[key] = username
    return data, errors


def _parse_into(data, errors, fields, raw, files, file_store) -> None:
    for f in fields:
        try:
            value = _parse_field(f, raw, files, file_store, errors)
        except _Unreadable as exc:
            errors.setdefault(f.path, []).append(str(exc))
            continue
        if value is not _MISSING:
            data[f.key] = value


class _Unreadable(ValueError):
    pass


def _parse_field(f: Field, raw, files, file_store, errors):
    if f.kind == "group":
        value: dict = {}
        _parse_into(value, errors, f.children, raw, files, file_store)
        return value if value else _MISSING
    if f.kind == "table":
        rows = []
        for index, raw_index in enumerate(table_rows(raw, files, f)):
            row: dict = {}
            _parse_into(row, errors, _row_fields(f, raw_index, index), raw, files, file_store)
            rows.append(row)
        return rows
    if f.kind == "checkbox":
        return f.name in raw and raw.get(f.name) not in ("", "off", "false", "0")
    if f.kind in ("multiselect", "checkboxes"):
        return [_choice(f, v) for v in raw.getlist(f.name) if v != ""]
    if f.kind in ("file", "files"):
        return _parse_files(f, raw, files, file_store)
    text = (raw.get(f.name) or "").strip()
    if f.kind == "list":
        return [line.strip() for line in text.splitlines() if line.strip()] or _MISSING
    if text == "":
        return _MISSING
    if f.kind in ("select", "radio"):
        return _choice(f, text)
    if f.kind == "integer":
        number = _decimal(text)
        if number != number.to_integral_value():
            raise _Unreadable(_("Enter a whole number."))
        return int(number)
    if f.kind == "number":
        return _decimal(text)
    if f.kind == "money":
        return _money(text)
    if f.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise _Unreadable(_("Enter a date as YYYY-MM-DD.")) from None
    if f.kind == "datetime":
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            raise _Unreadable(_("Enter a date and time.")) from None
    return raw.get(f.name) if f.kind == "textarea" else text


def _choice(f: Field, text: str):
    """The enum value whose text is `text` (enums may hold numbers); an unknown text stays for the validator."""
    values = f.schema.get("enum") or (f.schema.get("items") or {}).get("enum") or []
    return next((v for v in values if _text(v) == text), text)


def _decimal(text: str) -> Decimal:
    cleaned = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").replace("\u00a0", "")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise _Unreadable(_("Enter a number.")) from None
    if not number.is_finite():
        raise _Unreadable(_("Enter a number."))
    return number


def _money(text: str) -> Decimal:
    """An amount of yuan, exact: '¥1,234.5' -> Decimal('1234.50'); more than two decimals is a mistake."""
    number = _decimal(unicodedata.normalize("NFKC", text).replace("¥", "").replace("元", ""))
    if number.as_tuple().exponent < -2 and number != number.quantize(CENT):
        raise _Unreadable(_("Enter an amount with at most two decimal places."))
    return number.quantize(CENT)


def _parse_files(f: Field, raw, files, file_store):
    refs = []
    for text in raw.getlist(f"{f.name}-ref"):
        try:
            ref = json.loads(text) if text else None
        except ValueError:
            ref = None
        checked = file_store.check(ref) if (file_store and isinstance(ref, dict)) else None
        if checked is None and text:
            raise _Unreadable(_("The attached file is not available; upload it again."))
        if checked is not None:
            refs.append(checked)
    uploads = [u for u in (files.getlist(f.name) if files else []) if getattr(u, "filename", "")]
    if uploads and file_store is None:
        raise _Unreadable(_("Files cannot be uploaded here."))
    stored = [file_store.store(u) for u in uploads]
    if f.kind == "file":
        chosen = (stored or refs)[:1]
        return chosen[0] if chosen else _MISSING
    return [*refs, *stored] or _MISSING


# ---------------------------------------------------------------------------------------------- validation


def schema_errors(schema: dict, data: dict) -> dict[str, list[str]]:
    """jsonschema's errors in words for people, by data path."""
    from forms import _plain

    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(_plain(data)):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            path.append(error.message.split("'")[1] if "'" in error.message else "")
        message = _friendly(error)
        key = ".".join(path)
        if message not in errors.get(key, []):
            errors.setdefault(key, []).append(message)
    return errors


def _friendly(error) -> str:
    kind, limit = error.validator, error.validator_value
    if kind == "required" or (kind == "minLength" and limit == 1) or (kind == "minItems" and limit == 1
                                                                    and error.instance == []):
        return _("This field is required.")
    messages = {
        "minLength": lambda: _("Enter at least %(n)s characters.", n=limit),
        "maxLength": lambda: _("Enter at most %(n)s characters.", n=limit),
        "minimum": lambda: _("Enter %(n)s or more.", n=limit),
        "maximum": lambda: _("Enter %(n)s or less.", n=limit),
        "exclusiveMinimum": lambda: _("Enter more than %(n)s.", n=limit),
        "exclusiveMaximum": lambda: _("Enter less than %(n)s.", n=limit),
        "enum": lambda: _("Choose one of the options."),
        "const": lambda: _("Choose one of the options."),
        "minItems": lambda: _("Add at least %(n)s.", n=limit),
        "maxItems": lambda: _("Add at most %(n)s.", n=limit),
        "pattern": lambda: _("The value does not have the expected form."),
        "type": lambda: _("Choose one of the options.") if "enum" in error.schema else _("Enter a valid value."),
        "format": lambda: {"email": _("Enter a valid email address."), "date": _("Enter a date as YYYY-MM-DD.")
                           }.get(limit, _("Enter a valid value.")),
        "multipleOf": lambda: _("Enter a multiple of %(n)s.", n=limit),
    }
    return messages[kind]() if kind in messages else error.message


def check(catalog, key: str, data: dict, parse_errors: dict | None = None) -> dict[str, list[str]]:
    """All errors of submitted data: the values that could not be read, then the form catalogue's validation
    (jsonschema) in words for people. Empty when the data may be submitted."""
    errors = {k: list(v) for k, v in (parse_errors or {}).items()}
    try:
        catalog.validate(key, data)
    except InvalidInput as exc:
        found = schema_errors(catalog.get(key).schema, data) or exc.errors
        for path, messages in found.items():
            if path not in errors:  # a value that could not be read is reported once, as such
                errors[path] = list(messages)
    return errors


def validate_or_raise(catalog, key: str, data: dict, parse_errors: dict | None = None) -> None:
    errors = check(catalog, key, data, parse_errors)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)


# ---------------------------------------------------------------------------------------------- rendering


def bind(fields: list[Field], raw, errors: dict, files=None) -> list[Field]:
    """Give each field its raw value and errors (tables get their rows: the submitted ones, renumbered as
    parsing numbers them, then one empty row)."""
    for f in fields:
        f.errors = list(errors.get(f.path, []))
        if f.kind == "group":
            bind(f.children, raw, errors, files)
        elif f.kind == "table":
            indexes = table_rows(raw, files, f)
            f.rows = []
            for index, raw_index in enumerate([*indexes, None]):
                row = _row_fields(f, raw_index if raw_index is not None else "x", index)
                bind(row, raw if raw_index is not None else MultiDict(), errors)
                for cell in row:  # rows are renumbered: name them by their new index
                    cell.name = f"{f.name}-{index}-{cell.key}"
                f.rows.append(row)
            f.template = bind(_row_fields(f, "__index__", "__index__"), MultiDict(), {})
        elif f.kind in ("multiselect", "checkboxes"):
            f.value = raw.getlist(f.name)
        elif f.kind in ("file", "files"):
            f.value = [_ref(t) for t in raw.getlist(f"{f.name}-ref") if _ref(t)]
        else:
            f.value = raw.get(f.name, "")
    return fields


def _ref(text) -> dict | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) and "id" in value else None


def paths_of(fields: list[Field]) -> set[str]:
    found = set()
    for f in fields:
        found.add(f.path)
        found |= paths_of(f.children) if f.kind == "group" else set()
        for row in f.rows:
            found |= paths_of(row)
    return found


def render_fields(schema: dict, ui: dict | None, raw=None, errors: dict | None = None, files=None,
                  *, prefix: str = "") -> Markup:
    """The form's fields (without the <form> element and buttons), with errors beside them; errors that
    belong to no visible field are listed above."""
    errors = errors or {}
    fields = bind(fields_of(schema, ui), raw if raw is not None else MultiDict(), errors, files)
    shown = paths_of(fields)
    others = {p: m for p, m in errors.items() if p not in shown}
    return Markup(render_template("forms/fields.html", fields=fields, others=others, prefix=prefix))


# ---------------------------------------------------------------------------------------------- read-only


@dataclass
class Shown:
    label: str
    kind: str
    value: object
    rows: list[list[Shown]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    children: list[Shown] = field(default_factory=list)


def shown_values(schema: dict | None, ui: dict | None, data: dict) -> list[Shown]:
    """Submitted data as label/value pairs in the form's order (server-filled fields included)."""
    if not schema:
        return [Shown(str(k), "text", v) for k, v in (data or {}).items() if not isinstance(v, (dict, list))]
    return [shown for _key, shown in _shown_by_key(schema, ui or {}, data or {}) if shown is not None]


def _shown_by_key(schema: dict, ui: dict, data: dict):
    for key, prop in (schema.get("properties") or {}).items():
        prop, prop_ui = prop or {}, ui.get(key) or {}
        value = data.get(key) if isinstance(data, dict) else None
        yield key, (None if value is None else _shown(prop, prop_ui, value, localized(prop.get("title")) or key))


def _shown(prop: dict, ui: dict, value, label: str) -> Shown:
    kind = "person" if prop.get("x-fill") == "current_user" else kind_of(prop, ui)
    if kind in ("select", "radio", "multiselect", "checkboxes"):
        labels = dict(enum_options(prop, ui))
        value = ([labels.get(_text(v), v) for v in value] if isinstance(value, list)
                 else labels.get(_text(value), value))
    if kind == "table":
        row_schema, row_ui = prop.get("items") or {}, ui.get("items") or {}
        columns = [localized((p or {}).get("title")) or k for k, p in (row_schema.get("properties") or {}).items()]
        rows = [[shown or Shown("", "text", "") for _k, shown in _shown_by_key(row_schema, row_ui, row)]
                for row in value if isinstance(row, dict)]
        return Shown(label, kind, None, rows=rows, columns=columns)
    if kind == "group":
        return Shown(label, kind, None, children=shown_values(prop, ui, value if isinstance(value, dict) else {}))
    return Shown(label, kind, value)


def render_readonly(schema: dict | None, ui: dict | None, data: dict) -> Markup:
    """Submitted data, read-only: money as ¥1,234.50, dates in the user's format, files as download links."""
    return Markup(render_template("forms/readonly.html", items=shown_values(schema, ui, data or {})))


def file_references(schema: dict | None, data: dict) -> list[dict]:
    """Every attachment reference the data holds in the form's file fields (also inside tables and groups)."""
    found: list[dict] = []
    for key, prop in ((schema or {}).get("properties") or {}).items():
        value = (data or {}).get(key) if isinstance(data, dict) else None
        prop = prop or {}
        if value is None:
            continue
        if is_file(prop) and isinstance(value, dict):
            found.append(value)
        elif prop.get("type") == "array" and is_file(prop.get("items") or {}):
            found.extend(v for v in value if isinstance(v, dict))
        elif prop.get("type") == "array" and (prop.get("items") or {}).get("type") == "object":
            for row in value if isinstance(value, list) else []:
                found.extend(file_references(prop["items"], row))
        elif prop.get("type") == "object":
            found.extend(file_references(prop, value))
    return found


def keep_uploads(schema: dict | None, raw, data: dict) -> MultiDict:
    """The submitted values with the files of the form's own file fields as references (those just uploaded
    included), to show the form again after an error without asking for the files again."""
    raw = MultiDict(raw)
    for key, prop in ((schema or {}).get("properties") or {}).items():
        prop, value = prop or {}, (data or {}).get(key)
        if value and (is_file(prop) or (prop.get("type") == "array" and is_file(prop.get("items") or {}))):
            refs = value if isinstance(value, list) else [value]
            raw.setlist(f"{key}-ref", [json.dumps(r, ensure_ascii=False) for r in refs])
    return raw

"""User-task forms: JSON Schema files (with an optional UI schema) kept beside this module, and their validation.

A form key is the file's path below this folder without `.json` (`approval/review`); a UI schema, when present,
sits beside it as `<name>.ui.json`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from core.errors import InvalidInput, NotFound

FORMS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Form:
    key: str
    schema: dict
    ui_schema: dict


class FormCatalog:
    """Reads and validates the forms of one folder; schemas are checked once and cached."""

    def __init__(self, root: Path = FORMS_DIR):
        self.root = Path(root).resolve()
        self._cache: dict[str, tuple[float, Form]] = {}

    def path_of(self, key: str) -> Path:
        path = (self.root / f"{key}.json").resolve()
        if self.root not in path.parents or key.endswith(".ui"):
            raise NotFound(f"form {key!r} is not a form of {self.root}")
        return path

    def exists(self, key: str) -> bool:
        try:
            return self.path_of(key).is_file()
        except NotFound:
            return False

    def get(self, key: str) -> Form:
        path = self.path_of(key)
        if not path.is_file():
            raise NotFound(f"form {key!r} not found (looked for {path})")
        mtime = path.stat().st_mtime
        cached = self._cache.get(key)
        if cached and cached[0] == mtime:
            return cached[1]
        form = Form(key, _load_json(path), _load_ui_schema(path))
        self._cache[key] = (mtime, form)
        return form

    def problems(self, key: str) -> list[str]:
        """What is wrong with the form file (missing, not JSON, not a valid JSON Schema); empty when fine."""
        try:
            form = self.get(key)
        except (NotFound, ValueError) as exc:
            return [str(exc)]
        error = _schema_error(json.dumps(form.schema, sort_keys=True, ensure_ascii=False))
        return [f"form {key!r} is not a valid JSON Schema: {error}"] if error else []

    def validate(self, key: str, data: dict) -> None:
        """Raise InvalidInput with errors per field path when `data` does not satisfy the form's schema."""
        errors = field_errors(self.get(key).schema, data)
        if errors:
            raise InvalidInput(f"the data does not satisfy form {key!r}", errors)

    def keys(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.root).with_suffix("")).replace("\\", "/")
            for p in self.root.rglob("*.json")
            if not p.name.endswith(".ui.json")
        )


@lru_cache(maxsize=2048)
def _schema_error(schema_json: str) -> str | None:
    """Why the schema (as canonical JSON) is not a valid JSON Schema, or None. Checked once per process for
    each schema: the check walks the whole meta-schema (about 13 ms a form), and every deploy checks the
    forms of all its tasks."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as exc:
        return exc.message
    return None


def field_errors(schema: dict, data: dict) -> dict[str, list[str]]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(_plain(data)):
        path = list(error.absolute_path)
        if error.validator == "required":
            # point at the missing field, not at its parent object
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path.append(missing)
        errors.setdefault(".".join(str(p) for p in path), []).append(error.message)
    return errors


def _plain(value):
    """Decimal values validate as JSON numbers."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"form file {path.name} is not valid JSON: {exc}") from exc


def _load_ui_schema(path: Path) -> dict:
    ui = path.with_name(path.stem + ".ui.json")
    return _load_json(ui) if ui.is_file() else {}


@cache
def default_catalog() -> FormCatalog:
    return FormCatalog()

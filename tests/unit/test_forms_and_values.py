"""Form validation, JSON-safe values and correlation keys: pure logic, no database."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.errors import InvalidInput, NotFound
from engine.projection import correlation_key
from engine.values import jsonable
from forms import FormCatalog
from tests.conftest import FIXTURES, ROOT


def test_every_shipped_form_is_a_valid_json_schema():
    catalog = FormCatalog(ROOT / "forms")
    assert catalog.keys() and all(catalog.problems(key) == [] for key in catalog.keys())


def test_form_errors_point_at_each_field():
    catalog = FormCatalog(ROOT / "forms")
    with pytest.raises(InvalidInput) as invalid:
        catalog.validate("approval/review", {"decision": "return"})
    assert set(invalid.value.errors) == {"comment"}
    catalog.validate("approval/review", {"decision": "approve"})
    catalog.validate("approval/request", {"title": "纸", "amount": Decimal("12.50"), "requester": "wangfang"})


def test_a_form_key_cannot_leave_the_forms_folder():
    catalog = FormCatalog(FIXTURES / "forms")
    for key in ("../conftest", "/etc/passwd", "simple/../../bpmn_text"):
        assert not catalog.exists(key)
        with pytest.raises(NotFound):
            catalog.get(key)


def test_a_broken_schema_is_reported_not_raised():
    assert "not a valid JSON Schema" in FormCatalog(FIXTURES / "forms").problems("broken")[0]


def test_values_become_json_safe_without_losing_money_digits():
    value = {"amount": Decimal("1234.50"), "day": date(2026, 2, 17), "at": datetime(2026, 1, 1, tzinfo=UTC),
             "tags": {"a"}, "fn": print}
    assert jsonable(value) == {"amount": "1234.50", "day": "2026-02-17", "at": "2026-01-01T00:00:00+00:00",
                               "tags": ["a"]}


def test_correlation_keys_match_regardless_of_value_type_and_order():
    assert correlation_key({"order_id": 42, "customer": "C1"}) == correlation_key({"customer": "C1",
                                                                                   "order_id": "42"})
    assert correlation_key({}) == ""
    assert correlation_key({"k": "a&b=c"}) == "k=a%26b%3Dc"

"""Masking (脱敏) of personal information: what stays visible of a value, and which fields a form marks."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp.masking import mask, mask_data, personal_fields


@pytest.mark.parametrize("value, masked", [
    ("13812345678", "138****5678"),               # a mobile number
    ("110101199003071234", "110***********1234"),  # an ID card number
    ("6222021234567890123", "622************0123"),  # a bank card
    ("张三丰", "张*丰"),
    ("张三", "张*"),
    ("王", "*"),
    ("wangfang", "w******g"),
    ("", ""),
])
def test_a_string_keeps_its_first_and_last_characters(value, masked):
    assert mask(value) == masked
    assert len(mask(value)) == len(value)


def test_numbers_and_dates_are_masked_as_their_text_and_empty_values_stay():
    assert mask(13812345678) == "138****5678"
    assert mask(Decimal("1234.56")) == "1*****6"
    assert mask(date(1990, 3, 7)) == "1********7"
    assert mask(None) is None and mask(True) is True
    assert mask(["13812345678", "张三"]) == ["138****5678", "张*"]


def test_mask_data_masks_the_personal_fields_at_any_depth_and_leaves_the_rest():
    data = {"title": "报销", "phone": "13812345678", "amount": "12.50",
            "contacts": [{"name": "李娜", "phone": "13987654321"}], "customer": {"id_number": "110101199003071234"}}
    masked = mask_data(data, {"phone", "id_number"})
    assert masked == {"title": "报销", "phone": "138****5678", "amount": "12.50",
                      "contacts": [{"name": "李娜", "phone": "139****4321"}],
                      "customer": {"id_number": "110***********1234"}}
    assert data["phone"] == "13812345678"  # the original is untouched
    assert mask_data(data, set()) is data
    assert mask_data(None, {"phone"}) is None


def test_personal_fields_are_the_properties_marked_x_personal_in_any_schema():
    request = {"type": "object", "properties": {
        "title": {"type": "string"}, "phone": {"type": "string", "x-personal": True},
        "contacts": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "x-personal": True}, "role": {"type": "string"}}}}}}
    review = {"type": "object", "properties": {"decision": {"type": "string"}},
              "allOf": [{"if": {"properties": {"decision": {"const": "reject"}}},
                         "then": {"properties": {"bank_account": {"type": "string", "x-personal": True}}}}],
              "$defs": {"person": {"properties": {"id_number": {"x-personal": True}}}}}
    assert personal_fields([request, review]) == {"phone", "name", "bank_account", "id_number"}
    assert personal_fields([{"properties": {"phone": {"x-personal": "yes"}}}]) == set()
    assert personal_fields([]) == set()

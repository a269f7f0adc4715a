"""Every transform of a migration mapping, and apply() turning a raw legacy row into cleansed values."""
from __future__ import annotations

import pytest

from erp.migration.mapping import (
    Mapper,
    TransformError,
    apply,
    map_value,
    phone_cn,
    to_date,
    to_number,
    trim,
)
from erp.migration.sources import EXTRA_CELLS


def rule(source, *transforms, default=None):
    return {"source": source, "transforms": list(transforms), "default": default}


def test_trim_removes_full_width_and_non_breaking_spaces_and_collapses_inner_runs():
    assert trim("\u3000 北京  华联\xa0商贸 ") == "北京 华联 商贸"


@pytest.mark.parametrize("op, value, expected", [("upper", "ma01xj8e5", "MA01XJ8E5"), ("lower", "Zhang@Example.COM",
                         "zhang@example.com"), ("title", "hualian trading", "Hualian Trading")])
def test_case_transforms(op, value, expected):
    values, problems = apply("customers", {"name_en": rule("v", {"op": op})}, {"v": value})
    assert values["name_en"] == expected and problems == []


@pytest.mark.parametrize("text, formats, expected", [
    ("2024/03/31", [], "2024-03-31"), ("31.03.2024", ["%d.%m.%Y"], "2024-03-31"), ("2024年3月31日", [], "2024-03-31"),
    ("20240331", [], "2024-03-31"), ("03/31/2024", ["%m/%d/%Y"], "2024-03-31"), ("45382", [], "2024-03-31"),
    (" 2024-03-31 00:00:00 ", [], "2024-03-31")])
def test_dates_in_legacy_formats_become_iso(text, formats, expected):
    assert to_date(text, {"formats": formats}) == expected


def test_an_impossible_date_is_a_transform_error():
    with pytest.raises(TransformError, match="not a date"):
        to_date("2024-02-30")


@pytest.mark.parametrize("text, spec, expected", [
    ("1,234.50", {}, "1234.50"), ("1.234,50", {"decimal": ",", "thousands": "."}, "1234.50"),
    ("1 234,5", {"decimal": ",", "thousands": " "}, "1234.5"), ("¥20000", {}, "20000"),
    ("￥ 3,000.00元", {}, "3000.00"),
    ("(1,000.00)", {}, "-1000.00"), ("１２３", {}, "123"), ("1234", {"thousands": ""}, "1234")])
def test_numbers_with_separators_and_currency_signs(text, spec, expected):
    assert to_number(text, spec) == expected


def test_text_is_not_a_number():
    with pytest.raises(TransformError):
        to_number("一千")


@pytest.mark.parametrize("text, expected", [
    ("+86 138 1234 5678", "13812345678"), ("0086-13812345678", "13812345678"), ("138-1234-5678", "13812345678"),
    ("(010) 8888 6666", "010-88886666"), ("010-88886666", "010-88886666"), ("0755 2345 6789", "0755-23456789"),
    ("+86 10 8888 6666", "010-88886666"), ("021（5555）1234", "021-55551234"), ("400 810 8888", "4008108888")])
def test_phone_numbers_are_normalised(text, expected):
    assert phone_cn(text) == expected


def test_something_that_is_no_phone_number_is_a_transform_error():
    with pytest.raises(TransformError):
        phone_cn("12345")


@pytest.mark.parametrize("text, expected", [
    ("北京", "北京市"), (" beijing ", "北京市"), ("Guangdong Province", "广东省"), ("广西", "广西壮族自治区"),
    ("新疆", "新疆维吾尔自治区"), ("上海市", "上海市")])
def test_province_spellings_map_to_the_official_name(text, expected):
    assert map_value(text, {"values": "provinces"}) == expected


@pytest.mark.parametrize("text, expected", [("PCS", "个"), ("kg", "千克"), ("公斤", "千克"), ("CTN", "箱")])
def test_unit_spellings_map_to_the_catalogue_unit(text, expected):
    assert map_value(text, {"values": "units"}) == expected


def test_a_value_map_keeps_unknown_values_unless_it_has_a_default():
    assert map_value("火星", {"values": {"北京": "北京市"}}) == "火星"
    assert map_value("火星", {"values": {"北京": "北京市"}, "default": "其他"}) == "其他"
    assert map_value("vip", {"values": {"VIP": "A"}}) == "A"


@pytest.mark.parametrize("marker", ["NULL", "null", "N/A", "n/a", "无", "空", "-", "", "   "])
def test_missing_markers_give_no_value_or_the_default(marker):
    columns = {"name_en": rule("a", {"op": "trim"}), "credit_limit": rule("b", {"op": "number"}, default="0.00")}
    values, problems = apply("customers", columns, {"a": marker, "b": f" {marker} "})
    assert values == {"name_en": None, "credit_limit": "0.00"} and problems == []


def test_a_failing_transform_is_a_problem_of_its_field_and_keeps_the_text():
    values, problems = apply("customers", {"phone": rule("tel", {"op": "phone_cn"})}, {"tel": " 12 34 "})
    assert values["phone"] == "12 34"
    assert problems[0]["field"] == "phone"


def test_a_row_with_more_cells_than_columns_and_a_missing_column_are_problems():
    values, problems = apply("customers", {"name_zh": rule("名称"), "city": rule("城市")},
                             {"名称": "华联", EXTRA_CELLS: "多余"})
    assert values == {"name_zh": "华联", "city": None}
    assert {p["field"] for p in problems} == {"", "city"}


def test_values_are_cleansed_by_their_kind():
    columns = {"payment_terms_days": rule("t"), "tier": rule("tier"), "tax_number": rule("tax"),
               "credit_limit": rule("limit")}
    values, _ = apply("customers", columns, {"t": "30.0", "tier": "b", "tax": "91110000100000000r",
                                             "limit": "1,000.50"})
    assert values == {"payment_terms_days": 30, "tier": "B", "tax_number": "91110000100000000R",
                      "credit_limit": "1000.50"}
    product, _ = apply("products", {"stocked": rule("s"), "vat_rate": rule("v")}, {"s": "否", "v": "13%"})
    assert product == {"stocked": "no", "vat_rate": "0.13"}


def test_a_lookup_without_references_keeps_the_legacy_id():
    values, problems = apply("contacts", {"customer": rule("c", {"op": "lookup", "entity": "customers"})},
                             {"c": " K0001 "})
    assert values["customer"] == "K0001" and problems == []


def test_a_whole_file_maps_column_by_column_as_each_row_maps_alone():
    columns = {"external_id": rule("id"), "name_zh": rule("名称", {"op": "trim"}),
               "phone": rule("tel", {"op": "trim"}, {"op": "phone_cn"}), "credit_limit": rule("limit", default="0"),
               "province": rule("省", {"op": "map", "values": "provinces"}), "tier": rule("tier"),
               "payment_terms_days": rule("t"), "city": rule(None, default="北京")}
    rows = [{"id": " K1 ", "名称": "北京\u3000 华联  商贸", "tel": "010 8888 6666", "limit": "1,000", "省": "beijing",
             "tier": "a", "t": "30"},
            {"id": "K2", "名称": "NULL", "tel": "12 34", "limit": " n/a ", "省": "火星", "tier": "Z", "t": "3.5"},
            {"id": 3, "名称": None, "tel": 13812345678, "limit": 12.5, "省": " 广东 ", "tier": "c", "t": 60},
            {"id": "K4", "名称": "\t华信\n", EXTRA_CELLS: "多余"},
            {"id": "K5", "名称": "  ", "tel": "", "limit": "-", "省": "", "tier": "", "t": ""}]
    mapper = Mapper("customers", columns)
    together = mapper.rows(rows)
    assert together == [mapper(row) for row in rows]
    assert together == [apply("customers", columns, row) for row in rows]
    assert [values["name_zh"] for values, _ in together] == ["北京 华联 商贸", None, None, "华信", None]
    assert together[1][0]["phone"] == "12 34" and together[1][1][0]["field"] == "phone"
    assert together[2][0]["external_id"] == "3" and together[2][0]["credit_limit"] == "12.5"
    assert [p["field"] for p in together[3][1]] == ["", "phone", "credit_limit", "province", "tier",
                                                   "payment_terms_days"]
    assert all(values["city"] == "北京" for values, _ in together)
    for name in columns:  # one field alone, as the similar-name check asks for the names
        assert mapper.values_of(name, rows) == [values[name] for values, _ in together]
    assert mapper.values_of("name_en", rows) == [None] * len(rows)
    # only-text files take the fast path, and inner runs of spaces are still collapsed there
    text_rows = [{k: str(v) for k, v in row.items() if v is not None} for row in rows[:2]]
    assert mapper.rows(text_rows)[0][0]["name_zh"] == "北京 华联 商贸"

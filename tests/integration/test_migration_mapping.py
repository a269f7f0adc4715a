"""Templates in both languages with their instructions, auto-mapping of template headers however they are
spelled, and saved mappings."""
from __future__ import annotations

import io

import pytest

from core.errors import InvalidInput, NotFound
from erp.migration import mapping, templates
from erp.migration.entities import ENTITIES
from erp.migration.sources import read_csv, read_xlsx


@pytest.mark.parametrize("key", list(ENTITIES))
def test_every_template_has_both_language_headers_examples_and_instructions(key):
    from openpyxl import load_workbook

    spec = ENTITIES[key]
    workbook = load_workbook(io.BytesIO(templates.template_xlsx(key)), read_only=True)
    assert workbook.sheetnames == [templates.DATA_SHEET, "说明 Instructions"]
    header = next(workbook[templates.DATA_SHEET].iter_rows(values_only=True))
    assert list(header) == [f"{f.label_zh} {f.label_en}{' *' if f.required else ''}" for f in spec.fields]
    text = "\n".join(str(c) for row in workbook["说明 Instructions"].iter_rows(values_only=True) for c in row if c)
    for f in spec.fields:
        assert f.label_zh in text and f.label_en in text
    assert "NULL" in text and "YYYY-MM-DD" in text and "旧系统编号" in text
    workbook.close()
    table = read_xlsx(templates.template_xlsx(key))
    assert len(table.rows) == 2
    csv_table = read_csv(templates.template_csv(key))
    assert csv_table.encoding == "utf-8-sig" and csv_table.columns == list(header)
    assert [r for _, r in csv_table.rows] == [r for _, r in table.rows]


@pytest.mark.parametrize("key", list(ENTITIES))
def test_auto_mapping_recognises_the_template_and_the_examples_are_valid(key):
    table = read_xlsx(templates.template_xlsx(key))
    columns = mapping.auto_mapping(key, table.columns)
    assert set(columns) == set(ENTITIES[key].field_names)
    for _, raw in table.rows:
        _values, problems = mapping.apply(key, columns, raw)
        assert problems == []


@pytest.mark.parametrize("headers", [
    ["客户名称", "统一社会信用代码", "电话", "旧系统编号"],
    ["Customer name", "credit code", "PHONE", "Legacy ID *"],
    ["*客户名称 Customer name", "统一社会信用代码(Credit code)", "电话Phone", " legacy id "],
    ["name_zh", "tax_number", "phone", "external_id"]])
def test_auto_mapping_recognises_headers_in_chinese_english_or_mixed(headers):
    columns = mapping.auto_mapping("customers", [*headers, "备注 Remarks", "Fax"])
    assert {k: v["source"] for k, v in columns.items()} == dict(zip(
        ["name_zh", "tax_number", "phone", "external_id"], headers, strict=True))
    assert {"op": "phone_cn"} in columns["phone"]["transforms"]


def test_the_first_of_two_columns_for_a_field_wins():
    assert mapping.auto_mapping("customers", ["电话", "Phone"])["phone"]["source"] == "电话"


def test_header_names_include_every_spelling():
    names = templates.header_names("products")
    for spelling in ("sku", "产品编码", "SKU", "产品编码 SKU", "产品编码 SKU *", "单位 Unit *"):
        assert names[spelling] in ("sku", "unit")


def test_a_mapping_is_saved_replaced_and_found(tx):
    columns = mapping.auto_mapping("customers", ["客户名称", "旧系统编号"])
    with tx() as session:
        first = mapping.save_mapping(session, "customers", "旧ERP", columns, by="tester")
    columns["name_zh"]["transforms"].append({"op": "upper"})
    with tx() as session:
        again = mapping.save_mapping(session, "customers", "旧ERP", columns, by="tester")
        assert again.id == first.id
    with tx() as session:
        found = mapping.find_mapping(session, "customers", "旧ERP")
        assert found.columns["name_zh"]["transforms"][-1] == {"op": "upper"}
        assert found.created_by == "tester" and found.updated_at >= found.created_at
        with pytest.raises(NotFound):
            mapping.find_mapping(session, "suppliers", "旧ERP")


@pytest.mark.parametrize("columns, field", [({"nickname": {"source": "x"}}, "nickname"),
                                            ({"name_zh": {"source": "x", "transforms": [{"op": "eval"}]}}, "name_zh"),
                                            ({"name_zh": "x"}, "name_zh")])
def test_a_mapping_with_unknown_fields_or_transforms_is_refused(tx, columns, field):
    with tx() as session, pytest.raises(InvalidInput) as refused:
        mapping.save_mapping(session, "customers", "bad", columns, by="tester")
    assert field in refused.value.errors


def test_an_unknown_entity_is_refused():
    with pytest.raises(InvalidInput, match="unknown migration entity"):
        templates.template_csv("employees")

"""Messy legacy data for migration tests, made with Faker's zh_CN provider: customer exports with stray
spaces, NULL / N/A / 空 cells, provinces and units spelled every which way, duplicates and quoted fields
with commas and line breaks, written as CSV in any encoding and delimiter, or as XLSX."""
from __future__ import annotations

import csv
import io
import random

from faker import Faker

from erp.crm.validation import credit_code_check_char

#: the header of a legacy customer export (not the template's: mapped by hand or by the zh labels)
LEGACY_HEADER = ["旧系统编号", "客户名称", "统一社会信用代码", "电话", "地址", "省份", "信用额度"]
PROVINCE_SPELLINGS = {"北京市": ["北京", "北京市", "Beijing", " beijing "],
                      "广东省": ["广东", "广东省", "Guangdong"], "上海市": ["上海", "Shanghai Shi", "上海市"],
                      "浙江省": ["浙江", "zhejiang", "浙江省"]}
UNIT_SPELLINGS = {"个": ["个", "PCS", "pc", "Piece"], "箱": ["箱", "CTN", "carton"],
                  "千克": ["kg", "KG", "公斤", "千克"]}
MISSING = ["NULL", "N/A", "n/a", "空", "无", "-", "", "  "]


def fake(seed: int = 7) -> Faker:
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    return faker


def credit_code(n: int) -> str:
    first17 = f"91440300{n:09d}"
    return first17 + credit_code_check_char(first17)


def mobile(faker: Faker) -> str:
    """A mainland mobile number, written the way legacy systems do (+86, spaces, dashes or plain)."""
    number = faker.phone_number()
    style = faker.random_int(0, 3)
    return [number, f"+86 {number[:3]} {number[3:7]} {number[7:]}", f"{number[:3]}-{number[3:7]}-{number[7:]}",
            f"0086{number}"][style]


def customer_rows(count: int, seed: int = 7) -> list[dict[str, str]]:
    """Legacy customer rows (LEGACY_HEADER) with stray spaces, mixed province spellings, missing markers and
    multi-line addresses; every value is valid once cleansed."""
    faker, rng = fake(seed), random.Random(seed)
    rows = []
    for n in range(1, count + 1):
        province = rng.choice(list(PROVINCE_SPELLINGS))
        rows.append({
            "旧系统编号": f"  K{n:04d} ",
            "客户名称": f" {faker.unique.company()} ",
            "统一社会信用代码": credit_code(n) if n % 3 else rng.choice(MISSING),
            "电话": mobile(faker),
            "地址": (faker.address().replace(" ", "\n", 1) if n % 4 == 0
                   else f"{faker.address()}, {faker.street_name()}"),
            "省份": rng.choice(PROVINCE_SPELLINGS[province]),
            "信用额度": rng.choice(["50,000.00", "¥20000", " 1000 ", "N/A"]),
        })
    return rows


def legacy_mapping() -> dict:
    """The columns JSON for LEGACY_HEADER."""
    return {
        "external_id": {"source": "旧系统编号", "transforms": [{"op": "trim"}], "default": None},
        "name_zh": {"source": "客户名称", "transforms": [{"op": "trim"}], "default": None},
        "tax_number": {"source": "统一社会信用代码", "transforms": [{"op": "trim"}, {"op": "upper"}],
                       "default": None},
        "phone": {"source": "电话", "transforms": [{"op": "phone_cn"}], "default": None},
        "address": {"source": "地址", "transforms": [{"op": "trim"}], "default": None},
        "province": {"source": "省份", "transforms": [{"op": "map", "values": "provinces", "default": None}],
                     "default": None},
        "credit_limit": {"source": "信用额度", "transforms": [{"op": "number"}], "default": "0.00"},
    }


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8", delimiter: str = ",",
              header: list[str] | None = None) -> bytes:
    """The rows as a CSV file the way a legacy export writes it (fields quoted only when needed)."""
    header = header or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], *, title: str = "Sheet1", header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

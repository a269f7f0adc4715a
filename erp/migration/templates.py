"""Migration templates (导入模板): an XLSX with a data sheet and an instructions sheet, or a CSV, per entity;
and every spelling of their headers that auto-mapping recognises."""
from __future__ import annotations

import csv
import io

from erp.migration.entities import Entity, Field, entity
from erp.migration.sources import INSTRUCTIONS_SHEET

DATA_SHEET = "数据 Data"
MISSING_WORDS = ("NULL", "N/A", "空", "无", "-")
KIND_FORMATS = {
    "text": ("文本", "text"),
    "int": ("整数", "whole number"),
    "decimal": ("数字，小数点用 .", "number, decimal point ."),
    "money": ("金额，两位小数，如 1234.50", "amount with two decimals, e.g. 1234.50"),
    "date": ("日期 YYYY-MM-DD，如 2024-03-31", "date YYYY-MM-DD, e.g. 2024-03-31"),
    "phone": ("手机 11 位或 区号-号码，如 010-12345678", "mobile or area code-number, e.g. 010-12345678"),
    "mobile": ("11 位手机号，如 13812345678", "11-digit mobile, e.g. 13812345678"),
    "email": ("邮箱地址", "email address"),
    "credit_code": ("18 位统一社会信用代码", "18-character unified social credit code"),
    "choice": ("取值之一", "one of the allowed values"),
    "ref": ("所引用记录的旧系统编号", "the legacy id of the referenced record"),
}
GENERAL_RULES = (
    ("第一行是表头，请勿修改；从第二行起每行一条记录。",
     "The first row is the header, do not change it; one record per row from the second row on."),
    ("带 * 的列必填。", "Columns marked * are required."),
    ("NULL、N/A、空、无、- 和空白单元格都表示没有值。", "NULL, N/A, 空, 无, - and blank cells all mean no value."),
    ("旧系统编号是旧系统中的主键：再次导入同一编号会更新该记录，而不是新建。",
     "The legacy ID is the key in the old system: importing the same ID again updates the record instead of "
     "creating a new one."),
    ("日期写作 YYYY-MM-DD；金额保留两位小数，不写千分位和货币符号；手机 11 位，座机 区号-号码。",
     "Dates as YYYY-MM-DD; amounts with two decimals, without thousands separators or currency signs; mobiles "
     "with 11 digits, landlines as area code-number."),
    ("先试运行（模拟导入）检查错误，修正后再正式导入。",
     "Do a dry run first to see the errors; fix them, then import."),
)
EXAMPLES = {
    "text": ("示例", "Example"),
    "int": ("30", "60"),
    "decimal": ("10", "2.5"),
    "money": ("1000.00", "250.50"),
    "date": ("2024-03-31", "2024-04-15"),
    "phone": ("010-12345678", "13812345678"),
    "mobile": ("13812345678", "13900001111"),
    "email": ("zhang.san@example.com", "li.si@example.com"),
    "credit_code": ("91110000100000000R", ""),
}
FIELD_EXAMPLES = {
    "external_id": ("OLD-0001", "OLD-0002"), "code": ("", ""), "sku": ("SKU-001", "SKU-002"),
    "name_zh": ("北京华联商贸有限公司", "上海东方贸易有限公司"), "name_en": ("Hualian Trading", ""),
    "contact_name": ("张三", "李四"), "province": ("北京市", "上海市"), "city": ("北京", "上海"),
    "address": ("北京市朝阳区建国路 1 号", "上海市浦东新区世纪大道 100 号"), "unit": ("个", "箱"),
    "unit_en": ("piece", "box"), "warehouse": ("WH01", "WH01"), "account": ("1002", "4001"),
    "order_external_id": ("SO-1001", "SO-1001"), "document_no": ("INV-2024-001", "INV-2024-002"),
    "partner_code": ("", ""), "sales_rep": ("", ""), "title": ("采购经理", ""), "category": ("办公用品", ""),
    "debit": ("50000.00", ""), "credit": ("", "50000.00"), "discount_percent": ("0", "5"),
}

ENTITY_EXAMPLES = {
    ("products", "name_zh"): ("A4 复印纸", "中性笔"), ("products", "name_en"): ("A4 copy paper", "Gel pen"),
    ("products", "list_price"): ("25.00", "2.50"), ("contacts", "customer"): ("OLD-0001", "OLD-0001"),
    ("payables", "supplier"): ("OLD-0001", "OLD-0002"),
}


def header(f: Field) -> str:
    """The template's header of a field: "客户名称 Customer name", with * when it is required."""
    return f"{f.label_zh} {f.label_en}{' *' if f.required else ''}"


def header_names(entity_key: str) -> dict[str, str]:
    """Every header spelling of the entity's fields (name, zh label, en label, "zh en", with or without *,
    any case) → field name."""
    names: dict[str, str] = {}
    for f in entity(entity_key).fields:
        for spelling in (f.name, f.label_zh, f.label_en, f"{f.label_zh} {f.label_en}", f"{f.label_en} {f.label_zh}",
                         f"{f.label_zh}{f.label_en}", f"{f.label_zh}({f.label_en})", f"{f.label_zh}（{f.label_en}）"):
            for variant in (spelling, f"{spelling}*", f"{spelling} *", f"*{spelling}"):
                names.setdefault(variant, f.name)
                names.setdefault(normal_header(variant), f.name)
    return names


def normal_header(name: str) -> str:
    """A header as compared: lower case, without *, spaces, underscores and brackets."""
    return "".join(c for c in (name or "").lower() if c not in " *_-()（）\ufeff\t").strip()


def template_csv(entity_key: str) -> bytes:
    """The template as CSV: UTF-8 with BOM (Excel opens it correctly), the header row and two examples."""
    spec = entity(entity_key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header(f) for f in spec.fields])
    writer.writerows(_examples(spec))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(entity_key: str) -> bytes:
    """The template workbook: sheet "数据 Data" (header and two examples), sheet "说明 Instructions"."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    spec = entity(entity_key)
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    data.append([header(f) for f in spec.fields])
    for cell in data[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in _examples(spec):
        data.append(row)
    for i, f in enumerate(spec.fields, start=1):
        data.column_dimensions[data.cell(1, i).column_letter].width = max(14, len(header(f)) + 4)
        for r in range(2, 200):
            data.cell(r, i).number_format = "@"  # text: keeps leading zeros, long codes and phone numbers
    data.freeze_panes = "A2"
    _instructions(workbook.create_sheet(INSTRUCTIONS_SHEET), spec)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _instructions(sheet, spec: Entity) -> None:
    from openpyxl.styles import Font

    sheet.append([f"{spec.label_zh} {spec.label_en}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(["规则", "Rules"])
    for zh, en in GENERAL_RULES:
        sheet.append([zh, en])
    sheet.append([])
    titles = ["字段", "Field", "列名 Header", "必填 Required", "类型 Kind", "格式 Format", "允许值 Allowed values",
              "说明", "Notes"]
    sheet.append(titles)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for f in spec.fields:
        fmt_zh, fmt_en = KIND_FORMATS[f.kind]
        allowed = ", ".join(f.choices or ())
        if f.kind == "ref":
            allowed = f"{entity(f.ref).label_zh} {entity(f.ref).label_en}"
        sheet.append([f.label_zh, f.label_en, header(f), "是 yes" if f.required else "否 no", f.kind,
                      f"{fmt_zh} / {fmt_en}", allowed, f.help_zh, f.help_en])
    for letter, width in zip("ABCDEFGHI", (28, 40, 30, 14, 12, 50, 30, 30, 30), strict=True):
        sheet.column_dimensions[letter].width = width


def _examples(spec: Entity) -> list[list[str]]:
    return [[_example(spec.key, f, i) for f in spec.fields] for i in (0, 1)]


def _example(entity_key: str, f: Field, i: int) -> str:
    if (entity_key, f.name) in ENTITY_EXAMPLES:
        return ENTITY_EXAMPLES[entity_key, f.name][i]
    if f.name in FIELD_EXAMPLES:
        return FIELD_EXAMPLES[f.name][i]
    if f.kind == "choice":
        return f.choices[i % len(f.choices)]
    if f.kind == "ref":
        return "OLD-0001"
    return EXAMPLES.get(f.kind, ("", ""))[i]

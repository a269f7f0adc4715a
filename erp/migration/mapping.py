"""Mapping (数据映射) and transformation (转换): which source column feeds which field, the transforms that
clean it (trim, dates, numbers, phone numbers, value maps, lookups), saved mappings, and apply() which turns
one raw row into cleansed values and the problems met on the way."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import repeat

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.crm.validation import normalise_credit_code, normalise_phone
from erp.migration.entities import YES_NO, Field, entity
from erp.migration.messages import say
from erp.migration.models import ExternalRef, Mapping
from erp.migration.sources import EXTRA_CELLS
from erp.migration.templates import header_names, normal_header

#: what a cell says when it means "no value"
MISSING = frozenset(("", "null", "n/a", "na", "#n/a", "none", "无", "空", "-", "--", "/"))
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S")
#: Excel's day 0 (serial numbers of dates formatted as numbers)
EXCEL_EPOCH = date(1899, 12, 30)
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_PROVINCE_NAMES = (
    ("北京市", "beijing"), ("天津市", "tianjin"), ("上海市", "shanghai"), ("重庆市", "chongqing"),
    ("河北省", "hebei"), ("山西省", "shanxi"), ("辽宁省", "liaoning"), ("吉林省", "jilin"),
    ("黑龙江省", "heilongjiang"), ("江苏省", "jiangsu"), ("浙江省", "zhejiang"), ("安徽省", "anhui"),
    ("福建省", "fujian"), ("江西省", "jiangxi"), ("山东省", "shandong"), ("河南省", "henan"), ("湖北省", "hubei"),
    ("湖南省", "hunan"), ("广东省", "guangdong"), ("海南省", "hainan"), ("四川省", "sichuan"),
    ("贵州省", "guizhou"), ("云南省", "yunnan"), ("陕西省", "shaanxi"), ("甘肃省", "gansu"), ("青海省", "qinghai"),
    ("台湾省", "taiwan"), ("内蒙古自治区", "inner mongolia"), ("广西壮族自治区", "guangxi"),
    ("西藏自治区", "tibet"), ("宁夏回族自治区", "ningxia"), ("新疆维吾尔自治区", "xinjiang"),
    ("香港特别行政区", "hong kong"), ("澳门特别行政区", "macao"),
)


def _province_variants() -> dict[str, str]:
    table = {}
    for full, pinyin in _PROVINCE_NAMES:
        short = re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", "", full)
        for name in (full, short, f"{short}省", f"{short}市", f"{short}自治区", pinyin, f"{pinyin} province",
                     f"{pinyin} shi", f"{pinyin} city", f"{pinyin} municipality", f"{pinyin}sheng"):
            table[name] = full
    table.update({"macau": "澳门特别行政区", "xizang": "西藏自治区", "neimenggu": "内蒙古自治区",
                  "shensi": "陕西省", "peking": "北京市"})
    return table


#: province spellings (北京, 北京市, Beijing, beijing shi, 广东, Guangdong Province ...) → the official name
PROVINCES: dict[str, str] = _province_variants()
#: unit spellings → the unit as the catalogue writes it
UNITS: dict[str, str] = {
    **dict.fromkeys(("个", "pcs", "pc", "piece", "pieces", "ea", "each"), "个"),
    **dict.fromkeys(("箱", "ctn", "ctns", "carton", "cartons"), "箱"),
    **dict.fromkeys(("盒", "box", "boxes", "bx"), "盒"),
    **dict.fromkeys(("千克", "公斤", "kg", "kgs", "kilogram", "kilograms"), "千克"),
    **dict.fromkeys(("克", "g", "gram", "grams"), "克"),
    **dict.fromkeys(("吨", "t", "ton", "tons", "tonne", "tonnes"), "吨"),
    **dict.fromkeys(("米", "m", "meter", "meters", "metre", "metres"), "米"),
    **dict.fromkeys(("升", "l", "liter", "litre", "liters", "litres"), "升"),
    **dict.fromkeys(("套", "set", "sets"), "套"),
    **dict.fromkeys(("台", "unit", "units"), "台"),
    **dict.fromkeys(("件", "item", "items"), "件"),
    **dict.fromkeys(("包", "pack", "packs", "pkg", "bag"), "包"),
    **dict.fromkeys(("瓶", "bottle", "bottles", "btl"), "瓶"),
    **dict.fromkeys(("张", "sheet", "sheets"), "张"),
    **dict.fromkeys(("卷", "roll", "rolls"), "卷"),
    **dict.fromkeys(("双", "pair", "pairs"), "双"),
    **dict.fromkeys(("支", "stick"), "支"),
    **dict.fromkeys(("小时", "h", "hr", "hour", "hours"), "小时"),
}
#: the English label of each catalogue unit (product.unit_en)
UNIT_EN = {"个": "piece", "箱": "carton", "盒": "box", "千克": "kg", "克": "g", "吨": "t", "米": "m", "升": "L",
           "套": "set", "台": "unit", "件": "item", "包": "pack", "瓶": "bottle", "张": "sheet", "卷": "roll",
           "双": "pair", "支": "piece", "小时": "hour"}
COUNTRIES: dict[str, str] = {
    **dict.fromkeys(("中国", "china", "prc", "cn", "chn", "中华人民共和国", "p.r.c.", "p.r. china"), "中国"),
    **dict.fromkeys(("美国", "usa", "us", "united states", "u.s.a."), "美国"),
    **dict.fromkeys(("日本", "japan", "jp"), "日本"),
    **dict.fromkeys(("韩国", "korea", "south korea", "kr"), "韩国"),
    **dict.fromkeys(("德国", "germany", "de", "deutschland"), "德国"),
    **dict.fromkeys(("英国", "uk", "united kingdom", "gb", "great britain"), "英国"),
    **dict.fromkeys(("法国", "france", "fr"), "法国"),
    **dict.fromkeys(("新加坡", "singapore", "sg"), "新加坡"),
}
YES_NO_WORDS: dict[str, str] = {
    **dict.fromkeys(("yes", "y", "true", "1", "是", "对", "有", "√"), "yes"),
    **dict.fromkeys(("no", "n", "false", "0", "否", "不", "非"), "no"),
}
#: the value maps a saved mapping may name instead of listing values ({"op": "map", "values": "provinces"})
VALUE_MAPS = {"provinces": PROVINCES, "units": UNITS, "countries": COUNTRIES, "yes_no": YES_NO_WORDS}
OPS = ("trim", "upper", "lower", "title", "date", "number", "phone_cn", "map", "lookup")


class TransformError(ValueError):
    """A value a transform cannot read: its message template and parameters (erp.migration.messages)."""

    def __init__(self, template: str, **params):
        self.reason = say(template, **params)
        super().__init__(self.reason["message"])


# -- transforms: each takes the text so far and its spec, returns the new text or raises TransformError -------


def trim(value: str, _spec: dict | None = None) -> str:
    """Without spaces at either end (full-width and non-breaking ones too) and with inner runs of spaces as one."""
    text = value.strip()
    if _PLAIN_SPACING(text):  # most cells: nothing inside to collapse (checked without a regex)
        return text
    return _SPACES.sub(" ", value.replace("\u3000", " ").replace("\xa0", " ")).strip()


def _plain_spacing(text: str) -> bool:
    return not ("  " in text or "\u3000" in text or "\xa0" in text or "\t" in text or "\n" in text
                or "\r" in text)


_PLAIN_SPACING = _plain_spacing


def to_date(value: str, spec: dict | None = None) -> str:
    """The date as YYYY-MM-DD, read with the spec's formats (then the usual ones), or as an Excel serial."""
    text = trim(value)
    for fmt in (*(spec or {}).get("formats", ()), *DATE_FORMATS):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    if text.isdigit() and 20000 <= int(text) <= 80000:  # 1954..2119 as days since 1899-12-30
        return (EXCEL_EPOCH + timedelta(days=int(text))).isoformat()
    raise TransformError("'{value}' is not a date (expected YYYY-MM-DD)", value=value)


def to_number(value: str, spec: dict | None = None) -> str:
    """The number as plain text with a decimal point ("1.234,50" with decimal "," → "1234.50"); currency
    signs and a negative in brackets (1,000.00) are understood."""
    spec = spec or {}
    decimal_mark = spec.get("decimal", ".")
    thousands = spec.get("thousands", "," if decimal_mark == "." else ".")
    text = unicodedata.normalize("NFKC", trim(value))
    for sign in ("¥", "￥", "RMB", "CNY", "元", "$"):
        text = text.replace(sign, "")
    text = text.strip()
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if thousands:
        text = text.replace(thousands, "")
    text = text.replace(" ", "").replace("'", "")
    if decimal_mark != ".":
        text = text.replace(decimal_mark, ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise TransformError("'{value}' is not a number", value=value) from None
    if not number.is_finite():
        raise TransformError("'{value}' is not a number", value=value)
    return format(-number if negative else number, "f")


def phone_cn(value: str, _spec: dict | None = None) -> str:
    """A mobile as 11 digits, a landline as 区号-号码 (010-12345678, 0755-12345678), 400/800 numbers as
    digits; the +86 / 0086 prefix, spaces, dashes and brackets removed."""
    try:
        digits = normalise_phone(value)
    except ValueError:
        raise TransformError("'{value}' is not a Chinese phone number (mobile, or landline with its area code)",
                             value=value) from None
    if digits is None:
        return ""
    if len(digits) == 11 and digits[0] == "1" or digits.startswith(("400", "800")):
        return digits
    area = 3 if digits[1] in "12" else 4  # 010 and 02x are the three-digit area codes
    return f"{digits[:area]}-{digits[area:]}"


def map_value(value: str, spec: dict) -> str:
    """The value as the map names it (exactly, then ignoring case and spaces); unknown values are kept unless
    the map has a default."""
    values = spec.get("values") or {}
    if isinstance(values, str):
        if values not in VALUE_MAPS:
            raise TransformError("no value map named '{name}'", name=values)
        values = VALUE_MAPS[values]
    if value in values:
        return values[value]
    key = _map_key(value)
    for candidate, target in values.items():
        if _map_key(candidate) == key:
            return target
    default = spec.get("default")
    return value if default is None else str(default)


def _map_key(value: str) -> str:
    return unicodedata.normalize("NFKC", str(value)).casefold().replace(" ", "")


TRANSFORMS = {"trim": trim, "upper": lambda v, _s=None: v.upper(), "lower": lambda v, _s=None: v.lower(),
              "title": lambda v, _s=None: v.title(), "date": to_date, "number": to_number, "phone_cn": phone_cn,
              "map": map_value}


# -- references ---------------------------------------------------------------------------------------------------


class References:
    """What a legacy id or a key refers to: migration_external_ref first, then the target's own key (customer
    code, SKU, supplier code), then the rows of the batch being staged (`pending`)."""

    def __init__(self, session, pending: dict[str, set[str]] | None = None):
        self.session = session
        self.pending = pending or {}
        self._refs: dict[str, dict[str, str]] = {}
        self._keys: dict[str, set[str]] = {}

    def target(self, entity_key: str, value: str) -> str | None:
        """The target key of a legacy id, or the value itself when it already is a target's key."""
        if entity_key not in self._refs:
            rows = self.session.execute(select(ExternalRef.external_id, ExternalRef.target_id)
                                        .where(ExternalRef.entity == entity_key))
            self._refs[entity_key] = dict(rows.all())
        if value in self._refs[entity_key]:
            return self._refs[entity_key][value]
        return value if value in self._own_keys(entity_key) else None

    def exists(self, entity_key: str, value: str) -> bool:
        return self.target(entity_key, value) is not None or value in self.pending.get(entity_key, ())

    def _own_keys(self, entity_key: str) -> set[str]:
        if entity_key not in self._keys:
            column = _own_key_column(entity_key)
            self._keys[entity_key] = set(self.session.scalars(select(column))) if column is not None else set()
        return self._keys[entity_key]


def _own_key_column(entity_key: str):
    from erp.catalog.models import Product
    from erp.crm.models import Customer
    from erp.purchasing.models import Supplier

    return {"customers": Customer.code, "products": Product.sku, "suppliers": Supplier.code}.get(entity_key)


# -- mapping -------------------------------------------------------------------------------------------------------


def auto_mapping(entity_key: str, columns: list[str]) -> dict:
    """The columns JSON for a file whose headers are the template's (in Chinese, English or both, with or
    without *, any case); columns it does not recognise are left out, the first of two for a field wins."""
    spec = entity(entity_key)
    names = {normal_header(k): v for k, v in header_names(entity_key).items()}
    result: dict[str, dict] = {}
    for column in columns:
        field_name = names.get(normal_header(column))
        if field_name is not None and field_name not in result:
            result[field_name] = {"source": column, "transforms": default_transforms(spec.field(field_name)),
                                  "default": None}
    return result


def default_transforms(f: Field) -> list[dict]:
    steps: list[dict] = [{"op": "trim"}]
    if f.kind == "date":
        steps.append({"op": "date"})
    elif f.kind in ("money", "decimal"):
        steps.append({"op": "number"})
    elif f.kind in ("phone", "mobile"):
        steps.append({"op": "phone_cn"})
    elif f.kind == "email":
        steps.append({"op": "lower"})
    elif f.kind == "credit_code":
        steps.append({"op": "upper"})
    if f.name == "province":
        steps.append({"op": "map", "values": "provinces", "default": None})
    elif f.name == "unit":
        steps.append({"op": "map", "values": "units", "default": None})
    return steps


def checked_columns(entity_key: str, columns: dict) -> dict:
    """The columns JSON if it names only the entity's fields and known transforms; InvalidInput otherwise."""
    spec = entity(entity_key)
    errors: dict[str, list[str]] = {}
    if not isinstance(columns, dict):
        raise InvalidInput("a mapping is {field: {source, transforms, default}}", {"columns": ["not an object"]})
    for name, rule in columns.items():
        if name not in spec.field_names:
            errors[name] = [f"{spec.key} has no field {name!r}"]
        elif not isinstance(rule, dict) or not isinstance(rule.get("transforms", []), list):
            errors[name] = ["give source, transforms (a list) and default"]
        else:
            bad = [t for t in rule.get("transforms", []) if not isinstance(t, dict) or t.get("op") not in OPS]
            if bad:
                errors[name] = [f"unknown transform {t!r}; one of {', '.join(OPS)}" for t in bad]
    if errors:
        raise InvalidInput("the mapping is not valid", errors)
    return columns


def save_mapping(session, entity_key: str, name: str, columns: dict, *, by: str | None) -> Mapping:
    """The mapping `name` of the entity, created or replaced."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a mapping needs a name", {"name": ["required"]})
    checked_columns(entity_key, columns)
    now = clock.now()
    mapping = session.scalar(select(Mapping).where(Mapping.entity == entity_key, Mapping.name == name))
    if mapping is None:
        mapping = Mapping(entity=entity_key, name=name, created_at=now, created_by=by)
        session.add(mapping)
    mapping.columns, mapping.updated_at = columns, now
    session.flush()
    return mapping


def find_mapping(session, entity_key: str, name: str) -> Mapping:
    mapping = session.scalar(select(Mapping).where(Mapping.entity == entity_key, Mapping.name == name))
    if mapping is None:
        raise NotFound(f"no mapping {name!r} for {entity_key}")
    return mapping


_LONGEST_MISSING = max(len(word) for word in MISSING)


def is_missing(value) -> bool:
    return value is None or _missing_text(trim(str(value)))


def apply(entity_key: str, columns: dict, raw_row: dict, *, references: References | None = None
          ) -> tuple[dict, list[dict]]:
    """The cleansed values of one raw row ({field: text, int or None}) and the problems met
    ([{"field", "message"}]); a value that cannot be cleansed is kept as text for validation to report."""
    return Mapper(entity_key, columns, references)(raw_row)


#: the kinds cleanse changes beyond trimming
_CLEANSED_KINDS = frozenset(("int", "money", "decimal", "date", "phone", "mobile", "credit_code", "email", "choice"))
#: the transform after which a value of the kind is already in its normal form (cleanse would redo it)
_NORMALISING_OP = {"money": "number", "decimal": "number", "date": "date", "phone": "phone_cn",
                   "mobile": "phone_cn", "email": "lower"}


class Mapper:
    """A mapping prepared once for a whole file: per field its source column, its transform functions and
    its cleansed default, so each row only runs the functions (a large file has 10^5 rows and 10^6 cells)."""

    def __init__(self, entity_key: str, columns: dict, references: References | None = None):
        spec = entity(entity_key)
        self.plan = []
        for name, rule in columns.items():
            if name not in spec.field_names:
                continue
            f = spec.field(name)
            steps = [(self._function(step.get("op"), references), step) for step in rule.get("transforms") or ()]
            default = rule.get("default")
            default = None if is_missing(default) else cleanse(f, str(default))
            normal = bool(steps) and (steps[-1][1].get("op") == _NORMALISING_OP.get(f.kind))
            if steps and steps[0][1].get("op") == "trim":  # every value is trimmed first anyway
                steps = steps[1:]
            # a value only trimmed needs no second missing check, and a text field no cleansing
            plain = not steps and f.kind not in _CLEANSED_KINDS
            self.plan.append((name, f, rule.get("source"), steps, default, normal or plain, _cleanser(f)))

    @staticmethod
    def _function(op, references):
        if op == "lookup":
            return lambda text, step: _lookup(text, step, references)
        return TRANSFORMS.get(op) or _unknown(op)

    def __call__(self, raw_row: dict) -> tuple[dict, list[dict]]:
        return self.rows([raw_row])[0]

    def rows(self, raw_rows: Sequence[dict]) -> list[tuple[dict, list[dict]]]:
        """Each raw row's (values, problems), worked out column by column: the trimming and the missing-value
        check of a column run over all its cells at once, and a text field that is only trimmed needs
        nothing else (10^6 cells one by one cost about 2 µs each)."""
        count = len(raw_rows)
        problems: list[list[dict]] = [[] for _ in range(count)]
        for i, raw in enumerate(raw_rows):
            if raw.get(EXTRA_CELLS):
                problems[i].append({"field": "", **say("more cells than columns ({cells}): a delimiter inside an "
                                                       "unquoted value?", cells=raw[EXTRA_CELLS])})
        columns = [self._column(entry, raw_rows, problems) for entry in self.plan]
        names = [entry[0] for entry in self.plan]
        return [(dict(zip(names, values, strict=True)), found)
                for values, found in zip(zip(*columns, strict=True) if columns else repeat((), count), problems,
                                         strict=True)]

    def values_of(self, name: str, raw_rows: Sequence[dict]) -> list:
        """One field's values for every raw row, as rows() gives them (without the problems met)."""
        entry = next((entry for entry in self.plan if entry[0] == name), None)
        if entry is None:
            return [None] * len(raw_rows)
        return self._column(entry, raw_rows, _Discarded())

    @staticmethod
    def _column(entry: tuple, raw_rows: Sequence[dict], problems) -> list:
        name, f, source, steps, default, normal, clean = entry
        if source is None:
            return [default] * len(raw_rows)
        if not all(map(dict.__contains__, raw_rows, repeat(source))):
            for i, raw in enumerate(raw_rows):
                if source not in raw:
                    problems[i].append({"field": name, **say("the file has no column '{column}'", column=source)})
        texts = _trimmed([raw.get(source) for raw in raw_rows])
        if steps:
            return [default if _missing_text(text) else _transformed(f, text, steps, normal, clean, found)
                    for text, found in zip(texts, problems)]  # noqa: B905 - _Discarded has no end
        if not normal:  # cleansed, the texts being trimmed already
            return [default if _missing_text(text) else clean(text) for text in texts]
        return [default if _missing_text(text) else text for text in texts]  # a text only trimmed


class _Discarded:
    """Stands for the rows' problem lists where only values are wanted: every row's problems go nowhere."""

    def __getitem__(self, _index: int) -> list:
        return []

    def __iter__(self):
        return iter(list, None)


def _trimmed(cells: list) -> list:
    """trim() of every cell as text (None stays None). Cells that are all text (a CSV's) are stripped in C, and
    only when some cell holds spaces inside to collapse is each one looked at."""
    if not all(type(cell) is str for cell in cells):
        return [None if cell is None else trim(cell if isinstance(cell, str) else str(cell)) for cell in cells]
    texts = list(map(str.strip, cells))
    if not _PLAIN_SPACING("\x00".join(texts)):  # the whole column at once
        texts = [text if _PLAIN_SPACING(text) else trim(text) for text in texts]
    return texts


def _missing_text(text: str | None) -> bool:
    """A trimmed cell that means no value (None, empty, NULL, N/A ...)."""
    return text is None or len(text) <= _LONGEST_MISSING and text.casefold() in MISSING


def _transformed(f: Field, text: str, steps, normal: bool, clean, problems: list):
    """A trimmed, present value through the field's transforms, then cleansed (`clean`, the field's
    _cleanser) unless the last one normalised it; a transform that fails adds its problem and leaves the text
    as it was."""
    for function, step in steps:
        try:
            text = function(text, step)
        except TransformError as exc:
            problems.append({"field": f.name, **exc.reason})
            return trim(text)
    if text is None:
        return None
    trimmed = trim(text if type(text) is str else str(text))
    if _missing_text(trimmed):
        return None
    return text if normal else clean(trimmed)


def _unknown(op):
    def fail(_text, _step):
        raise TransformError("unknown transform '{name}'", name=op)
    return fail


def _lookup(text: str, step: dict, references: References | None) -> str:
    if references is None:
        return text
    return references.target(step.get("entity", ""), trim(text)) or text


def cleanse(f: Field, value: str):
    """The value in the normal form of its kind when it can be read so (validation reports it otherwise)."""
    return _cleanser(f)(trim(value))


_WHOLE_NUMBER = re.compile(r"[+-]?\d+(\.0+)?")


def _cleanser(f: Field):
    """cleanse() of a trimmed text of the field's kind, chosen once for a column (10^5 cells each)."""
    kind = f.kind
    if kind == "int":
        return lambda text: int(Decimal(text)) if _WHOLE_NUMBER.fullmatch(text) else text
    if kind in ("money", "decimal"):
        return _kept_if_unread(to_number)
    if kind == "date":
        return _kept_if_unread(to_date)
    if kind in ("phone", "mobile"):
        return _kept_if_unread(phone_cn)
    if kind == "credit_code":
        return _kept_if_unread(lambda text: normalise_credit_code(text) or text)
    if kind == "email":
        return str.lower
    if kind == "choice":
        return _kept_if_unread(partial(_choice, f))
    return _same


def _same(text: str) -> str:
    return text


def _kept_if_unread(read):
    def cleansed(text: str):
        try:
            return read(text)
        except ValueError:  # TransformError too
            return text
    return cleansed


def _choice(f: Field, text: str) -> str:
    if f.choices == YES_NO:
        return YES_NO_WORDS.get(text.casefold(), text)
    for choice in f.choices or ():
        if choice.casefold() == text.casefold():
            return choice
    if re.fullmatch(r"\d+(\.\d+)?%?", text) and all(re.fullmatch(r"\d\.\d\d", c) for c in f.choices or ("",)):
        number = Decimal(text.rstrip("%")) / (100 if text.endswith("%") or Decimal(text.rstrip("%")) >= 1 else 1)
        return format(number.quantize(Decimal("0.01")), "f")  # 13% or 13 or 0.13 → 0.13 (VAT rates)
    return text


def is_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value))

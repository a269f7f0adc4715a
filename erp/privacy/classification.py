"""The data classification (数据分类分级): which columns hold personal information (个人信息, PIPL art. 4) or
sensitive personal information (敏感个人信息, art. 28), and the grade of the data (一般 / 重要 / 核心数据, Data
Security Law art. 21, GB/T 43697-2024).

A model declares it on the column: `mapped_column(..., info={"personal": "personal", "grade": "general"})`
(`personal` is "personal" or "sensitive"; `grade` is "general", "important" or "core"; an optional `note` says
why). Tables owned by parts that do not carry the declaration themselves are declared in DECLARED below. The
registry reads both from the SQLAlchemy metadata, so masking, the access log and the inventory page agree."""
from __future__ import annotations

import re
from dataclasses import dataclass

PERSONAL, SENSITIVE = "personal", "sensitive"
CATEGORIES = (PERSONAL, SENSITIVE)
GENERAL, IMPORTANT, CORE = "general", "important", "core"
GRADES = (GENERAL, IMPORTANT, CORE)

#: columns whose name looks personal: the inventory test checks each is classified or exempted
PERSONAL_LOOKING = re.compile(r"phone|mobile|e_?mail|id_number|id_card|bank_account|wechat|address")

#: declarations for columns of tables whose models do not carry `info` (table, column) -> info
DECLARED: dict[tuple[str, str], dict] = {
    ("audit_log", "address"): {"personal": PERSONAL, "grade": GENERAL,
                               "note": "the network address a user acted from (网络身份标识)"},
    ("access_log", "address"): {"personal": PERSONAL, "grade": GENERAL,
                                "note": "the network address a user viewed personal information from"},
    ("login_attempt", "address"): {"personal": PERSONAL, "grade": GENERAL,
                                   "note": "the network address of a login attempt"},
    ("outbox_message", "recipient_email"): {"personal": PERSONAL, "grade": GENERAL,
                                            "note": "the address a mail goes to"},
}

#: columns whose name looks personal but which describe no person (table, column) -> why
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("warehouse", "address"): "a warehouse's address",
    ("purchasing_supplier", "address"): "a supplier's (a company's) registered address",
    ("purchasing_supplier", "phone"): "a supplier's switchboard number",
}


@dataclass(frozen=True)
class Classified:
    """One column holding personal information, with its category and grade."""

    table: str
    column: str
    category: str
    grade: str
    note: str | None = None

    @property
    def sensitive(self) -> bool:
        return self.category == SENSITIVE


def declaration(table: str, column) -> dict | None:
    """The classification of one column (its `info`, else DECLARED), or None when it holds no personal data."""
    info = dict(getattr(column, "info", None) or {})
    if not info.get("personal"):
        info = DECLARED.get((table, column.name)) or {}
    if not info.get("personal"):
        return None
    category, grade = info["personal"], info.get("grade", GENERAL)
    if category not in CATEGORIES or grade not in GRADES:
        raise ValueError(f"{table}.{column.name}: unknown classification {info!r}")
    return info


def inventory(metadata=None) -> list[Classified]:
    """Every classified column of every table the product declares, by table and column."""
    metadata = metadata or _metadata()
    found = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        for column in table.columns:
            info = declaration(table.name, column)
            if info:
                found.append(Classified(table.name, column.name, info["personal"], info.get("grade", GENERAL),
                                        info.get("note")))
    return found


def personal_columns(table: str, metadata=None) -> dict[str, Classified]:
    """The classified columns of one table, by column name."""
    return {c.column: c for c in inventory(metadata) if c.table == table}


def unclassified_personal_looking(metadata=None) -> list[str]:
    """Columns whose names look personal but that are neither classified nor exempted (should be none)."""
    metadata = metadata or _metadata()
    return [f"{table.name}.{column.name}" for table in metadata.tables.values() for column in table.columns
            if PERSONAL_LOOKING.search(column.name) and declaration(table.name, column) is None
            and (table.name, column.name) not in NOT_PERSONAL]


def _metadata():
    from core.db import Base
    from erp.schema import all_models

    all_models()
    return Base.metadata

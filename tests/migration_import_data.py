"""Small factories for import and reconciliation tests: legacy rows staged (the dry run) and approved, valid
credit codes, the chart and a warehouse."""
from __future__ import annotations

from sqlalchemy import func, select

from core import clock
from erp.crm.validation import credit_code_check_char
from erp.finance.services import ensure_chart
from erp.migration import runs
from erp.migration.models import ExternalRef, MigrationRun
from erp.migration.sources import SourceTable
from tests.stock_data import warehouse


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码, different for every n."""
    first17 = f"91110105{n:09d}"
    return first17 + credit_code_check_char(first17)


def customer_rows(count: int, start: int = 1, **overrides) -> list[dict]:
    return [{"external_id": f"K{n:05d}", "name_zh": f"北京{_word(n)}贸易有限公司", "tax_number": credit_code(n),
             "phone": f"010-{6000_0000 + n}", "city": "北京", "province": "北京市", "tier": "B",
             "credit_limit": "50000.00", "payment_terms_days": "30", **overrides}
            for n in range(start, start + count)]


def _word(n: int) -> str:
    """Names far apart from each other, so no two look like duplicates."""
    syllables = "金银铜铁锡山水木火土风云雷电霜雪春夏秋冬东南西北"
    return "".join(syllables[int(d) + i % 3] for i, d in enumerate(f"{n:04d}")) + syllables[n % 26]


def stage(tx, entity: str, rows: list[dict], *, approve: bool = True) -> int:
    """Stage `rows` (dicts keyed by field names, as a CSV with those headers would be) and approve the run."""
    columns = list(dict.fromkeys(name for row in rows for name in row))
    source = SourceTable(columns=columns, rows=[(i + 2, {c: str(row.get(c, "")) for c in columns})
                                                for i, row in enumerate(rows)],
                         encoding="utf-8", delimiter=",", kind="csv")
    with tx() as session:
        run = runs.stage(session, entity, source, by="tester")
        if approve:
            run.status, run.approved_at = "approved", clock.now()
        return run.id


def basics(tx) -> None:
    """The chart of accounts and warehouse BJ-01."""
    with tx() as session:
        ensure_chart(session)
        warehouse(session)


def run_of(tx, run_id: int) -> MigrationRun:
    with tx() as session:
        return session.get(MigrationRun, run_id)


def ref_count(session, entity: str) -> int:
    return session.scalar(select(func.count()).select_from(ExternalRef).where(ExternalRef.entity == entity))

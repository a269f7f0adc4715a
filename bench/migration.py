"""`erp bench import`: a legacy customer file staged (mapped and fully validated: the dry run) and imported,
per backend, against a plain bulk insert of the same rows.

Per backend (SQLite file, and PostgreSQL when reachable), in a fresh migrated database: `--rows` customer
rows generated with Faker zh_CN (seeded: the same file every run), each with a valid credit code and a phone.
First the floor: the rows inserted straight into crm_customer with one SQLAlchemy Core executemany (no
mapping, no checks, no duplicate detection, no legacy keys), then deleted. Then the product's path: stage the
file (runs.stage: every row mapped, cleansed and validated, the rows stored) and import it
(importer.run_import in batches of BATCH_SIZE, each a transaction that upserts through the domain, writes the
legacy keys and marks the rows imported).

Prints `name: value` lines: `rows_per_s` of stage + import, the seconds of each part, and
`vs_bulk_insert_ratio` = bulk insert time / stage + import time (target ≥ 0.3: the import may cost at most
about three bulk inserts).
"""
from __future__ import annotations

import random
import time

from faker import Faker
from sqlalchemy import delete, insert

from bench.engine import _databases
from core import clock
from core.db import Database
from core.migrate import upgrade
from erp.crm.models import Customer
from erp.crm.validation import company_name_key, credit_code_check_char
from erp.migration import runs
from erp.migration.importer import run_import
from erp.migration.models import MigrationRun
from erp.migration.sources import SourceTable

COLUMNS = ("external_id", "name_zh", "tax_number", "phone", "address", "city", "province", "tier",
           "credit_limit", "payment_terms_days")


def run(*, rows: int, postgres_url: str | None, out) -> dict:
    source = legacy_customers(rows)
    figures = {}
    for name, url, cleanup in _databases(postgres_url, out):
        try:
            figures.update(_measure(name, url, source, out))
        finally:
            cleanup()
    return figures


def legacy_customers(count: int) -> SourceTable:
    """`count` customer rows as a legacy CSV would hold them (header = the field names)."""
    fake, pick = Faker("zh_CN"), random.Random(20261126)
    Faker.seed(20261126)
    rows = []
    for n in range(1, count + 1):
        first17 = f"9111{pick.randrange(10**4):04d}{n:09d}"
        rows.append((n + 1, {
            "external_id": f"L{n:07d}", "name_zh": _company_name(fake, n, rows),
            "tax_number": first17 + credit_code_check_char(first17), "phone": fake.phone_number(),
            "address": fake.street_address(), "city": fake.city_name(), "province": fake.province(),
            "tier": pick.choice("ABC"), "credit_limit": f"{pick.randrange(0, 500_000)}.00",
            "payment_terms_days": str(pick.choice((0, 30, 60, 90)))}))
    return SourceTable(columns=list(COLUMNS), rows=rows, encoding="utf-8", delimiter=",", kind="csv")


def _company_name(fake: Faker, n: int, rows: list) -> str:
    """A name as a legacy file holds them (城市 + 字号 + 行业 + 组织形式); every 50th is a near-duplicate of the
    one 25 rows earlier (a character changed), as legacy systems have them."""
    if n % 50 == 0:
        earlier = rows[-25][1]["name_zh"]
        at = len(earlier) // 2
        return earlier[:at] + ("新" if earlier[at] != "新" else "华") + earlier[at + 1:]
    return f"{fake.city_name()}{fake.company_prefix()}{fake.word()}{fake.word()}{fake.company_suffix()}"


def _measure(name: str, url: str, source: SourceTable, out) -> dict:
    upgrade(url)
    database = Database(url)
    bulk = _bulk_insert(database, source)
    started = time.perf_counter()
    with database.transaction() as session:
        run = runs.stage(session, "customers", source, by="bench")
        run_id, counts = run.id, (run.ok, run.warnings, run.errors)
    staged = time.perf_counter()
    with database.transaction() as session:
        approved = session.get(MigrationRun, run_id)
        approved.status, approved.approved_at = "approved", clock.now()
    result = run_import(database, run_id)
    done = time.perf_counter()
    total = done - started
    figures = {f"{name}.rows": len(source.rows),
               f"{name}.ok_warnings_errors": "/".join(str(c) for c in counts),
               f"{name}.imported": result["imported"],
               f"{name}.stage_s": round(staged - started, 2),
               f"{name}.import_s": round(done - staged, 2),
               f"{name}.rows_per_s": round(len(source.rows) / total, 1),
               f"{name}.bulk_insert_s": round(bulk, 2),
               f"{name}.bulk_rows_per_s": round(len(source.rows) / bulk, 1),
               f"{name}.vs_bulk_insert_ratio": round(bulk / total, 3)}
    for key, value in figures.items():
        out(f"{key}: {value}")
    database.dispose()
    return figures


def _bulk_insert(database: Database, source: SourceTable) -> float:
    """Seconds to insert the rows straight into crm_customer (one executemany); they are deleted after."""
    now = clock.now()
    rows = [{"code": f"X-{n:07d}", "name_zh": r["name_zh"], "name_key": company_name_key(r["name_zh"]),
             "tax_number": r["tax_number"], "phone": "".join(c for c in r["phone"] if c.isdigit()),
             "address": r["address"], "city": r["city"], "province": r["province"], "tier": r["tier"],
             "credit_limit": r["credit_limit"], "payment_terms_days": int(r["payment_terms_days"]), "tags": [],
             "active": True, "created_at": now, "created_by": "bench"}
            for n, (_, r) in enumerate(source.rows, start=1)]
    started = time.perf_counter()
    with database.transaction() as session:
        session.execute(insert(Customer.__table__), rows)
    elapsed = time.perf_counter() - started
    with database.transaction() as session:
        session.execute(delete(Customer.__table__))
    return elapsed

"""`erp import`, `erp export-template` and `erp import-runs` as a user runs them: the dry run's counts and the
error rows written next to the file, an import in batches and a re-import that creates nothing new, and
templates that open again."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from erp.crm.models import Customer
from erp.migration.models import ExternalRef
from tests.conftest import ROOT
from tests.migration_data import csv_bytes, customer_rows

ERP = [sys.executable, "-m", "erp.cli"]


@pytest.fixture
def erp(database, database_url):
    env = {**os.environ, "ERP_DATABASE_URL": database_url}

    def run(*args, ok=True):
        done = subprocess.run([*ERP, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    return run


def _count(database, model) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_dry_run_prints_the_counts_and_writes_the_rows_in_error_next_to_the_file(erp, database, tmp_path):
    rows = customer_rows(10)
    rows[3]["电话"] = "12345"
    rows[6]["客户名称"] = "N/A"
    source = tmp_path / "客户.csv"
    source.write_bytes(csv_bytes(rows, encoding="gb18030", delimiter=";"))

    done = erp("import", "customers", str(source), "--dry-run", ok=False)
    assert done.returncode != 0
    assert "10 rows" in done.stdout and "2 in error" in done.stdout and "nothing imported" in done.stdout
    errors = tmp_path / "客户.csv.errors.csv"
    read = list(csv.reader(io.StringIO(errors.read_bytes().decode("utf-8-sig"))))
    assert read[0][-1] == "错误原因 Reasons" and len(read) == 3
    assert _count(database, Customer) == 0

    refused = erp("import", "customers", str(source), ok=False)  # without --dry-run: errors still block
    assert refused.returncode != 0 and _count(database, Customer) == 0


def test_import_then_import_again_creates_no_duplicates(erp, database, tmp_path):
    source = tmp_path / "customers.csv"
    source.write_bytes(csv_bytes(customer_rows(12)))
    assert "dry run: nothing imported" in erp("import", "customers", str(source), "--dry-run").stdout
    assert _count(database, Customer) == 0

    first = json.loads(erp("import", "customers", str(source), "--batch-size", "5", "--json").stdout)
    assert first["import"] == {"imported": 12, "skipped": 0, "batches": 3}
    assert first["reconciliation"]["ok"] is True
    assert _count(database, Customer) == 12 and _count(database, ExternalRef) == 12

    again = erp("import", "customers", str(source), "--batch-size", "5")
    assert "imported 12 rows in 3 batches" in again.stdout and "reconciliation: ok" in again.stdout
    assert _count(database, Customer) == 12 and _count(database, ExternalRef) == 12
    assert not (tmp_path / "customers.csv.errors.csv").exists()

    runs = json.loads(erp("import-runs", "--json").stdout)["runs"]
    assert [(r["status"], r["imported"]) for r in runs] == [("reconciled", 12), ("reconciled", 12),
                                                             ("validated", 0)]
    assert "customers" in erp("import-runs", "--entity", "customers").stdout


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_template_writes_a_template_that_reads_back(erp, tmp_path, fmt):
    from erp.migration.entities import entity
    from erp.migration.sources import read_source
    from erp.migration.templates import header

    target = tmp_path / f"products.{fmt}"
    assert str(target) in erp("export-template", "products", "--format", fmt, "-o", str(target)).stdout
    table = read_source(target.name, target.read_bytes())
    assert table.columns == [header(f) for f in entity("products").fields]
    assert len(table.rows) == 2
    if fmt == "xlsx":
        assert len(load_workbook(target).sheetnames) == 2

"""The dry run: a messy legacy export staged writes nothing to the target tables, stores every row with its
status and reasons, reports them, and gives back the rows in error as a CSV to fix and upload again."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, InvalidInput
from erp.catalog.models import Product
from erp.crm.models import Contact, Customer
from erp.finance.models import JournalEntry
from erp.migration import runs, similar_names, validation
from erp.migration.models import ExternalRef, MigrationRow
from erp.migration.sources import read_csv
from erp.purchasing.models import Supplier
from tests.migration_data import LEGACY_HEADER, credit_code, csv_bytes, customer_rows, legacy_mapping

TARGETS = (Customer, Contact, Product, Supplier, JournalEntry, ExternalRef)


def target_counts(session) -> dict:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TARGETS}


def messy_file() -> bytes:
    rows = customer_rows(20)
    rows[4]["统一社会信用代码"] = "91110000100000000X"          # wrong check character
    rows[5]["客户名称"] = " NULL "                              # missing name
    rows[6]["旧系统编号"] = rows[1]["旧系统编号"]                # duplicate legacy id
    rows[7]["电话"] = "12345"                                   # not a phone number
    rows[8]["统一社会信用代码"] = credit_code(1)                  # same tax number as the first row
    rows[9]["信用额度"] = "-100"                                 # negative credit limit
    rows[10]["地址"] = '=HYPERLINK("http://x","点我")'
    rows[10]["电话"] = "phone?"
    return csv_bytes(rows, encoding="gb18030", delimiter=";")


def staged(tx, data: bytes, **kwargs):
    with tx() as session:
        before = target_counts(session)
        run = runs.stage(session, "customers", read_csv(data), columns=legacy_mapping(), by="tester",
                         source_name="客户.csv", **kwargs)
        after = target_counts(session)
        return run.id, before, after


def test_stage_writes_nothing_to_target_tables_and_stores_every_row(tx):
    run_id, before, after = staged(tx, messy_file())
    assert before == after
    with tx() as session:
        run = runs.find_run(session, run_id)
        assert (run.status, run.source_kind, run.encoding, run.delimiter) == ("validated", "csv", "gb18030", ";")
        assert (run.total, run.ok + run.warnings, run.errors) == (20, 14, 6)
        assert run.mapping == legacy_mapping() and run.created_by == "tester"
        rows = session.scalars(select(MigrationRow).where(MigrationRow.run_id == run_id)
                               .order_by(MigrationRow.id)).all()
        assert len(rows) == 20 and not any(r.imported for r in rows)
        first = rows[0]
        assert first.raw["旧系统编号"] == "  K0001 " and first.values["external_id"] == "K0001"
        assert first.values["province"] in ("北京市", "广东省", "上海市", "浙江省")
        assert {r.row_no for r in rows} >= {2, 3}
        errors = {r.values.get("external_id"): [x["field"] for x in r.reasons] for r in rows if r.status == "error"}
        assert errors == {"K0005": ["tax_number"], "K0006": ["name_zh"], "K0002": ["external_id"],
                          "K0008": ["phone"], "K0010": ["credit_limit"], "K0011": ["phone"]}
        assert rows[8].status == "warning" and rows[8].reasons[0]["field"] == "tax_number"


def test_the_report_counts_reasons_per_field(tx):
    run_id, _, _ = staged(tx, messy_file())
    with tx() as session:
        report = runs.report(session, run_id)
    assert report["run"] == run_id and report["entity"] == "customers" and report["status"] == "validated"
    assert report["total"] == report["ok"] + report["warnings"] + report["errors"] == 20
    assert report["by_field"]["phone"] >= 2 and report["by_field"]["tax_number"] >= 2
    assert len(report["sample_errors"]) == report["errors"]
    assert all(r["level"] == "error" for s in report["sample_errors"] for r in s["reasons"])


def test_error_rows_come_back_as_csv_with_a_reasons_column_that_reads_again(tx):
    run_id, _, _ = staged(tx, messy_file())
    with tx() as session:
        data = runs.error_rows_csv(session, run_id)
        with_warnings = runs.error_rows_csv(session, run_id, include_warnings=True)
        errors = runs.find_run(session, run_id).errors
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_csv(data)
    assert table.columns == [*LEGACY_HEADER, runs.REASONS_COLUMN]
    assert len(table.rows) == errors
    reasons = [r[runs.REASONS_COLUMN] for _, r in table.rows]
    assert any(r.startswith("统一社会信用代码 Credit code:") for r in reasons)
    assert all(r for r in reasons)
    assert any(r["地址"].startswith("'=HYPERLINK") for _, r in table.rows)  # never a live formula
    assert len(read_csv(with_warnings).rows) > len(table.rows)
    with tx() as session:
        again = runs.stage(session, "customers", table, columns=legacy_mapping(), by="tester")
        assert again.total == errors
        assert runs.error_rows_csv(session, again).count(runs.REASONS_COLUMN.encode()) == 1


def test_a_saved_mapping_or_the_template_headers_map_the_file(tx):
    from erp.migration.mapping import save_mapping
    from erp.migration.templates import template_csv

    with tx() as session:
        save_mapping(session, "customers", "旧ERP", legacy_mapping(), by="tester")
        by_name = runs.stage(session, "customers", read_csv(csv_bytes(customer_rows(3))), mapping="旧ERP",
                             by="tester")
        assert by_name.mapping_id is not None and by_name.total == 3
        auto = runs.stage(session, "customers", read_csv(template_csv("customers")), by="tester")
        assert (auto.total, auto.errors) == (2, 0)
        with pytest.raises(InvalidInput, match="no column"):
            runs.stage(session, "customers", read_csv(b"foo,bar\n1,2\n"), by="tester")


def test_a_re_upload_supersedes_the_run(tx):
    run_id, _, _ = staged(tx, messy_file())
    with tx() as session:
        assert runs.supersede(session, run_id).status == "superseded"
        with pytest.raises(Conflict):
            runs.supersede(session, run_id)


def test_a_large_files_names_checked_in_a_second_process_give_the_same_rows(tx, monkeypatch):
    rows = customer_rows(60)
    rows[10]["客户名称"], rows[30]["客户名称"] = "北京华信商贸科技发展有限公司", "华信商贸科枝发展有限公司"  # alike
    rows[40]["客户名称"] = f" {rows[20]['客户名称'].strip()}（北京） "   # the same name spelt otherwise
    rows[50]["客户名称"] = "NULL"                                           # no name
    data = csv_bytes(rows)

    def rows_of(run_id):
        with tx() as session:
            return [(r.row_no, r.values, r.status, r.reasons) for r in session.scalars(
                select(MigrationRow).where(MigrationRow.run_id == run_id).order_by(MigrationRow.id))]

    here = rows_of(staged(tx, data)[0])
    started = []
    monkeypatch.setattr(validation, "SECOND_PROCESS_FROM", 50)
    monkeypatch.setattr(validation, "InSecondProcess",
                        lambda names: started.append(names) or similar_names.InSecondProcess(names))
    there = rows_of(staged(tx, data)[0])
    assert len(started) == 1 and len(started[0]) == 60 and started[0][50] == ""
    assert there == here
    similar = [[r["message"] for r in reasons if r["field"] == "name_zh"] for _, _, _, reasons in here]
    line = [row_no for row_no, _, _, _ in here]  # a multi-line address takes two lines of the file
    assert similar[30] == [f"a similar name is on row {line[10]}"]
    assert similar[40] == [f"a similar name is on row {line[20]}"]


def test_a_dry_run_that_fails_stops_its_second_process(tx, monkeypatch):
    started = []
    monkeypatch.setattr(validation, "SECOND_PROCESS_FROM", 10)
    monkeypatch.setattr(validation, "InSecondProcess",
                        lambda names: started.append(similar_names.InSecondProcess(names)) or started[-1])

    def broken(*_args):
        raise InvalidInput("the disk is full")

    monkeypatch.setattr(runs, "insert_rows", broken)
    with pytest.raises(InvalidInput, match="disk is full"):
        staged(tx, csv_bytes(customer_rows(20)))
    [job] = started
    assert job._process is None  # stopped and reaped, not left waiting to write its answer

"""core.bulk: rows written through the driver (COPY on PostgreSQL, executemany elsewhere) read back through the
ORM exactly as the ORM would have written them — JSON, aware datetimes, amounts, booleans, NULLs, non-ASCII and
the characters COPY's text format escapes — in the session's transaction, after its pending changes."""
from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.bulk import collector_paused, insert_rows, read_rows
from erp.crm.models import Customer
from erp.migration.models import ExternalRef, ImportedRow, MigrationRow, MigrationRun, not_imported

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def _run(session) -> MigrationRun:
    run = MigrationRun(entity="customers", mapping={}, source_name="bulk.csv", source_kind="csv",
                       status="validated", created_at=NOW, imported=0)
    session.add(run)  # pending: insert_rows flushes it before writing rows that refer to it
    return run


def test_inserted_rows_read_back_as_the_orm_wrote_them(tx):
    awkward = "北京\t华信\\商贸\n“有限”公司 \\N"
    with tx() as session:
        run = _run(session)
        session.flush()
        insert_rows(session, MigrationRow.__table__,
                    ("run_id", "row_no", "raw", "values", "status", "reasons"),
                    [(run.id, 2, {"名称": awkward, "空": None}, {"name_zh": awkward, "n": 3, "list": [1, "二"]},
                      "ok", []),
                     (run.id, 3, {"名称": ""}, {}, "warning", [{"field": "name_zh", "level": "warning"}])])
        insert_rows(session, Customer.__table__,
                    ("code", "name_zh", "name_key", "tax_number", "phone", "tier", "credit_limit",
                     "payment_terms_days", "tags", "active", "created_at", "created_by"),
                    [("C-900001", awkward, "华信", None, "13812345678", "A", Decimal("12345.67"), 30,
                      ["重点", "华北"], True, NOW, "bulk")])
        run_id = run.id
    with tx() as session:
        rows = session.scalars(select(MigrationRow).where(MigrationRow.run_id == run_id)
                               .order_by(MigrationRow.row_no)).all()
        assert [(r.row_no, r.status) for r in rows] == [(2, "ok"), (3, "warning")]
        assert rows[0].raw == {"名称": awkward, "空": None}
        assert rows[0].values == {"name_zh": awkward, "n": 3, "list": [1, "二"]}
        assert rows[1].reasons == [{"field": "name_zh", "level": "warning"}] and rows[1].values == {}
        customer = session.scalar(select(Customer).where(Customer.code == "C-900001"))
        assert customer.name_zh == awkward and customer.tax_number is None
        assert customer.credit_limit == Decimal("12345.67") and customer.tags == ["重点", "华北"]
        assert customer.active is True and customer.created_at == NOW.astimezone(UTC)


def test_import_marks_read_back_on_the_rows_they_mark(tx):
    with tx() as session:
        run = _run(session)
        session.flush()
        insert_rows(session, MigrationRow.__table__, ("run_id", "row_no", "raw", "values", "status", "reasons"),
                    [(run.id, n, {}, {"external_id": f"L{n}"}, "ok", []) for n in range(1, 6)])
        ids = session.scalars(select(MigrationRow.id).where(MigrationRow.run_id == run.id)
                              .order_by(MigrationRow.row_no)).all()
        insert_rows(session, ImportedRow.__table__, ("row_id", "batch", "target_id"),
                    [(row_id, 7, f"C-00000{n}") for n, row_id in enumerate(ids[:3], start=1)])
        insert_rows(session, ImportedRow.__table__, ("row_id", "batch", "target_id"), [])  # nothing to do
        run_id = run.id
    with tx() as session:
        rows = session.execute(select(MigrationRow.row_no, MigrationRow.imported, MigrationRow.target_id,
                                      MigrationRow.batch).where(MigrationRow.run_id == run_id)
                               .order_by(MigrationRow.row_no)).all()
        pending = session.scalars(select(MigrationRow.row_no).where(MigrationRow.run_id == run_id, not_imported())
                                  .order_by(MigrationRow.row_no)).all()
    assert [tuple(r) for r in rows] == [(1, True, "C-000001", 7), (2, True, "C-000002", 7),
                                        (3, True, "C-000003", 7), (4, False, None, None), (5, False, None, None)]
    assert pending == [4, 5]


def test_a_failed_bulk_write_rolls_back_with_its_transaction(tx):
    with tx() as session:
        session.add(ExternalRef(entity="customers", external_id="L1", target_id="C-000001", created_at=NOW))
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        with tx() as session:
            insert_rows(session, ExternalRef.__table__, ("entity", "external_id", "target_id", "created_at"),
                        [("customers", "L2", "C-000002", NOW), ("customers", "L1", "C-000009", NOW)])
    with tx() as session:
        assert session.execute(select(ExternalRef.external_id, ExternalRef.target_id)).all() == [("L1", "C-000001")]


def test_read_rows_returns_what_the_orm_reads_as_plain_tuples(tx):
    """Parameters (a list for IN, text with quotes) are bound as the ORM binds them; rows written in the same
    transaction are seen."""
    with tx() as session:
        insert_rows(session, Customer.__table__,
                    ("code", "name_zh", "name_key", "tier", "credit_limit", "payment_terms_days", "tags", "active",
                     "created_at"),
                    [(f"C-90000{n}", f"北京'{n}'商贸", f"'{n}'商贸", "C", Decimal("0"), 30, [], True, NOW)
                     for n in range(1, 6)])
        query = (select(Customer.id, Customer.code, Customer.name_key)
                 .where(Customer.code.in_(["C-900002", "C-900004", "C-900005"]), Customer.name_key != "'5'商贸")
                 .order_by(Customer.code))
        plain = read_rows(session, query)
        assert plain == [tuple(row) for row in session.execute(query)]
        assert [(code, key) for _, code, key in plain] == [("C-900002", "'2'商贸"), ("C-900004", "'4'商贸")]
        assert all(type(row) is tuple for row in plain)


def test_the_collector_is_paused_for_a_bulk_job_and_left_as_it_was_found():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a job inside another
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("the job failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # found off (by someone else): left off
    finally:
        gc.enable()

"""A customer import's batches (erp.migration.staged): prepared a batch ahead in a second process for a large
run, with the same rows and customers as when prepared here; read here when another import took the rows
meanwhile, when the second process fails, and the second process stopped when the import fails."""
from __future__ import annotations

from select import select as select_fds

import pytest
from sqlalchemy import select

from core.bulk import insert_rows
from core.errors import Conflict
from erp.crm.models import Customer
from erp.crm.services import create_customer
from erp.migration import importer, staged
from erp.migration.importer import run_import
from erp.migration.models import ImportedRow, MigrationRow
from tests.migration_import_data import credit_code, customer_rows, run_of, stage

#: what a customer's row holds after an import, whichever process prepared it
SEEN = (Customer.code, Customer.name_zh, Customer.name_key, Customer.tax_number, Customer.phone, Customer.city,
        Customer.province, Customer.segment, Customer.tier, Customer.credit_limit, Customer.payment_terms_days,
        Customer.tags, Customer.active)


@pytest.fixture
def ahead(monkeypatch):
    """Every customer import prepares its batches ahead from the second; the processes started, in order."""
    started = []
    monkeypatch.setattr(staged, "SECOND_PROCESS_FROM", 1)
    monkeypatch.setattr(staged, "LEAD_ROWS", 4)
    start = staged._Ahead.start
    monkeypatch.setattr(staged._Ahead, "start",
                        classmethod(lambda cls, *a, **kw: started.append(start(*a, **kw)) or started[-1]))
    return started


def _rows() -> list[dict]:
    """Customers new and on file, a tax number repeated in a batch (merged into the customer created), one with
    its own code and segment."""
    rows = customer_rows(14)
    rows[5] = {**rows[5], "code": "vip-01", "segment": "重点客户"}
    rows[7] = {**rows[7], "tax_number": rows[4]["tax_number"], "tier": "A"}
    rows[12] = {**rows[12], "tax_number": credit_code(900), "credit_limit": "1.50"}
    return rows


def _customers(tx) -> list[tuple]:
    with tx() as session:
        return [tuple(row) for row in session.execute(select(*SEEN).order_by(Customer.code))]


def _batches(database, run_id: int, *, total: int) -> list[list]:
    with database.transaction(readonly=True) as session, \
            staged.CustomerBatches(database.url, run_id, 4, total=total) as batches:
        found = []
        while (batch := batches.next(session)) is not None:
            found.append([row._replace(new=_comparable(row.new)) for row in batch.rows])
            assert batch.values_of([batch.rows[0].id])[batch.rows[0].id]["external_id"] == batch.rows[0].external_id
        return found


def _comparable(new):
    return (type(new).__name__, str(new), new.errors) if isinstance(new, Exception) else new


@pytest.mark.parametrize("lead", [4, 5])  # one batch here while the second process starts, or two
def test_batches_prepared_in_the_second_process_are_those_prepared_here(database, tx, ahead, monkeypatch, lead):
    monkeypatch.setattr(staged, "LEAD_ROWS", lead)
    run_id = stage(tx, "customers", _rows())
    here = _batches(database, run_id, total=0)
    assert [len(b) for b in here] == [4, 4, 4, 2] and not ahead
    taken = []
    take = staged._Ahead.next
    monkeypatch.setattr(staged._Ahead, "next", lambda self: taken.append(take(self)) or taken[-1])
    assert _batches(database, run_id, total=14) == here
    assert [len(rows) for rows in taken] == ([4, 4, 2, 0] if lead == 4 else [4, 2, 0])
    assert len(ahead) == 1 and ahead[0].process.returncode == 0  # it ended by itself, after the last batch


def test_a_large_import_through_the_second_process_makes_the_same_customers(database, tx, ahead, monkeypatch):
    with tx() as session:  # on file: found by its tax number, updated
        create_customer(session, name_zh="北京老客户贸易有限公司", tax_number=credit_code(900), by="tester")
    run_id = stage(tx, "customers", _rows())
    taken = []
    take = staged._Ahead.next
    monkeypatch.setattr(staged._Ahead, "next", lambda self: taken.append(take(self)) or taken[-1])
    assert run_import(database, run_id, batch_size=4) == {"imported": 14, "skipped": 0, "batches": 4}
    assert len(ahead) == 1 and [len(rows) for rows in taken] == [4, 4, 2, 0]
    through_second = _customers(tx)
    codes = {row[0] for row in through_second}
    assert "VIP-01" in codes and len(codes) == 13  # the repeated tax number merged, the one on file updated
    with tx() as session:
        assert session.scalar(select(Customer.credit_limit).where(Customer.tax_number == credit_code(900))) == \
            pytest.approx(1.5)
        assert session.scalar(select(Customer.tier).where(Customer.tax_number == credit_code(5))) == "A"
        assert session.scalar(select(Customer.segment).where(Customer.code == "VIP-01")) == "重点客户"

    # the same file again, prepared here: every customer updated to what it already is
    monkeypatch.setattr(staged, "SECOND_PROCESS_FROM", 10**9)
    again = stage(tx, "customers", _rows())
    assert run_import(database, again, batch_size=4)["imported"] == 14
    assert _customers(tx) == through_second and len(ahead) == 1


def test_rows_another_import_took_meanwhile_are_read_here(database, tx, ahead, caplog):
    run_id = stage(tx, "customers", customer_rows(12))
    with tx() as session:
        ids = list(session.scalars(select(MigrationRow.id).where(MigrationRow.run_id == run_id)
                                   .order_by(MigrationRow.id)))
    with database.transaction(readonly=True) as session, \
            staged.CustomerBatches(database.url, run_id, 4, total=12) as batches:
        assert [row.id for row in batches.next(session).rows] == ids[:4]
        assert select_fds([ahead[0].process.stdout], [], [], 60)[0]  # the second process has read its batch
        with tx() as other:  # then another import takes those rows
            insert_rows(other, ImportedRow.__table__, ("row_id", "batch", "target_id"),
                        [(row_id, 2, "C-X") for row_id in ids[4:8]])
        session.rollback()  # a new transaction, as the import's next batch is
        assert [row.id for row in batches.next(session).rows] == ids[8:]
        assert batches.next(session) is None
    assert ahead[0].process.returncode is not None
    assert "taken meanwhile by another import" in caplog.text


@pytest.mark.parametrize("executable", ["/bin/false", "/nonexistent/python"])
def test_when_the_second_process_fails_the_batches_are_read_here(database, tx, ahead, monkeypatch, caplog,
                                                                 executable):
    run_id = stage(tx, "customers", customer_rows(10))
    monkeypatch.setattr(staged.sys, "executable", executable)
    assert run_import(database, run_id, batch_size=4)["imported"] == 10
    assert len(_customers(tx)) == 10 and run_of(tx, run_id).status == "imported"
    assert ("preparing batches failed" if executable == "/bin/false" else "no second process") in caplog.text


def test_a_second_process_gone_silent_is_given_up_and_the_batches_are_read_here(database, tx, ahead, monkeypatch,
                                                                                caplog, tmp_path):
    silent = tmp_path / "silent-python"
    silent.write_text("#!/bin/sh\nexec sleep 60\n")
    silent.chmod(0o755)
    monkeypatch.setattr(staged.sys, "executable", str(silent))
    monkeypatch.setattr(staged._Ahead, "SILENT", 0.5)
    run_id = stage(tx, "customers", customer_rows(10))
    assert run_import(database, run_id, batch_size=4)["imported"] == 10
    assert len(_customers(tx)) == 10 and "no batch for 0.5 s" in caplog.text
    assert ahead[0].process.returncode is not None  # killed and reaped


def test_an_import_that_fails_stops_its_second_process(database, tx, ahead, monkeypatch):
    run_id = stage(tx, "customers", customer_rows(20))
    write = importer.write_customers
    calls = []

    def failing_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Conflict("customer code C-000005 is taken")
        return write(*args, **kwargs)

    monkeypatch.setattr(importer, "write_customers", failing_second)
    with pytest.raises(Conflict):
        run_import(database, run_id, batch_size=4)
    assert run_of(tx, run_id).status == "failed"
    process = ahead[0].process
    assert process.returncode is not None and process.stdout.closed  # killed and reaped, not left waiting

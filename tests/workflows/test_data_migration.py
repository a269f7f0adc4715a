"""Data migration (bpmn/data_migration) end to end against the real domain: a messy customer export is staged
(the dry run), the data steward accepts its warnings, the business owner approves, the job
`migration.run_imports` imports the run and tells the process, which reconciles and asks for the sign-off; a
file with rows in error can only go back for a re-upload."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from core import clock
from core.calendar import BEIJING
from engine import queries
from engine.deploy import read_paths
from erp.crm.models import Customer
from erp.identity.services import ensure_user
from erp.migration import runs
from erp.migration.process import import_approved, start_migration
from erp.migration.sources import read_csv
from erp.wiring import periodic_jobs
from tests.conftest import ROOT, process_engine
from tests.migration_data import credit_code, csv_bytes, customer_rows, legacy_mapping

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING)
PEOPLE = [("zhaolei", ["data_stewards"]), ("zhangwei", ["dept_manager"]), ("lina", ["finance_director"]),
          ("liuyang", ["general_manager"])]


@pytest.fixture
def engine(tx):
    engine = process_engine()
    with clock.frozen(MONDAY), tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        for username, groups in PEOPLE:
            ensure_user(session, username, username, groups=groups, email=f"{username}@example.cn")
    return engine


def with_warnings() -> bytes:
    rows = customer_rows(8)
    rows[4]["统一社会信用代码"] = credit_code(1)  # the same tax number as the first row: a warning
    return csv_bytes(rows)


def with_errors() -> bytes:
    rows = customer_rows(8)
    rows[2]["电话"] = "12345"
    rows[5]["客户名称"] = "NULL"
    return csv_bytes(rows)


def _submit(engine, tx, data: bytes) -> tuple[int, int]:
    with clock.frozen(MONDAY), tx() as session:
        run = runs.stage(session, "customers", read_csv(data), columns=legacy_mapping(), by="zhaolei",
                         source_name="客户.csv")
        instance = start_migration(session, engine, run, user="zhaolei")
        return run.id, instance.id


def _show(engine, tx, instance_id):
    with tx() as session:
        return queries.show(engine, session, instance_id)


def _task(engine, tx, instance_id, element_id):
    tasks = _show(engine, tx, instance_id)["tasks"]
    assert [t["element_id"] for t in tasks] == [element_id], tasks
    return tasks[0]


def _complete(engine, tx, instance_id, element_id, user, data):
    task = _task(engine, tx, instance_id, element_id)
    with clock.frozen(MONDAY), tx() as session:
        engine.complete(session, task["id"], data, user)
    return task


def _run(tx, run_id):
    with tx() as session:
        return runs.find_run(session, run_id)


def _customers(tx) -> int:
    with tx() as session:
        return session.scalar(select(func.count()).select_from(Customer))


def test_warnings_accepted_approved_imported_reconciled_and_signed_off(engine, tx, database):
    run_id, instance_id = _submit(engine, tx, with_warnings())
    shown = _show(engine, tx, instance_id)
    assert shown["business_key"] == f"MIG-{run_id}"
    review = _task(engine, tx, instance_id, "review_dry_run")
    assert review["candidate_groups"] == ["data_stewards"]
    dry_run = shown["data"]["dry_run"]
    assert (dry_run["errors"], dry_run["total"]) == (0, 8) and dry_run["warnings"] >= 1
    assert dry_run["errors_url"] == f"/migration/runs/{run_id}/errors.csv"
    assert _run(tx, run_id).instance_id == instance_id

    _complete(engine, tx, instance_id, "review_dry_run", "zhaolei", {"steward_decision": "accept_warnings"})
    approval = _task(engine, tx, instance_id, "review")
    assert approval["candidate_groups"] == ["dept_manager"]
    assert _show(engine, tx, instance_id)["data"]["title"] == "数据迁移 客户 (8 行)"
    assert _run(tx, run_id).status == "validated"
    assert import_approved(database, engine) == {"run": None}  # nothing approved yet

    _complete(engine, tx, instance_id, "review", "zhangwei", {"decision": "approve"})
    assert _run(tx, run_id).status == "approved"
    assert _show(engine, tx, instance_id)["tasks"] == []  # waiting for migration_imported
    assert _customers(tx) == 0

    with clock.frozen(MONDAY):
        result = import_approved(database, engine, batch_size=3)
    assert result == {"run": run_id, "imported": 8, "skipped": 0, "batches": 3, "delivered": [instance_id]}
    run = _run(tx, run_id)
    assert (run.status, run.imported) == ("reconciled", 8) and run.reconciliation["ok"] is True
    assert _customers(tx) == 7  # the row sharing the first one's tax number updated that customer
    sign_off = _task(engine, tx, instance_id, "sign_off")
    assert sign_off["candidate_groups"] == ["data_stewards"]
    assert _show(engine, tx, instance_id)["data"]["reconciliation"]["ok"] is True

    _complete(engine, tx, instance_id, "sign_off", "zhaolei", {"signed_off": True, "sign_off_note": "核对无误"})
    assert _show(engine, tx, instance_id)["status"] == "completed"
    assert _run(tx, run_id).status == "signed_off"


def test_the_periodic_job_imports_and_delivers(engine, tx, database, monkeypatch):
    from erp import wiring

    monkeypatch.setattr(wiring, "engine", lambda: engine)
    rows = customer_rows(3)
    run_id, instance_id = _submit(engine, tx, csv_bytes(rows))
    _complete(engine, tx, instance_id, "review", "zhangwei", {"decision": "approve"})  # clean: no steward step
    jobs = periodic_jobs(database)
    assert jobs.run("migration.run_imports") == "ok"
    assert _run(tx, run_id).status == "reconciled"
    assert _task(engine, tx, instance_id, "sign_off")


def test_rows_in_error_cannot_be_accepted_only_uploaded_again(engine, tx, database):
    run_id, instance_id = _submit(engine, tx, with_errors())
    assert _show(engine, tx, instance_id)["data"]["dry_run"]["errors"] == 2
    _complete(engine, tx, instance_id, "review_dry_run", "zhaolei", {"steward_decision": "accept_warnings"})
    _task(engine, tx, instance_id, "review_dry_run")  # back to the steward: errors block the import
    assert _run(tx, run_id).status == "validated"

    _complete(engine, tx, instance_id, "review_dry_run", "zhaolei", {"steward_decision": "reupload"})
    assert _show(engine, tx, instance_id)["status"] == "completed"
    assert _run(tx, run_id).status == "superseded"
    assert import_approved(database, engine) == {"run": None} and _customers(tx) == 0

    fixed_id, fixed_instance = _submit(engine, tx, csv_bytes(customer_rows(8)))
    assert fixed_id != run_id
    assert _task(engine, tx, fixed_instance, "review")["candidate_groups"] == ["dept_manager"]


def test_a_rejected_import_ends_without_importing(engine, tx, database):
    run_id, instance_id = _submit(engine, tx, csv_bytes(customer_rows(3)))
    _complete(engine, tx, instance_id, "review", "zhangwei", {"decision": "reject", "comment": "数据不全"})
    assert _show(engine, tx, instance_id)["status"] == "completed"
    assert _run(tx, run_id).status == "validated"
    assert import_approved(database, engine) == {"run": None}


def test_a_run_is_submitted_once(engine, tx):
    from core.errors import Conflict

    run_id, _ = _submit(engine, tx, csv_bytes(customer_rows(3)))
    with pytest.raises(Conflict), tx() as session:
        start_migration(session, engine, runs.find_run(session, run_id), user="zhaolei")


def test_an_import_whose_worker_died_is_taken_over_once_stale_and_not_before(engine, tx, database):
    from datetime import timedelta

    from erp.migration import importer

    rows = customer_rows(6)
    run_id, instance_id = _submit(engine, tx, csv_bytes(rows))
    _complete(engine, tx, instance_id, "review", "zhangwei", {"decision": "approve"})
    with clock.frozen(MONDAY):  # a worker claims it, commits one batch of two and is killed
        importer.run_import(database, run_id, batch_size=2, stop_after_batches=1)
    assert (_run(tx, run_id).status, _run(tx, run_id).imported) == ("importing", 2)
    with clock.frozen(MONDAY + timedelta(minutes=5)):  # still fresh: it may be working
        assert import_approved(database, engine) == {"run": None}
    with clock.frozen(MONDAY + timedelta(minutes=11)):  # stale: the next worker resumes where it stopped
        result = import_approved(database, engine)
    assert result["run"] == run_id and result["imported"] == 4 and result["delivered"] == [instance_id]
    assert _run(tx, run_id).status == "reconciled" and _customers(tx) == 6

"""The audit trail captures every insert, update and delete of business records with the acting user, keeps
secrets out, skips engine bookkeeping, writes one statement per flush, and cannot be altered through the
application (nor, on PostgreSQL, through SQL)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.exc import DBAPIError

from core import clock
from core.errors import PermissionDenied
from erp.audit import queries
from erp.audit.changes import NOT_RECORDED, SECRET, SYSTEM, acting_as
from erp.audit.models import AccessEntry, AuditEntry, RecordChange
from erp.audit.services import record
from erp.crm.models import Contact
from erp.crm.services import add_contact, create_customer, update_customer
from erp.identity.services import create_token, ensure_user, user_by_name


def _changes(tx, target_type=None) -> list[RecordChange]:
    with tx(readonly=True) as session:
        query = select(RecordChange).order_by(RecordChange.id)
        if target_type:
            query = query.where(RecordChange.target_type == target_type)
        return list(session.scalars(query))


def test_a_new_customer_is_recorded_with_its_values_and_who_created_it(tx):
    with acting_as("zhangwei", "10.0.0.8"), tx() as session:
        found = create_customer(session, name_zh="北京鑫源百货有限公司", phone="01066667777", by="zhangwei")
        customer_id = found.id
    [change] = _changes(tx, "crm_customer")
    assert (change.action, change.target_id, change.actor, change.address) == (
        "record.insert", str(customer_id), "zhangwei", "10.0.0.8")
    assert change.before is None
    # personal information is kept masked (an erasure could not reach a copy in the log)
    assert change.after["name_zh"] == "北京鑫源百货有限公司" and change.after["phone"] == "010****7777"


def test_an_update_records_only_the_changed_columns_before_and_after(tx):
    with tx() as session:
        customer_id = create_customer(session, name_zh="北京华联商贸有限公司", credit_limit="50000.00").id
    with acting_as("lina"), tx() as session:
        update_customer(session, customer_id, credit_limit="80000.00", by="lina")
    updates = [c for c in _changes(tx, "crm_customer") if c.action == "record.update"]
    assert len(updates) == 1
    assert (updates[0].before, updates[0].after, updates[0].actor) == (
        {"credit_limit": "50000.00"}, {"credit_limit": "80000.00"}, "lina")


def test_a_delete_records_the_values_the_record_had(tx):
    with tx() as session:
        customer_id = create_customer(session, name_zh="天津宏达贸易有限公司").id
        contact_id = add_contact(session, customer_id, contact_name="李明", mobile="13812345678").id
    with acting_as("zhangwei"), tx() as session:
        session.delete(session.get(Contact, contact_id))
    [deleted] = [c for c in _changes(tx, "crm_contact") if c.action == "record.delete"]
    assert deleted.target_id == str(contact_id) and deleted.actor == "zhangwei"
    assert deleted.before["contact_name"] == "李*" and deleted.before["mobile"] == "138****5678"
    assert deleted.after is None


def test_without_anyone_acting_the_system_is_named(tx):
    with tx() as session:
        create_customer(session, name_zh="上海远东实业有限公司")
    assert {c.actor for c in _changes(tx, "crm_customer")} == {SYSTEM}


def test_a_statement_changing_many_rows_is_recorded_once(tx):
    with tx() as session:
        customer_id = create_customer(session, name_zh="广州南方电器有限公司").id
        for name in ("王一", "王二"):
            add_contact(session, customer_id, contact_name=name)
    with acting_as("zhangwei"), tx() as session:
        session.execute(update(Contact).where(Contact.customer_id == customer_id).values(title="经理"))
    [bulk] = [c for c in _changes(tx, "crm_contact") if c.action == "record.bulk_update"]
    assert bulk.after["rows"] == 2 and "经理" in bulk.after["parameters"].values()
    assert "customer_id" in bulk.detail and bulk.actor == "zhangwei"


def test_secrets_are_recorded_as_changed_never_with_their_value(tx):
    with acting_as("admin"), tx() as session:
        user = ensure_user(session, "sunli", "孙丽", roles=["employee"], password="first-pass-2026")
        token = create_token(session, user, "integration")
    with acting_as("admin"), tx() as session:
        ensure_user(session, "sunli", password="second-pass-2026")
    hashes = [(c.before or {}).get("password_hash", "-") for c in _changes(tx, "app_user")] + \
        [(c.after or {}).get("password_hash", "-") for c in _changes(tx, "app_user")]
    assert set(hashes) <= {SECRET, None, "-"} and SECRET in hashes
    assert [c.before["password_hash"] for c in _changes(tx, "app_user")
            if c.actor == "admin" and c.before and "password_hash" in c.before][-1] == SECRET  # a change of it
    [token_row] = _changes(tx, "api_token")
    assert token_row.after["token_hash"] == SECRET
    everything = " ".join(str((c.before, c.after)) for c in _changes(tx))
    assert "scrypt" not in everything and token not in everything and "pass-2026" not in everything


def test_engine_bookkeeping_and_the_logs_themselves_are_not_captured(tx, deploy, engine):
    deploy("simple_task.bpmn")
    with tx() as session:
        engine.start(session, "simple_task", user="wangfang")
        record(session, "test.event", actor="tester")
    tables = {c.target_type for c in _changes(tx)}
    assert "process_definition" in tables  # deploying a version is an administrative change
    assert tables.isdisjoint({"process_instance", "human_task", "history_event", "audit_log", "outbox_message"})
    [deployed] = _changes(tx, "process_definition")
    assert deployed.after["spec"] == NOT_RECORDED and deployed.after["key"] == "simple_task"


def test_one_insert_statement_records_all_changes_of_a_flush(tx, database):
    with tx() as session:
        customer_id = create_customer(session, name_zh="深圳前海科技有限公司").id
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "audit_change" in statement:
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with tx() as session:
            session.add_all([Contact(customer_id=customer_id, contact_name=f"联系人{i}", is_primary=False)
                             for i in range(5)])
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert len(_changes(tx, "crm_contact")) == 5


def test_a_rolled_back_change_leaves_no_audit_record(tx):
    with pytest.raises(RuntimeError), tx() as session:
        create_customer(session, name_zh="杭州西湖茶业有限公司")
        raise RuntimeError("the request failed")
    assert _changes(tx) == []


# ---------------------------------------------------------------------- the logs cannot be altered

@pytest.fixture
def entry_ids(tx):
    with tx() as session:
        entry = record(session, "user.create", actor="admin", target_type="user", target_id="sunli")
        create_customer(session, name_zh="成都蜀锦贸易有限公司")
        access = AccessEntry(at=clock.now(), actor="lina", how="view", entity="crm_customer", entity_id="1",
                             fields=["mobile"])
        session.add(access)
        session.flush()
        change = session.scalars(select(RecordChange)).first()
        return entry.id, change.id, access.id


@pytest.mark.parametrize("model", [AuditEntry, RecordChange, AccessEntry])
def test_an_entry_cannot_be_changed_or_deleted_through_a_session(tx, entry_ids, model):
    entry_id = dict(zip((AuditEntry, RecordChange, AccessEntry), entry_ids, strict=True))[model]
    with pytest.raises(PermissionDenied), tx() as session:
        session.get(model, entry_id).actor = "someone_else"
    with pytest.raises(PermissionDenied), tx() as session:
        session.delete(session.get(model, entry_id))
    with pytest.raises(PermissionDenied), tx() as session:
        session.execute(update(model).values(actor="someone_else"))
    with pytest.raises(PermissionDenied), tx() as session:
        session.execute(delete(model))
    with tx(readonly=True) as session:
        assert session.get(model, entry_id).actor != "someone_else"


@pytest.mark.parametrize("table", ["audit_log", "audit_change", "access_log"])
def test_postgresql_refuses_changes_to_the_logs_even_in_plain_sql(database, entry_ids, table):
    if database.is_sqlite:
        pytest.skip("the trigger guarding the logs is PostgreSQL's")
    for statement in (f"UPDATE {table} SET actor = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="cannot be changed|kept at least 180 days"), \
                database.engine.begin() as conn:
            conn.execute(text(statement))
    with database.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE actor = 'x'")).scalar() == 0


# ---------------------------------------------------------------------- searching

def test_the_search_finds_changes_by_text_in_their_values_and_by_target(tx):
    with clock.frozen(datetime(2026, 3, 2, 2, 0, tzinfo=UTC)), acting_as("zhangwei"), tx() as session:
        customer_id = create_customer(session, name_zh="北京鑫源百货有限公司").id
        record(session, "crm.note", actor="zhangwei", detail="called 鑫源 about 100%_discount")
    with tx(readonly=True) as session:
        rows, total = queries.search(session, text="鑫源")
        assert {"crm.note", "record.insert"} <= {r["action"] for r in rows} and total == len(rows)
        assert {r["kind"] for r in rows} == {"event", "change"}
        rows, total = queries.search(session, text="100%_")
        assert [r["action"] for r in rows] == ["crm.note"]
        rows, total = queries.search(session, target_type="crm_customer", target_id=customer_id)
        assert [r["action"] for r in rows] == ["record.insert"]
        assert rows[0]["after"]["name_zh"] == "北京鑫源百货有限公司"
        assert queries.search(session, actor="lina") == ([], 0)
        assert queries.search(session, since=datetime(2026, 3, 3, tzinfo=UTC))[1] == 0


def test_personal_values_are_masked_for_readers_who_may_not_see_them(tx):
    with tx() as session:
        customer_id = create_customer(session, name_zh="天津宏达贸易有限公司").id
        add_contact(session, customer_id, contact_name="李明", mobile="13812345678")
    with tx(readonly=True) as session:
        [entry] = queries.search(session, target_type="crm_contact")[0]
    assert queries.masked(entry)["after"]["mobile"] == "138****5678"
    assert queries.masked(entry)["after"]["is_primary"] is False
    # the change was recorded masked: reading it unmasked shows nothing personal (no access-log entry for it)
    assert entry["after"]["mobile"] == "138****5678" and queries.shown_personal(entry) == set()


def test_the_cli_acts_as_the_operating_system_user(database, tx):
    from click.testing import CliRunner

    from erp.cli import main

    result = CliRunner().invoke(main, ["user", "create", "sunli", "--role", "employee",
                                       "--password", "sunli-pass-2026"], env={"ERP_DATABASE_URL": database.url})
    assert result.exit_code == 0, result.output
    with tx(readonly=True) as session:
        assert user_by_name(session, "sunli") is not None
    [created] = [c for c in _changes(tx, "app_user") if c.action == "record.insert"]
    assert created.actor.startswith("cli")

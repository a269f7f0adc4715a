"""Validation of mapped rows: what makes a row an error (blocks it) or a warning (imports anyway), and why."""
from __future__ import annotations

from sqlalchemy import func, select

from core import clock
from erp.crm import services as crm
from erp.migration.models import ExternalRef
from erp.migration.validation import validate_rows
from tests.migration_data import credit_code, fake


def customer(n: int, **fields) -> dict:
    name = f"{'金银铜铁锡山水木火土'[n % 10]}{'春夏秋冬东南西北'[n % 8]}{n}号贸易有限公司"
    return {"external_id": f"K{n}", "name_zh": name, **fields}


def validated(tx, entity, rows):
    with tx() as session:
        return validate_rows(session, entity, list(enumerate(rows, start=2)))


def messages(result):
    return [[(r["field"], r["level"]) for r in reasons] for _, reasons in result]


def test_a_clean_row_is_ok(tx):
    faker = fake()
    result = validated(tx, "customers", [customer(1, tax_number=credit_code(1), phone=faker.phone_number(),
                                                  tier="A", credit_limit="1000.00", payment_terms_days=30)])
    assert result == [("ok", [])]


def test_missing_required_fields_are_errors(tx):
    result = validated(tx, "customers", [{"external_id": None, "name_zh": ""}])
    assert result[0][0] == "error"
    assert [(r["field"], r["message"]) for r in result[0][1]] == [("external_id", "required"), ("name_zh", "required")]


def test_formats_of_every_kind_are_checked(tx):
    rows = [customer(1, tax_number="91110000100000000X"), customer(2, phone="12345"),
            customer(3, credit_limit="-5.00"), customer(4, credit_limit="1.005"), customer(5, payment_terms_days=400),
            customer(6, payment_terms_days="thirty"), customer(7, tier="VIP")]
    result = validated(tx, "customers", rows)
    assert [s for s, _ in result] == ["error"] * 7
    assert [reasons[0]["field"] for _, reasons in result] == ["tax_number", "phone", "credit_limit", "credit_limit",
                                                              "payment_terms_days", "payment_terms_days", "tier"]
    assert "check character" in result[0][1][0]["message"]
    assert "negative" in result[2][1][0]["message"]
    contact = {"external_id": "P1", "customer": "C-000001", "contact_name": "张三"}
    contacts = validated(tx, "contacts", [{**contact, "mobile": "010-88886666", "email": "zhang@"},
                                          {**contact, "external_id": "P2", "is_primary": "maybe"}])
    assert messages(contacts)[0][:2] == [("customer", "error"), ("mobile", "error")]
    assert ("email", "error") in messages(contacts)[0] and ("is_primary", "error") in messages(contacts)[1]
    stock = validated(tx, "sales_orders", [{"external_id": "L1", "order_external_id": "SO1", "customer": "x",
                                            "sku": "y", "quantity": "0", "order_date": "2024-13-01"}])
    assert ("quantity", "error") in messages(stock)[0] and ("order_date", "error") in messages(stock)[0]


def test_references_must_exist_as_legacy_ids_or_keys(tx):
    with tx() as session:
        found = crm.create_customer(session, name_zh="北京华联商贸有限公司", by="tester")
        session.add(ExternalRef(entity="customers", external_id="K9", target_id=found.code, created_at=clock.now()))
    rows = [{"external_id": f"P{n}", "customer": ref, "contact_name": fake().name()}
            for n, ref in enumerate(["K9", found.code, "K404"])]
    result = validated(tx, "contacts", rows)
    assert [s for s, _ in result] == ["ok", "ok", "error"]
    assert "unknown customers 'K404'" in result[2][1][0]["message"]


def test_a_reference_to_a_staged_upload_is_a_warning(tx):
    from erp.migration import runs
    from erp.migration.sources import SourceTable

    with tx() as session:
        runs.stage(session, "customers", SourceTable(["external_id", "name_zh"], [(2, {"external_id": "K7",
                   "name_zh": "上海东方贸易有限公司"})], "utf-8", ",", "csv"), by="tester")
    result = validated(tx, "contacts", [{"external_id": "P1", "customer": "K7", "contact_name": "李四"}])
    assert result[0][0] == "warning" and "import that first" in result[0][1][0]["message"]


def test_duplicates_inside_the_file(tx):
    tax = credit_code(5)
    rows = [customer(1, tax_number=tax, phone="13812345678"), customer(1, name_zh="完全不同的名字有限公司"),
            customer(2, tax_number=tax), customer(3, phone="138 1234 5678"),
            customer(4, name_zh="北京华联商贸有限公司"), customer(5, name_zh="华联商贸（北京）有限公司"),
            customer(6, name_zh="北京华联商贸有限责任公司")]
    result = validated(tx, "customers", rows)
    assert [s for s, _ in result] == ["ok", "error", "warning", "warning", "ok", "warning", "warning"]
    assert result[1][1][0]["message"] == "K1 repeats row 2"
    assert result[2][1][0]["field"] == "tax_number" and result[3][1][0]["field"] == "phone"
    assert result[5][1][0]["message"] == "a similar name is on row 6"


def test_an_order_line_naming_another_customer_than_its_order_is_an_error(tx):
    with tx() as session:
        for code in ("C-1", "C-2"):
            crm.create_customer(session, name_zh=f"客户{code}有限公司", code=code, by="tester",
                                confirm_duplicate=True)
    line = {"order_external_id": "SO1", "sku": "X", "quantity": "1"}
    result = validated(tx, "sales_orders", [{**line, "external_id": "L1", "customer": "C-1"},
                                            {**line, "external_id": "L2", "customer": "C-2"}])
    assert "order SO1 has customer C-1 on row 2" in [r["message"] for r in result[1][1]]


def test_existing_records_with_the_same_tax_number_or_a_similar_name_are_warnings(tx):
    tax = credit_code(8)
    with tx() as session:
        old = crm.create_customer(session, name_zh="深圳腾达科技有限公司", tax_number=tax, by="tester")
        other = crm.create_customer(session, name_zh="杭州西湖龙井茶业有限公司", phone="0571-88886666", by="tester")
        session.add(ExternalRef(entity="customers", external_id="K1", target_id=old.code, created_at=clock.now()))
    rows = [customer(1, tax_number=tax), customer(2, tax_number=tax),
            customer(3, name_zh="西湖龙井茶业（杭州）股份有限公司"), customer(4, phone="0571-88886666")]
    result = validated(tx, "customers", rows)
    assert [s for s, _ in result] == ["warning"] * 4
    assert result[0][1][0]["message"] == f"will update {old.code}"
    assert f"the same tax number already exists as {old.code}" in [r["message"] for r in result[1][1]]
    assert result[2][1][0]["message"] == f"a similar name already exists as {other.code}"
    assert result[3][1][0]["message"] == f"the same phone already exists as {other.code}"
    with tx() as session:
        assert session.scalar(select(func.count()).select_from(ExternalRef)) == 1


def test_opening_balances_need_one_side_and_a_whole_partner(tx):
    rows = [{"external_id": "B1", "account": "1002", "debit": "100.00"},
            {"external_id": "B2", "account": "1002", "debit": "100.00", "credit": "100.00"},
            {"external_id": "B3", "account": "1122", "credit": "5.00", "partner_type": "customer"}]
    result = validated(tx, "opening_balances", rows)
    assert [s for s, _ in result] == ["ok", "error", "error"]
    assert result[2][1][0]["field"] == "partner_code"


def test_an_open_item_due_before_its_date_is_a_warning(tx):
    with tx() as session:
        crm.create_customer(session, name_zh="测试客户有限公司", code="C-9", by="tester")
    result = validated(tx, "receivables", [{"external_id": "R1", "customer": "C-9", "document_date": "2024-03-01",
                                            "due_date": "2024-02-01", "amount": "10.00"}])
    assert result == [("warning", [{"field": "due_date", "message": "due before the document date",
                                    "template": "due before the document date", "params": {},
                                    "level": "warning"}])]

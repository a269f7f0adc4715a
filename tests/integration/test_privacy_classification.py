"""The data classification (数据分类分级): every column whose name looks personal is classified (or exempted with
a reason), the grades and categories are the known ones, and every classified column exists in the migrated
database."""
from __future__ import annotations

from sqlalchemy import inspect

from erp.privacy.classification import (
    CATEGORIES,
    GRADES,
    NOT_PERSONAL,
    SENSITIVE,
    inventory,
    personal_columns,
    unclassified_personal_looking,
)


def test_every_column_whose_name_looks_personal_is_classified():
    assert unclassified_personal_looking() == []
    assert all(reason for reason in NOT_PERSONAL.values())


def test_the_inventory_names_the_personal_columns_with_category_and_grade():
    found = {(c.table, c.column): c for c in inventory()}
    for column in ("contact_name", "mobile", "email", "wechat_id"):
        assert ("crm_contact", column) in found
    assert {("app_user", "email"), ("app_user", "display_name"), ("crm_customer", "phone"),
            ("crm_lead", "contact_phone"), ("sales_payment", "payer"),
            ("purchasing_supplier_contact", "mobile")} <= set(found)
    assert found[("purchasing_supplier", "bank_account")].category == SENSITIVE
    assert {c.category for c in found.values()} <= set(CATEGORIES)
    assert {c.grade for c in found.values()} <= set(GRADES)
    assert set(personal_columns("privacy_request")) == {"requester_name", "requester_email"}


def test_every_classified_column_exists_in_the_migrated_database(database):
    inspector = inspect(database.engine)
    tables = set(inspector.get_table_names())
    missing = [f"{c.table}.{c.column}" for c in inventory() if c.table in tables
               and c.column not in {col["name"] for col in inspector.get_columns(c.table)}]
    assert missing == []
    assert {"crm_contact", "app_user", "privacy_consent"} <= tables

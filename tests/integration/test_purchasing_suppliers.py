"""Suppliers: a valid credit code, qualification, contacts, and a rating computed from receipts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as M

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput
from erp.purchasing import queries, receiving, services
from erp.purchasing.models import Supplier
from tests.purchasing_data import credit_code, goods, order, supplier


def test_a_supplier_with_a_wrong_credit_code_is_refused_and_nothing_is_written(tx):
    with tx() as session:
        with pytest.raises(InvalidInput) as refused:
            services.create_supplier(session, name_zh="上海精工五金有限公司", tax_number="91110108MA01XJ8E5X")
        assert "tax_number" in refused.value.errors
        assert session.scalar(select(func.count()).select_from(Supplier)) == 0


def test_a_new_supplier_gets_the_next_code_and_waits_for_qualification(tx):
    with tx() as session:
        first = services.create_supplier(session, name_zh="上海精工五金有限公司", tax_number=credit_code(),
                                         bank_account="6222 0200 1234 5678")
        second = services.create_supplier(session, name_zh="天津标准件厂")
        assert (first.code, second.code, first.qualification) == ("S-000001", "S-000002", "pending")
        assert not services.is_qualified(first)
        services.set_qualification(session, first, "qualified", until=date(2099, 12, 31))
        assert services.is_qualified(first)
        services.set_qualification(session, first, "suspended")
        assert not services.is_qualified(first)
        with pytest.raises(InvalidInput):
            services.set_qualification(session, first, "excellent")


def test_contacts_have_one_primary_who_gets_the_mail(tx):
    with tx() as session:
        found = supplier(session, email="first@jinggong.cn")
        services.add_supplier_contact(session, found.id, contact_name="陈静", email="chen@jinggong.cn",
                                      is_primary=True)
        assert services.primary_email(session, found) == "chen@jinggong.cn"
        detail = queries.supplier_detail(session, found.code)
        assert [c["is_primary"] for c in detail["contacts"]] == [True, False]
        with pytest.raises(InvalidInput):
            services.add_supplier_contact(session, found.id, contact_name="X", mobile="12345")


def test_the_rating_counts_on_time_receipts_and_accepted_quantities(tx):
    with tx() as session:
        goods(session)
        supplier(session)
        po = order(session, order_date=date(2026, 3, 2), expected_date=date(2026, 3, 9))
        assert queries.supplier_rating(session, "S-000001")["receipts"] == 0
        receiving.receive(session, po, [{"sku": "A", "quantity": "8", "rejected": "2"}], received_on=date(2026, 3, 9))
        receiving.receive(session, po, [{"sku": "B", "quantity": "4"}, {"sku": "A", "quantity": "2"}],
                          received_on=date(2026, 3, 12))
        rating = queries.supplier_rating(session, "S-000001")
    # one of two receipts on time: 2.5; 14 of 16 accepted: 4.4
    assert (rating["delivery"], rating["quality"], rating["overall"], rating["receipts"]) == (
        M("2.5"), M("4.4"), M("3.5"), 2)

"""Posting journal entries: what is accepted, what is refused (nothing written), numbering and reversal."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidInput
from erp.finance.models import Account, JournalEntry, JournalLine
from erp.finance.queries import trial_balance
from erp.finance.services import ensure_chart, post_entry, reverse_entry

D = date(2026, 1, 5)


@pytest.fixture
def books(tx):
    with tx() as session:
        ensure_chart(session)
    return tx


def capital(amount="1000000.00"):
    return [{"account": "1002", "debit": amount}, {"account": "3001", "credit": Decimal(amount)}]


def post(tx, lines, when=D, **kwargs):
    with tx() as session:
        entry = post_entry(session, date=when, lines=lines, description=kwargs.pop("description", "投资款"),
                           user="lina", **kwargs)
        return entry.id, entry.number


def count(tx, model) -> int:
    with tx(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_seeding_the_chart_twice_changes_nothing_the_second_time(books):
    with books() as session:
        assert ensure_chart(session) == 0
        vat_in = session.scalars(select(Account).where(Account.code == "222101")).one()
        assert vat_in.parent.code == "2221" and not vat_in.parent.postable and vat_in.postable


def test_a_balanced_entry_is_posted_with_a_yearly_number_and_decimal_amounts(books):
    _, first = post(books, capital(), source=("bank_statement", 7))
    _, second = post(books, capital("500.50"))
    _, next_year = post(books, capital("1.00"), when=date(2027, 1, 2))
    assert (first, second, next_year) == ("记-2026-000001", "记-2026-000002", "记-2027-000001")
    with books(readonly=True) as session:
        entry = session.scalars(select(JournalEntry).where(JournalEntry.number == first)).one()
        assert (entry.source_type, entry.source_id, entry.created_by) == ("bank_statement", "7", "lina")
        assert [(ln.account.code, ln.debit, ln.credit) for ln in entry.lines] == [
            ("1002", Decimal("1000000.00"), Decimal("0.00")), ("3001", Decimal("0.00"), Decimal("1000000.00"))]
        assert isinstance(entry.lines[0].debit, Decimal)


@pytest.mark.parametrize("lines, field", [
    ([], "lines"),
    ([{"account": "1002", "debit": "100.00"}, {"account": "3001", "credit": "99.99"}], "lines"),
    ([{"account": "1002", "debit": "100.00"}], "lines"),
    ([{"account": "1002", "debit": "100.00", "credit": "100.00"}, {"account": "3001", "credit": "0"}], "lines[0]."),
    ([{"account": "1002"}, {"account": "3001"}], "lines[0]."),
    ([{"account": "1002", "debit": "-100.00"}, {"account": "3001", "debit": "100.00"}], "lines[0].debit"),
    ([{"account": "1002", "debit": "100.001"}, {"account": "3001", "credit": "100.001"}], "lines[0].debit"),
    ([{"account": "1002", "debit": 100.0}, {"account": "3001", "credit": 100.0}], "lines[0].debit"),
    ([{"account": "9999", "debit": "100.00"}, {"account": "3001", "credit": "100.00"}], "lines[0].account"),
    ([{"account": "2221", "debit": "100.00"}, {"account": "3001", "credit": "100.00"}], "lines[0].account"),
    ([{"account": "1122", "debit": "1.00", "partner_type": "bank", "partner_code": "X"},
      {"account": "3001", "credit": "1.00"}], "lines[0].partner_type"),
])
def test_a_wrong_entry_is_refused_with_the_field_at_fault_and_nothing_is_written(books, lines, field):
    with pytest.raises(InvalidInput) as refused:
        post(books, lines)
    assert any(key.startswith(field) for key in refused.value.errors), refused.value.errors
    assert count(books, JournalEntry) == 0 and count(books, JournalLine) == 0


def test_an_entry_needs_a_date_a_description_and_a_user(books):
    with pytest.raises(InvalidInput) as refused, books() as session:
        post_entry(session, date="2026-01-05", lines=capital(), description=" ", user="")
    assert {"date", "description", "user"} <= set(refused.value.errors)


def test_the_database_refuses_a_line_on_both_sides_even_without_the_service(books, database):
    entry_id, _ = post(books, capital())
    account_id = None
    with books(readonly=True) as session:
        account_id = session.scalars(select(Account.id).where(Account.code == "1001")).one()
    for debit, credit in (("5.00", "5.00"), ("-5.00", "0"), ("0", "0")):
        with pytest.raises(IntegrityError), database.engine.begin() as conn:
            conn.execute(text("INSERT INTO journal_line (entry_id, line_no, account_id, debit, credit) "
                              "VALUES (:e, 9, :a, :d, :c)"), {"e": entry_id, "a": account_id, "d": debit, "c": credit})


def test_a_reversal_mirrors_the_entry_links_both_and_nets_to_zero(books):
    entry_id, number = post(books, capital("800.00"))
    with books() as session:
        reversal = reverse_entry(session, number, user="wangfang", date=date(2026, 1, 9))
        assert reversal.reverses.number == number and reversal.description.startswith(f"冲销 {number}")
        assert [(ln.account.code, ln.debit, ln.credit) for ln in reversal.lines] == [
            ("1002", Decimal("0.00"), Decimal("800.00")), ("3001", Decimal("800.00"), Decimal("0.00"))]
    with books(readonly=True) as session:
        assert session.get(JournalEntry, entry_id).reversed_by.number == "记-2026-000002"
        tb = trial_balance(session)
        assert {r["code"]: r["balance"] for r in tb["accounts"]} == {"1002": Decimal("0.00"), "3001": Decimal("0.00")}
        assert tb["total_debit"] == tb["total_credit"] == Decimal("1600.00")


def test_an_entry_is_reversed_at_most_once_and_a_reversal_is_not_reversed(books):
    entry_id, _ = post(books, capital("10.00"))
    with books() as session:
        reversal = reverse_entry(session, entry_id, user="lina", date=D)
        reversal_number = reversal.number
    for target, message in ((entry_id, "already reversed"), (reversal_number, "a reversal cannot be reversed")):
        with pytest.raises(InvalidInput) as refused, books() as session:
            reverse_entry(session, target, user="lina", date=D)
        assert refused.value.errors["entry"] == [message]
    with pytest.raises(InvalidInput), books() as session:
        reverse_entry(session, post_entry(session, date=D, lines=capital("1.00"), description="x", user="a"),
                      user="a", date=date(2026, 1, 1))
    assert count(books, JournalEntry) == 2


def test_concurrent_posts_get_distinct_consecutive_numbers(books):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(lambda i: post(books, capital(f"{i + 1}.00"), when=date(2028, 3, 1))[1], range(12)))
    assert sorted(numbers) == [f"记-2028-{n:06d}" for n in range(1, 13)]

"""Whatever sequence of posts, refused posts and reversals happens, the books stay balanced."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.errors import InvalidInput
from erp.finance.models import JournalEntry, JournalLine
from erp.finance.queries import trial_balance
from erp.finance.services import ensure_chart, post_entry, reverse_entry
from tests.conftest import _empty

CODES = ["1001", "1002", "1122", "1405", "2202", "222101", "222102", "3001", "5001", "5401", "5602", "2221", "9999"]
cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))
raw_line = st.fixed_dictionaries({"account": st.sampled_from(CODES), "debit": cents, "credit": cents})


@st.composite
def balanced_entry(draw):
    """Debits on some accounts, the same total split over credits: valid unless it hits a bad account."""
    debits = draw(st.lists(st.tuples(st.sampled_from(CODES), cents.filter(bool)), min_size=1, max_size=3))
    total = sum(a for _, a in debits)
    cut = draw(st.integers(min_value=0, max_value=int(total * 100))) / Decimal(100)
    credits = [(code, amount) for code, amount in zip(draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=2)),
                                                      (cut, total - cut), strict=True) if amount]
    return [{"account": c, "debit": a} for c, a in debits] + [{"account": c, "credit": a} for c, a in credits]


operation = st.one_of(
    st.tuples(st.just("post"), balanced_entry(), st.integers(0, 60)),
    st.tuples(st.just("post"), st.lists(raw_line, max_size=4), st.integers(0, 60)),  # mostly refused
    st.tuples(st.just("reverse"), st.integers(0, 20), st.integers(0, 60)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=12))
def test_any_sequence_of_operations_keeps_every_entry_and_the_trial_balance_balanced(database, operations):
    _empty(database)
    with database.transaction() as session:
        ensure_chart(session)
    posted: list[int] = []
    for kind, payload, days in operations:
        when = date(2026, 1, 1) + timedelta(days=days)
        try:
            with database.transaction() as session:
                if kind == "post":
                    posted.append(post_entry(session, date=when, lines=payload, description="随机", user="h").id)
                elif posted:
                    posted.append(reverse_entry(session, posted[payload % len(posted)], user="h", date=when).id)
        except InvalidInput:
            pass
    with database.transaction(readonly=True) as session:
        tb = trial_balance(session)
        per_entry = session.execute(select(JournalLine.entry_id, func.sum(JournalLine.debit),
                                           func.sum(JournalLine.credit)).group_by(JournalLine.entry_id)).all()
        entries = session.scalar(select(func.count()).select_from(JournalEntry))
    assert tb["total_debit"] == tb["total_credit"] and tb["balance_debit"] == tb["balance_credit"]
    assert all(Decimal(d).quantize(Decimal("0.01")) == Decimal(c).quantize(Decimal("0.01")) for _, d, c in per_entry)
    assert entries == len(posted) == len(per_entry)

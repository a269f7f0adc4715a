"""Changing the books: seed the chart, post an entry, reverse one (take a session, never commit).

Amounts are Decimal with at most two places; a float is refused rather than rounded, so no binary
fraction ever reaches the ledger.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core import clock
from core.errors import InvalidInput, NotFound
from erp.finance.chart import CHART
from erp.finance.models import PARTNER_TYPES, Account, JournalEntry, JournalLine, JournalSequence

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)
COMPANY_ZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The company's calendar day now (Beijing time)."""
    return clock.now().astimezone(COMPANY_ZONE).date()


def ensure_chart(session) -> int:
    """Create or update the standard accounts (idempotent); returns how many rows were added or changed."""
    existing = {a.code: a for a in session.scalars(select(Account))}
    changed: set[str] = set()
    for code, name_zh, name_en, type_, side, parent_code in CHART:
        account = existing.get(code)
        if account is None:
            account = existing[code] = Account(code=code)
            session.add(account)
        wanted = dict(name_zh=name_zh, name_en=name_en, type=type_, normal_side=side,
                      parent=existing[parent_code] if parent_code else None)
        if account.id is None or any(getattr(account, k) is not v and getattr(account, k) != v
                                     for k, v in wanted.items()):
            changed.add(code)
            for key, value in wanted.items():
                setattr(account, key, value)
    parents = {p for *_, p in CHART if p}
    for account in existing.values():
        postable = account.code not in parents
        if account.postable is not postable:
            account.postable = postable
            changed.add(account.code)
    session.flush()
    return len(changed)


@dataclass(frozen=True)
class Source:
    """The business document behind an entry, e.g. Source("sales_invoice", 42)."""

    type: str
    id: str | int


def post_entry(session, *, date: date, lines: Iterable[Mapping], description: str, user: str,
               source: Source | tuple | None = None) -> JournalEntry:
    """Post one balanced entry. Each line: account (code), debit or credit, and optionally description,
    partner_type + partner_code, due_date. Anything wrong is refused as a whole with per-field errors."""
    return _post(session, date, list(lines), description, user, source, reverses=None)


def _post(session, date, lines, description, user, source, reverses: JournalEntry | None) -> JournalEntry:
    errors: dict[str, list[str]] = {}
    if not isinstance(date, _Date) or isinstance(date, datetime):
        errors.setdefault("date", []).append("a calendar date is required")
    if not (description or "").strip():
        errors.setdefault("description", []).append("a description is required")
    if not user:
        errors.setdefault("user", []).append("the user posting is required")
    accounts = _accounts(session, [line.get("account") for line in lines])
    checked = [_check_line(i, line, accounts, errors) for i, line in enumerate(lines)]
    if not lines:
        errors.setdefault("lines", []).append("an entry needs at least two lines")
    elif not errors:
        debit, credit = sum(d for _, d, _ in checked), sum(c for _, _, c in checked)
        if len(lines) < 2:
            errors.setdefault("lines", []).append("an entry needs at least two lines")
        if debit != credit:
            errors.setdefault("lines", []).append(f"debits {debit} and credits {credit} differ by {debit - credit}")
    if errors:
        raise InvalidInput("the journal entry was not posted", errors)
    source_type, source_id = _source(source)
    entry = JournalEntry(number=_next_number(session, date.year), entry_date=date, description=description.strip(),
                         source_type=source_type, source_id=source_id, created_by=user, created_at=clock.now(),
                         reverses=reverses)
    for no, (line, debit, credit) in enumerate(checked, start=1):
        entry.lines.append(JournalLine(
            line_no=no, account=accounts[line["account"]], debit=debit, credit=credit,
            description=line.get("description"), partner_type=line.get("partner_type"),
            partner_code=line.get("partner_code"), due_date=line.get("due_date")))
    session.add(entry)
    session.flush()
    return entry


_Date = date


def reverse_entry(session, entry: JournalEntry | int | str, *, user: str, date: date | None = None,
                  description: str | None = None) -> JournalEntry:
    """Post the mirror of an entry (debits and credits swapped), linked to it; dated today by default."""
    original = find_entry(session, entry) if not isinstance(entry, JournalEntry) else entry
    if original.reverses_id is not None:
        raise InvalidInput(f"{original.number} is itself a reversal; post a new entry instead",
                           {"entry": ["a reversal cannot be reversed"]})
    if original.reversed_by is not None:
        raise InvalidInput(f"{original.number} was already reversed by {original.reversed_by.number}",
                           {"entry": ["already reversed"]})
    when = date or today()
    if when < original.entry_date:
        raise InvalidInput("a reversal cannot be dated before the entry it reverses",
                           {"date": [f"on or after {original.entry_date}"]})
    mirror = [dict(account=line.account.code, debit=line.credit, credit=line.debit, description=line.description,
                   partner_type=line.partner_type, partner_code=line.partner_code, due_date=line.due_date)
              for line in original.lines]
    return _post(session, when, mirror, description or f"冲销 {original.number} {original.description}", user,
                 (original.source_type, original.source_id) if original.source_type else None, reverses=original)


def find_entry(session, key: int | str) -> JournalEntry:
    column = JournalEntry.number if isinstance(key, str) and not key.isdigit() else JournalEntry.id
    entry = session.scalars(select(JournalEntry).where(column == (int(key) if column is JournalEntry.id else key))
                            ).first()
    if entry is None:
        raise NotFound(f"no journal entry {key}")
    return entry


def _accounts(session, codes) -> dict[str, Account]:
    wanted = {c for c in codes if isinstance(c, str)}
    return {a.code: a for a in session.scalars(select(Account).where(Account.code.in_(wanted)))} if wanted else {}


def _check_line(i: int, line: Mapping, accounts: dict[str, Account], errors) -> tuple[Mapping, Decimal, Decimal]:
    def refuse(field: str, message: str) -> None:
        errors.setdefault(f"lines[{i}].{field}", []).append(message)

    account = accounts.get(line.get("account"))
    if account is None:
        refuse("account", f"unknown account {line.get('account')!r}")
    elif not account.postable or not account.active:
        refuse("account", f"account {account.code} {account.name_zh} takes no postings (use a sub-account)")
    debit, credit = _amount(line.get("debit"), "debit", refuse), _amount(line.get("credit"), "credit", refuse)
    if debit is not None and credit is not None:
        if debit and credit:
            refuse("", "a line has either a debit or a credit, not both")
        elif not debit and not credit:
            refuse("", "a line needs a debit or a credit amount")
    partner_type, partner_code = line.get("partner_type"), line.get("partner_code")
    if partner_type not in (None, *PARTNER_TYPES):
        refuse("partner_type", "customer or supplier")
    if bool(partner_type) != bool(partner_code):
        refuse("partner_code", "partner_type and partner_code go together")
    due = line.get("due_date")
    if due is not None and (not isinstance(due, _Date) or isinstance(due, datetime)):
        refuse("due_date", "a calendar date is required")
    unknown = set(line) - {"account", "debit", "credit", "description", "partner_type", "partner_code", "due_date"}
    if unknown:
        refuse("", f"unknown fields: {', '.join(sorted(unknown))}")
    return line, debit or ZERO, credit or ZERO


def _amount(value, field: str, refuse) -> Decimal | None:
    if value is None or value == "":
        return ZERO
    if isinstance(value, float) or isinstance(value, bool):
        refuse(field, "give amounts as Decimal or text, never float")
        return None
    try:
        amount = Decimal(str(value).replace(",", "")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        refuse(field, f"{value!r} is not an amount")
        return None
    if not amount.is_finite():
        refuse(field, f"{value!r} is not an amount")
    elif amount < 0:
        refuse(field, "amounts are never negative (post on the other side, or reverse the entry)")
    elif amount != amount.quantize(CENT):
        refuse(field, "amounts have at most two decimal places (分)")
    elif amount > MAX_AMOUNT:
        refuse(field, "amount too large")
    else:
        return amount.quantize(CENT)
    return None


def _source(source) -> tuple[str | None, str | None]:
    if source is None:
        return None, None
    kind, key = (source.type, source.id) if isinstance(source, Source) else source
    return kind, str(key)


def _next_number(session, year: int) -> str:
    """The year's next number; the sequence row is created race-free and locked until commit (PostgreSQL;
    SQLite already runs one writer at a time)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(JournalSequence).values(year=year, last_number=0).on_conflict_do_nothing())
    sequence = session.scalars(select(JournalSequence).where(JournalSequence.year == year).with_for_update()).one()
    sequence.last_number += 1
    return f"记-{year}-{sequence.last_number:06d}"

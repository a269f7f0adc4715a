"""The journal as plain-text accounting (hledger/ledger journal format), for an independent cross-check.

Account names are `<type>:<code> <中文名称>` (e.g. `assets:1122 应收账款`); amounts carry the CNY commodity.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp.finance.models import JournalEntry, JournalLine

TOP_LEVEL = {"asset": "assets", "liability": "liabilities", "equity": "equity", "cost": "costs",
             "revenue": "revenues", "expense": "expenses"}


def account_name(account) -> str:
    return f"{TOP_LEVEL[account.type]}:{account.code} {account.name_zh}"


def journal_text(session, date_from: date | None = None, date_to: date | None = None) -> str:
    query = (select(JournalEntry).options(selectinload(JournalEntry.lines).selectinload(JournalLine.account))
             .order_by(JournalEntry.entry_date, JournalEntry.id))
    if date_from is not None:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(JournalEntry.entry_date <= date_to)
    return "\n".join(_transaction(entry) for entry in session.scalars(query))


def _transaction(entry: JournalEntry) -> str:
    out = [f"{entry.entry_date.isoformat()} * ({entry.number}) {_text(entry.description)}"]
    if entry.source_type:
        out.append(f"    ; source: {entry.source_type}/{entry.source_id}")
    for line in entry.lines:
        amount = line.debit if line.debit else -line.credit
        posting = f"    {account_name(line.account)}  {amount:.2f} CNY"
        notes = [x for x in (line.description, line.partner_code and f"{line.partner_type} {line.partner_code}",
                             line.due_date and f"due {line.due_date.isoformat()}") if x]
        out.append(posting + (f"  ; {_text(' / '.join(notes))}" if notes else ""))
    return "\n".join(out) + "\n"


def _text(value: str) -> str:
    """One line, and no ';' (it would start a comment) in a description."""
    return " ".join(value.replace(";", "；").split())

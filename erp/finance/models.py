"""Tables of the books: the chart of accounts (会计科目表), journal entries (会计凭证) and their lines.

Entries are append-only: the application never updates or deletes one; a mistake is corrected by a
reversal (红字冲销), a new entry that points at the one it cancels.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime

ACCOUNT_TYPES = ("asset", "liability", "equity", "cost", "revenue", "expense")
SIDES = ("debit", "credit")
PARTNER_TYPES = ("customer", "supplier")
Money = Numeric(18, 2)


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("type IN ('asset', 'liability', 'equity', 'cost', 'revenue', 'expense')", name="type"),
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the standard's code (4 digits) or a sub-account's (the parent's code + 2 digits)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    #: asset, liability, equity, cost (成本类), revenue or expense (损益类 split by direction)
    type: Mapped[str] = mapped_column(String(20))
    #: the side on which the balance normally stands (累计折旧 is an asset account with a credit balance)
    normal_side: Mapped[str] = mapped_column(String(6))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    #: only leaves take postings; a parent's balance is the sum of its children
    postable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    parent: Mapped[Account | None] = relationship(remote_side=[id])


class JournalEntry(Base):
    __tablename__ = "journal_entry"
    __table_args__ = (
        Index("ix_journal_entry_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 记-2026-000123: unique, numbered without gaps per year of the entry date
    number: Mapped[str] = mapped_column(String(30), unique=True)
    entry_date: Mapped[date] = mapped_column(Date, index=True)
    description: Mapped[str] = mapped_column(String(500))
    #: the business document that caused the entry, e.g. ("sales_invoice", "42")
    source_type: Mapped[str | None] = mapped_column(String(60))
    source_id: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: set on a reversal: the entry it cancels (unique, so an entry is reversed at most once)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"), unique=True)

    lines: Mapped[list[JournalLine]] = relationship(back_populates="entry", order_by="JournalLine.line_no")
    reverses: Mapped[JournalEntry | None] = relationship(remote_side=[id], back_populates="reversed_by")
    #: the reversal of this entry, if any (read from the reversal's side: the original row is never updated)
    reversed_by: Mapped[JournalEntry | None] = relationship(back_populates="reverses", uselist=False)


class JournalLine(Base):
    __tablename__ = "journal_line"
    __table_args__ = (
        # the second guard behind services.post_entry: one side only, never negative
        CheckConstraint("debit >= 0 AND credit >= 0", name="non_negative"),
        CheckConstraint("(debit = 0 OR credit = 0) AND (debit <> 0 OR credit <> 0)", name="one_side"),
        CheckConstraint("partner_type IS NULL OR partner_type IN ('customer', 'supplier')", name="partner_type"),
        Index("ix_journal_line_partner", "partner_type", "partner_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    debit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    description: Mapped[str | None] = mapped_column(String(500))
    #: customer or supplier, for the 应收/应付 sub-ledgers
    partner_type: Mapped[str | None] = mapped_column(String(20))
    partner_code: Mapped[str | None] = mapped_column(String(60))
    #: when a receivable or payable falls due (an open item for the aging reports)
    due_date: Mapped[date | None] = mapped_column(Date)

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship()


class JournalSequence(Base):
    """The last entry number used per year; locked while numbering so two posts never share a number."""

    __tablename__ = "journal_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)

"""`erp ledger`: seed the chart, list accounts, post and reverse entries, trial balance, journal export."""
from __future__ import annotations

import json
from datetime import date

import click

from core import db
from core.errors import InvalidInput

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _emit(as_json: bool, value, text: str) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str) if as_json else text)


def _day(value) -> date | None:
    return value.date() if value is not None else None


@click.group("ledger")
def ledger_cli():
    """The books (总账): chart of accounts, journal entries, trial balance, export."""


@ledger_cli.command("seed")
def seed():
    """Create or update the standard chart of accounts (小企业会计准则)."""
    from erp.finance.services import ensure_chart

    with db.transaction() as session:
        changed = ensure_chart(session)
    click.echo(f"chart of accounts: {changed} accounts added or updated")


@ledger_cli.command("accounts")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def list_accounts(as_json):
    """List the chart of accounts."""
    from erp.finance.queries import accounts

    with db.transaction(readonly=True) as session:
        rows = accounts(session)
    _emit(as_json, {"accounts": rows}, "\n".join(
        f"{'  ' if r['parent'] else ''}{r['code']:<8} {r['name_zh']}  {r['name_en']}  ({r['type']}, "
        f"{r['normal_side']}{'' if r['postable'] else ', summary'})" for r in rows)
          or "no accounts: run `erp ledger seed`")


def _line(text: str) -> dict:
    """CODE:debit:credit[:customer|supplier:PARTNER[:DUE-DATE]]"""
    parts = text.split(":")
    if len(parts) not in (3, 5, 6):
        raise InvalidInput(f"--line {text!r} is not CODE:debit:credit[:partner_type:partner_code[:due_date]]")
    line = {"account": parts[0], "debit": parts[1] or None, "credit": parts[2] or None}
    if len(parts) >= 5:
        line.update(partner_type=parts[3], partner_code=parts[4])
    if len(parts) == 6:
        try:
            line["due_date"] = date.fromisoformat(parts[5])
        except ValueError:
            raise InvalidInput(f"--line {text!r}: {parts[5]!r} is not a date (YYYY-MM-DD)") from None
    return line


@ledger_cli.command("post")
@click.option("--date", "entry_date", type=DATE, required=True)
@click.option("--description", required=True)
@click.option("--line", "lines", multiple=True, required=True,
              help="CODE:debit:credit[:customer|supplier:PARTNER[:DUE]] e.g. 1002:1000.00: (repeatable)")
@click.option("--source", help="TYPE/ID of the business document, e.g. sales_invoice/42")
@click.option("--user", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def post(entry_date, description, lines, source, user, as_json):
    """Post one balanced journal entry."""
    from erp.finance.services import post_entry

    parsed = [_line(text) for text in lines]
    origin = tuple(source.split("/", 1)) if source and "/" in source else None
    with db.transaction() as session:
        entry = post_entry(session, date=_day(entry_date), lines=parsed, description=description, user=user,
                           source=origin)
        result = {"id": entry.id, "number": entry.number, "date": entry.entry_date.isoformat()}
    _emit(as_json, result, f"posted {result['number']}")


@ledger_cli.command("reverse")
@click.argument("entry")
@click.option("--date", "entry_date", type=DATE, help="the reversal's date (default: today)")
@click.option("--user", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def reverse(entry, entry_date, user, as_json):
    """Reverse an entry (by number or id) with its mirror entry."""
    from erp.finance.services import reverse_entry

    with db.transaction() as session:
        reversal = reverse_entry(session, entry, user=user, date=_day(entry_date))
        result = {"id": reversal.id, "number": reversal.number, "reverses": reversal.reverses.number}
    _emit(as_json, result, f"posted {result['number']} reversing {result['reverses']}")


@ledger_cli.command("trial-balance")
@click.option("--as-of", type=DATE)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def trial_balance_cmd(as_of, as_json):
    """试算平衡表: debit and credit totals per account."""
    from erp.finance.queries import trial_balance

    with db.transaction(readonly=True) as session:
        tb = trial_balance(session, _day(as_of))
    rows = [f"{r['code']:<8} {r['name_zh']:<14} {r['debit']:>18,.2f} {r['credit']:>18,.2f} "
            f"{r['balance']:>18,.2f} {r['normal_side']}" for r in tb["accounts"]]
    rows.append(f"{'total':<23} {tb['total_debit']:>18,.2f} {tb['total_credit']:>18,.2f}"
                + ("" if tb["balanced"] else "  NOT BALANCED"))
    _emit(as_json, tb, "\n".join(rows))


@ledger_cli.command("export")
@click.option("--from", "date_from", type=DATE)
@click.option("--to", "date_to", type=DATE)
def export(date_from, date_to):
    """Print the journal in hledger/ledger format (e.g. `erp ledger export | hledger -f - balance`)."""
    from erp.finance.export import journal_text

    with db.transaction(readonly=True) as session:
        click.echo(journal_text(session, _day(date_from), _day(date_to)), nl=False)

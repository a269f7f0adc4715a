"""`erp calendar`: the business-day calendar (public holidays, adjusted working days) from the command line.

Each command is one transaction. A year nobody seeded or entered falls back to Mon–Fri (see core.calendar).
"""
from __future__ import annotations

import json
from datetime import datetime

import click

from core import db
from core.calendar import BEIJING, BusinessCalendar, days_in_year, seed_from_chinesecalendar, set_day

json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document")
WEEKDAYS = ["Mon 周一", "Tue 周二", "Wed 周三", "Thu 周四", "Fri 周五", "Sat 周六", "Sun 周日"]
FALLBACK = "not covered: falls back to Mon–Fri working days (no holidays entered; 未录入节假日，按周一至周五计算)"


def _emit(as_json: bool, value: dict, text: str) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2) if as_json else text)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or datetime (e.g. 2026-02-13T09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


@click.group("calendar")
def calendar():
    """Business-day calendar (工作日历): public holidays and adjusted working days (调休)."""


@calendar.command("seed")
@click.option("--year", "years", type=int, multiple=True, help="only this year (repeatable; default: all known)")
def calendar_seed(years):
    """Load holidays and adjusted working days from chinesecalendar; days an administrator set stay as they are."""
    with db.transaction() as session:
        changed = seed_from_chinesecalendar(session, years or None)
        covered = BusinessCalendar.load(session).covered_years()
    click.echo(f"calendar seeded from chinesecalendar: {changed} day(s) changed; years covered: {_spans(covered)}")


@calendar.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--holiday/--workday", "is_holiday", default=None, help="a day off (休息) or a working day (上班)")
@click.option("--name", help='shown to people, e.g. "春节 Spring Festival"')
@click.option("--user", help="the administrator")
def calendar_set(day, is_holiday, name, user):
    """Set one day by hand (source "admin"; seeding never overwrites it)."""
    if is_holiday is None:
        raise click.UsageError("say --holiday or --workday")
    with db.transaction() as session:
        row = set_day(session, day.date(), not is_holiday, name=name, user=user)
        text = _day_text(row)
    click.echo(f"set {text}")


@calendar.command("show")
@click.argument("year", type=click.IntRange(1900, 9999))
@json_option
def calendar_show(year, as_json):
    """List a year's special days and say whether the year is covered or falls back to Mon–Fri."""
    with db.transaction(readonly=True) as session:
        rows = days_in_year(session, year)
        days = [{"day": r.day.isoformat(), "is_workday": r.is_workday, "name": r.name, "source": r.source,
                 "updated_by": r.updated_by} for r in rows]
        lines = [_day_text(r) for r in rows]
    status = f"covered: {len(rows)} special day(s)" if rows else FALLBACK
    _emit(as_json, {"year": year, "covered": bool(rows), "fallback": None if rows else "mon-fri", "days": days},
          "\n".join([f"{year}: {status}", *lines]))


@calendar.command("add-workdays")
@click.argument("start")
@click.argument("n", type=click.IntRange(min=0))
@json_option
def calendar_add_workdays(start, n, as_json):
    """START moved on by N working days at the same time of day (a naive START is Beijing time)."""
    moment = _moment(start)
    with db.transaction(readonly=True) as session:
        calendar_ = BusinessCalendar.load(session)
    result = calendar_.add_workdays(moment, n)
    first, last = moment.astimezone(BEIJING).year, result.astimezone(BEIJING).year
    fallback = [y for y in range(first, last + 1) if y not in calendar_.covered_years()]
    note = f"\nnote: {', '.join(map(str, fallback))} {FALLBACK}" if fallback else ""
    _emit(as_json, {"start": moment.isoformat(), "workdays": n, "result": result.isoformat(),
                    "fallback_years": fallback},
          f"{result.isoformat()} ({WEEKDAYS[result.astimezone(BEIJING).weekday()]}){note}")


def _day_text(row) -> str:
    kind = "working day 上班" if row.is_workday else "holiday 休息"
    by = f" by {row.updated_by}" if row.updated_by else ""
    return f"{row.day.isoformat()} {WEEKDAYS[row.day.weekday()]}  {kind:<14} {row.name or ''}  [{row.source}{by}]"



def _spans(years: set[int]) -> str:
    """{2004, ..., 2026, 2030} -> "2004–2026, 2030"."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and spans[-1][1] == year - 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in spans) or "none"

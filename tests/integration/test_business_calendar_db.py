"""The business-day calendar in the database: seeding, an administrator's own days, and `erp calendar`."""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.calendar import (
    BEIJING,
    BusinessCalendar,
    CalendarDay,
    chinesecalendar_days,
    seed_from_chinesecalendar,
    set_day,
)
from core.errors import InvalidInput
from erp.calendar_cli import calendar


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), BEIJING)


def enter_spring_festival_2027(tx) -> None:
    """What an administrator types once the State Council has published 2027 (the dates here are made up)."""
    with tx() as session:
        for offset in range(5):
            set_day(session, date(2027, 2, 8) + timedelta(days=offset), False, name="春节 Spring Festival",
                    user="admin")
        set_day(session, date(2027, 2, 20), True, name="调休上班 adjusted working day", user="admin")


def run(*args: str):
    return CliRunner().invoke(calendar, list(args))


def test_seeding_is_idempotent(tx):
    with tx() as session:
        first = seed_from_chinesecalendar(session)
    with tx() as session:
        again = seed_from_chinesecalendar(session)
        count = session.scalar(select(func.count()).select_from(CalendarDay))
    assert first == count == len(chinesecalendar_days()) and again == 0
    with tx(readonly=True) as session:
        loaded = BusinessCalendar.load(session)
    assert loaded.covered_years() == set(range(2004, 2027))
    assert not loaded.is_workday(date(2026, 2, 17)) and loaded.is_workday(date(2026, 2, 14))


def test_seeding_leaves_an_administrators_days_alone(tx):
    with tx() as session:
        set_day(session, date(2026, 2, 17), True, name="值班 duty day", user="admin")
    with tx() as session:
        seed_from_chinesecalendar(session, [2026])
        row = session.get(CalendarDay, date(2026, 2, 17))
        assert (row.source, row.is_workday, row.name, row.updated_by) == ("admin", True, "值班 duty day", "admin")
        assert BusinessCalendar.load(session).is_workday(date(2026, 2, 17))


def test_seeding_repairs_and_drops_its_own_stale_rows(tx):
    with tx() as session:
        seed_from_chinesecalendar(session, [2026])
        session.get(CalendarDay, date(2026, 2, 17)).is_workday = True
        session.add(CalendarDay(day=date(2026, 3, 10), is_workday=False, name="stale", source="chinesecalendar"))
    with tx() as session:
        assert seed_from_chinesecalendar(session, [2026]) == 2
        assert session.get(CalendarDay, date(2026, 3, 10)) is None
        assert session.get(CalendarDay, date(2026, 2, 17)).is_workday is False


def test_an_administrator_extends_the_calendar_to_2027(tx, caplog):
    with tx() as session:
        seed_from_chinesecalendar(session)
    enter_spring_festival_2027(tx)
    with tx(readonly=True) as session:
        loaded = BusinessCalendar.load(session)
    assert 2027 in loaded.covered_years()
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert loaded.add_workdays(at(date(2027, 2, 5)), 1) == at(date(2027, 2, 15))
        assert loaded.add_workdays(at(date(2027, 2, 19)), 1) == at(date(2027, 2, 20))
        assert loaded.workdays_between(date(2027, 2, 1), date(2027, 2, 22)) == 5 + 0 + 6
    assert caplog.records == []


def test_cli_seed_set_and_show(database):
    seeded = run("seed", "--year", "2025", "--year", "2026")
    assert seeded.exit_code == 0, seeded.output
    assert "day(s) changed" in seeded.output and "years covered: 2025–2026" in seeded.output

    marked = run("set", "2027-02-08", "--holiday", "--name", "春节 Spring Festival", "--user", "admin")
    assert marked.exit_code == 0, marked.output
    assert "2027-02-08 Mon 周一" in marked.output and "holiday 休息" in marked.output and "admin" in marked.output
    assert run("set", "2027-02-20", "--workday", "--user", "admin").exit_code == 0

    shown = run("show", "2027")
    assert shown.exit_code == 0 and shown.output.startswith("2027: covered: 2 special day(s)")
    assert "working day 上班" in shown.output
    listed = json.loads(run("show", "2026", "--json").stdout)
    assert listed["covered"] is True and listed["fallback"] is None
    assert {"day": "2026-02-17", "is_workday": False, "name": "春节 Spring Festival",
            "source": "chinesecalendar", "updated_by": None} in listed["days"]


def test_cli_show_says_an_empty_year_falls_back(database):
    shown = run("show", "2030")
    assert shown.exit_code == 0 and "2030: not covered: falls back to Mon–Fri" in shown.output
    assert json.loads(run("show", "2030", "--json").stdout) == {"year": 2030, "covered": False,
                                                                "fallback": "mon-fri", "days": []}


def test_cli_add_workdays(database):
    run("seed", "--year", "2026")
    assert run("add-workdays", "2026-02-13T09:00", "1").output.strip() == "2026-02-14T09:00:00+08:00 (Sat 周六)"
    done = json.loads(run("add-workdays", "2026-02-14 09:00", "1", "--json").stdout)
    assert done == {"start": "2026-02-14T09:00:00+08:00", "workdays": 1, "result": "2026-02-24T09:00:00+08:00",
                    "fallback_years": []}
    later = run("add-workdays", "2030-01-04T09:00:00+08:00", "1")
    assert "2030-01-07T09:00:00+08:00 (Mon 周一)" in later.output and "2030 not covered" in later.output


def test_cli_rejects_bad_input(database):
    assert run("set", "2027-02-08").exit_code == 2
    assert "--holiday or --workday" in run("set", "2027-02-08").output
    assert run("add-workdays", "next tuesday", "1").exit_code == 2
    assert run("add-workdays", "2026-02-13", "-1").exit_code == 2
    refused = run("seed", "--year", "2027")
    assert isinstance(refused.exception, InvalidInput) and "2004–2026 only" in str(refused.exception)


def test_set_day_refuses_an_overlong_name(tx):
    with tx() as session, pytest.raises(InvalidInput):
        set_day(session, date(2027, 1, 1), False, name="x" * 201)

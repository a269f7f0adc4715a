"""The business-day calendar without a database: built from chinesecalendar's data, checked against it."""
from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest

from core.calendar import BEIJING, BusinessCalendar, chinesecalendar_days
from core.errors import InvalidInput


@pytest.fixture
def china() -> BusinessCalendar:
    return BusinessCalendar({d: is_workday for d, (is_workday, _) in chinesecalendar_days().items()})


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), BEIJING)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def add_by_walking(start: date, n: int) -> date:
    """The rule spelled out day by day, straight on chinesecalendar: the (n+1)-th working day on or after start."""
    day, seen = start, 0
    while True:
        if chinese_calendar.is_workday(day):
            seen += 1
            if seen == n + 1:
                return day
        day += timedelta(days=1)


def test_well_known_facts_agree_with_chinesecalendar_and_the_calendar(china):
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 17)) == (True, "Spring Festival")
    assert chinese_calendar.is_holiday(date(2025, 10, 1))
    assert not china.is_workday(date(2026, 2, 17)) and not china.is_workday(date(2025, 10, 1))
    names = chinesecalendar_days([2026])
    assert names[date(2026, 2, 17)] == (False, "春节 Spring Festival")
    assert names[date(2026, 2, 14)][1].startswith("调休上班 adjusted working day")


def test_every_day_of_2025_and_2026_agrees_with_chinesecalendar(china):
    for day in days(date(2025, 1, 1), date(2026, 12, 31)):
        assert china.is_workday(day) == chinese_calendar.is_workday(day), day


def test_rows_exist_only_for_days_that_differ_from_mon_to_fri():
    special = chinesecalendar_days()
    assert all(day.weekday() < 5 for day, (is_workday, _) in special.items() if not is_workday)
    assert all(day.weekday() >= 5 for day, (is_workday, _) in special.items() if is_workday)


def test_one_workday_from_the_last_working_day_before_spring_festival_2026_lands_after_the_holiday(china):
    last_before = date(2026, 2, 16)
    while not chinese_calendar.is_workday(last_before):
        last_before -= timedelta(days=1)
    first_after = add_by_walking(date(2026, 2, 17), 0)
    assert all(chinese_calendar.is_holiday(d) for d in days(last_before + timedelta(days=1),
                                                             first_after - timedelta(days=1)))
    assert china.add_workdays(at(last_before), 1) == at(first_after)
    assert first_after > date(2026, 2, 17)


def test_the_national_day_week_2025_and_its_working_weekends(china):
    working_weekends = [d for d in days(date(2025, 9, 20), date(2025, 10, 15))
                        if d.weekday() >= 5 and chinese_calendar.is_workday(d)]
    assert working_weekends, "chinesecalendar lists working weekend days around National Day 2025"
    for weekend_day in working_weekends:
        previous_working_day = weekend_day - timedelta(days=1)
        while not chinese_calendar.is_workday(previous_working_day):
            previous_working_day -= timedelta(days=1)
        assert china.is_workday(weekend_day)
        assert china.add_workdays(at(previous_working_day), 1) == at(weekend_day)
    assert china.add_workdays(at(date(2025, 9, 30)), 1) == at(add_by_walking(date(2025, 9, 30), 1))
    assert china.add_workdays(at(date(2025, 9, 30)), 1).date() > date(2025, 10, 8)
    expected = sum(chinese_calendar.is_workday(d) for d in days(date(2025, 9, 27), date(2025, 10, 12)))
    assert china.workdays_between(date(2025, 9, 27), date(2025, 10, 13)) == expected


def test_a_friday_plus_one_is_the_monday(china):
    friday, monday = date(2026, 3, 13), date(2026, 3, 16)
    assert chinese_calendar.is_workday(friday) and chinese_calendar.is_workday(monday)
    assert china.add_workdays(at(friday), 1) == at(monday)


def test_an_adjusted_working_sunday_counts(china):
    sunday = date(2025, 9, 28)
    assert sunday.weekday() == 6 and chinese_calendar.is_workday(sunday)
    assert china.add_workdays(at(date(2025, 9, 26)), 1) == at(sunday)
    assert china.add_workdays(at(date(2025, 9, 27)), 0) == at(sunday)


def test_zero_workdays_on_a_holiday_moves_to_the_next_working_day_at_the_same_time(china):
    start = at(date(2026, 2, 17), 15, 45)
    assert china.add_workdays(start, 0) == at(add_by_walking(date(2026, 2, 17), 0), 15, 45)
    assert china.add_workdays(at(date(2026, 3, 16)), 0) == at(date(2026, 3, 16))


def test_a_rest_day_start_counts_from_the_next_working_day(china):
    saturday = date(2026, 3, 14)
    assert china.add_workdays(at(saturday, 10, 0), 1) == at(date(2026, 3, 17), 10, 0)


def test_the_time_of_day_is_kept_to_the_microsecond(china):
    start = datetime(2026, 3, 13, 17, 59, 58, 123456, BEIJING)
    assert china.add_workdays(start, 3) == datetime(2026, 3, 18, 17, 59, 58, 123456, BEIJING)


def test_an_aware_utc_start_is_counted_on_its_beijing_day_and_returned_in_utc(china):
    start = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)  # Saturday 2026-02-14 01:00 in Beijing, a working day
    result = china.add_workdays(start, 1)
    assert result.tzinfo is UTC
    assert result == at(add_by_walking(date(2026, 2, 14), 1), 1, 0)


def test_a_naive_start_is_beijing_wall_time_and_stays_naive(china):
    assert china.add_workdays(datetime(2026, 2, 13, 9, 0), 1) == datetime(2026, 2, 14, 9, 0)


def test_add_workdays_matches_walking_day_by_day(china):
    for start in days(date(2025, 1, 1), date(2025, 3, 1)) + days(date(2026, 9, 15), date(2026, 10, 15)):
        for n in (0, 1, 2, 5, 11, 40):
            result = china.add_workdays(at(start), n).date()
            assert result == add_by_walking(start, n), (start, n)
            assert china.workdays_between(start, result) == n


def test_a_few_hundred_workdays_span_years_correctly(china):
    start = date(2020, 6, 1)
    assert china.add_workdays(at(start), 700).date() == add_by_walking(start, 700)


def test_workdays_between_counts_the_start_but_not_the_end(china):
    monday, friday = date(2026, 3, 9), date(2026, 3, 13)
    assert china.workdays_between(monday, friday) == 4
    assert china.workdays_between(monday, monday) == 0
    assert china.workdays_between(friday, monday) == -4


def test_negative_workdays_are_rejected(china):
    with pytest.raises(ValueError):
        china.add_workdays(at(date(2026, 3, 9)), -1)


def test_a_year_nobody_entered_falls_back_to_mon_to_fri_and_warns_once(china, caplog):
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert china.is_workday(date(2027, 2, 8))  # a Monday; whatever the State Council decides
        assert not china.is_workday(date(2027, 2, 13))
        assert china.add_workdays(at(date(2027, 2, 12)), 1) == at(date(2027, 2, 15))
        assert china.workdays_between(date(2027, 3, 1), date(2027, 3, 8)) == 5
    warnings = [r for r in caplog.records if r.name == "core.calendar"]
    assert len(warnings) == 1 and "2027" in warnings[0].getMessage()
    assert "Mon–Fri" in warnings[0].getMessage()


def test_crossing_into_an_uncovered_year_warns_for_that_year(china, caplog):
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert china.add_workdays(at(date(2026, 12, 31)), 1) == at(date(2027, 1, 1))
        china.is_workday(date(2028, 5, 1))
    assert ["2027" in r.getMessage() for r in caplog.records] == [True, False]
    assert "2028" in caplog.records[1].getMessage()


def test_covered_years_are_those_with_rows(china):
    assert china.covered_years() == set(range(2004, 2027))
    entered = BusinessCalendar({date(2027, 2, 8): False, date(2027, 2, 20): True})
    assert entered.covered_years() == {2027}
    assert not entered.is_workday(date(2027, 2, 8)) and entered.is_workday(date(2027, 2, 20))
    assert entered.add_workdays(at(date(2027, 2, 5)), 1) == at(date(2027, 2, 9))


def test_the_plain_calendar_is_mon_to_fri_without_warnings(caplog):
    plain = BusinessCalendar.plain()
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert plain.is_workday(date(2026, 2, 17))
        assert plain.add_workdays(at(date(2026, 2, 13)), 1) == at(date(2026, 2, 16))
    assert plain.covered_years() == set() and caplog.records == []


def test_chinesecalendar_days_refuses_years_it_does_not_know():
    with pytest.raises(InvalidInput, match="2027"):
        chinesecalendar_days([2027])

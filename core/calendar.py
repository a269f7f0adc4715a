"""Business days (工作日) on the Chinese calendar, for due dates and timers given in working days.

Seeded from chinesecalendar and extended by administrators. Fallback: a year with no row at all (nobody seeded or
entered it) counts Mon–Fri as working days, and a warning is logged once per year per loaded calendar.
"""
from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone

import chinese_calendar
from sqlalchemy import CheckConstraint, Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base
from core.errors import InvalidInput

log = logging.getLogger(__name__)

#: Beijing time: China has kept UTC+8 without daylight saving since 1991.
BEIJING = timezone(timedelta(hours=8))
FESTIVALS = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
             "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
             "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}
#: the years the installed chinesecalendar knows (2004–2026 for 1.11.0)
CHINESECALENDAR_YEARS = frozenset(range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1))


class CalendarDay(Base):
    """A day that departs from the plain rule (Mon–Fri work, Sat/Sun rest), or one an administrator set."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint("source IN ('chinesecalendar', 'admin')", name="source"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool]
    #: shown to people, bilingual: "春节 Spring Festival", "调休上班 adjusted working day (春节 Spring Festival)"
    name: Mapped[str | None] = mapped_column(String(200))
    #: "chinesecalendar" (a later seed may replace it) or "admin" (entered by hand; seeding never touches it)
    source: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=now)
    updated_by: Mapped[str | None] = mapped_column(String(200))


def _plain(d: date) -> bool:
    return d.weekday() < 5


def _festival(english: str) -> str:
    return f"{FESTIVALS.get(english, english)} {english}"


def chinesecalendar_days(years: Iterable[int] | None = None) -> dict[date, tuple[bool, str]]:
    """chinesecalendar's days that differ from the plain rule: {day: (is_workday, bilingual name)}."""
    known = CHINESECALENDAR_YEARS
    wanted = known if years is None else set(years)
    if unknown := sorted(wanted - known):
        raise InvalidInput(f"chinesecalendar knows {min(known)}–{max(known)} only, not {unknown}: "
                           "enter those years by hand (erp calendar set)")
    days = {d: (False, _festival(f)) for d, f in chinese_calendar.holidays.items() if d.year in wanted and _plain(d)}
    days.update({d: (True, f"调休上班 adjusted working day ({_festival(f)})")
                 for d, f in chinese_calendar.workdays.items() if d.year in wanted and not _plain(d)})
    return days


def seed_from_chinesecalendar(session, years: Iterable[int] | None = None) -> int:
    """Insert or update chinesecalendar's special days for `years` (default: all it knows) and drop seeded rows it
    no longer lists; rows an administrator entered are left alone. Returns the number of rows changed."""
    wanted = CHINESECALENDAR_YEARS if years is None else set(years)
    days = chinesecalendar_days(wanted)
    if not wanted:
        return 0
    existing = {row.day: row for row in session.scalars(select(CalendarDay).where(_years(min(wanted), max(wanted))))
                if row.day.year in wanted}
    changed = 0
    for day, (is_workday, name) in days.items():
        row = existing.get(day)
        if row is None:
            session.add(CalendarDay(day=day, is_workday=is_workday, name=name, source="chinesecalendar",
                                    updated_at=now()))
        elif row.source == "chinesecalendar" and (row.is_workday, row.name) != (is_workday, name):
            row.is_workday, row.name, row.updated_at, row.updated_by = is_workday, name, now(), None
        else:
            continue
        changed += 1
    for day, row in existing.items():
        if row.source == "chinesecalendar" and day not in days:
            session.delete(row)
            changed += 1
    session.flush()
    return changed


def set_day(session, day: date, is_workday: bool, name: str | None = None, user: str | None = None) -> CalendarDay:
    """An administrator's decision for one day (source "admin"): seeding never overwrites it."""
    if name is not None and len(name) > 200:
        raise InvalidInput("the name is longer than 200 characters", {"name": ["at most 200 characters"]})
    row = session.get(CalendarDay, day) or CalendarDay(day=day)
    session.add(row)
    row.is_workday, row.name, row.source, row.updated_at, row.updated_by = bool(is_workday), name, "admin", now(), user
    session.flush()
    return row


def days_in_year(session, year: int) -> list[CalendarDay]:
    return list(session.scalars(select(CalendarDay).where(_years(year, year)).order_by(CalendarDay.day)))


def _years(first: int, last: int):
    return CalendarDay.day.between(date(first, 1, 1), date(last, 12, 31))


def _local(moment: date) -> date:
    """A datetime's Beijing calendar day (a naive datetime is taken as Beijing wall time)."""
    if isinstance(moment, datetime):
        return (moment.astimezone(BEIJING) if moment.tzinfo else moment).date()
    return moment


def _plain_count(a: date, b: date) -> int:
    """Mon–Fri days in [a, b), a <= b."""
    weeks, rest = divmod((b - a).days, 7)
    return weeks * 5 + sum(1 for i in range(rest) if (a.weekday() + i) % 7 < 5)


class BusinessCalendar:
    """Which days are working days: the special days given, the plain Mon–Fri rule for all others.

    Built once (from the database, or from a mapping in tests), then only read: each query costs O(log rows).
    """

    __slots__ = ("_workday", "_days", "_prefix", "_covered", "_warn", "_warned")

    def __init__(self, special_days: Mapping[date, bool], *, warn_uncovered: bool = True):
        self._workday = {_local(d): bool(w) for d, w in special_days.items()}
        self._days = sorted(self._workday)
        #: _prefix[i]: working days gained (+1) or lost (-1) against the plain rule over _days[:i]
        self._prefix = [0]
        for d in self._days:
            self._prefix.append(self._prefix[-1] + self._workday[d] - _plain(d))
        self._covered = frozenset(d.year for d in self._days)
        self._warn = warn_uncovered
        self._warned: set[int] = set()

    @classmethod
    def load(cls, session) -> BusinessCalendar:
        return cls(dict(session.execute(select(CalendarDay.day, CalendarDay.is_workday)).tuples().all()))

    @classmethod
    def plain(cls) -> BusinessCalendar:
        """Mon–Fri only, for code without a database; no warnings, since that is what was asked for."""
        return cls({}, warn_uncovered=False)

    def covered_years(self) -> set[int]:
        """Years with at least one row: someone seeded or entered them."""
        return set(self._covered)

    def is_workday(self, d: date) -> bool:
        d = _local(d)
        self._check_years(d, d)
        return self._workday.get(d, _plain(d))

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in [a, b): a counts, b does not; negative when b < a (like numpy.busday_count)."""
        a, b = _local(a), _local(b)
        if b < a:
            return -self.workdays_between(b, a)
        if b > a:
            self._check_years(a, b - timedelta(days=1))
        return self._count(a, b)

    def add_workdays(self, start: datetime, n: int) -> datetime:
        """`start` moved on by `n` working days, at the same time of day.

        The result's day is the (n+1)-th working day on or after the start's day: from a working day, n=0 is the
        start itself and n=1 the next working day; from a rest day the count begins at the next working day (n=0
        lands there, n=1 on the working day after it). Days are Beijing days: an aware start is read in UTC+8 and
        the result is returned in the start's timezone; a naive start is Beijing wall time, the result naive.
        Always workdays_between(start's day, result's day) == n.
        """
        if n < 0:
            raise ValueError(f"n must be 0 or more, not {n}")
        local = start.astimezone(BEIJING) if start.tzinfo else start
        day, target = local.date(), n + 1
        span = 2 * target + 14
        while self._count(day, day + timedelta(days=span)) < target:
            span *= 2
        # the smallest offset k with `target` working days in [day, day + k]
        offset = bisect_left(range(span), target, key=lambda k: self._count(day, day + timedelta(days=k + 1)))
        result_day = day + timedelta(days=offset)
        self._check_years(day, result_day)
        result = datetime.combine(result_day, local.timetz())
        return result.astimezone(start.tzinfo) if start.tzinfo else result

    def _count(self, a: date, b: date) -> int:
        return _plain_count(a, b) + self._prefix[bisect_left(self._days, b)] - self._prefix[bisect_left(self._days, a)]

    def _check_years(self, first: date, last: date) -> None:
        years = range(first.year, last.year + 1) if self._warn else ()
        if missing := [y for y in years if y not in self._covered and y not in self._warned]:
            self._warned.update(missing)
            log.warning("business calendar: no holidays entered for %s; counting Mon–Fri as working days there "
                        "(enter them with `erp calendar set`)", ", ".join(map(str, missing)))

"""Earned value (挣值) of a project as of a day: planned value, earned value, actual cost and the indices and
forecasts derived from them. Money is rounded to the cent, the indices to four places."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from erp.catalog.money import to_cents
from erp.projects.common import find_project
from erp.projects.models import Expense, Timesheet, WorkPackage

ZERO = Decimal("0.00")
INDEX = Decimal("0.0001")
HUNDRED = Decimal(100)


def planned_fraction(start: date, end: date, as_of: date) -> Decimal:
    """How much of the work should be done by the end of `as_of`: linear over the days start..end inclusive,
    0 before the start, 1 from the last day on."""
    if as_of < start:
        return Decimal(0)
    if as_of >= end:
        return Decimal(1)
    return Decimal((as_of - start).days + 1) / Decimal((end - start).days + 1)


def figures(session, project, as_of: date) -> dict:
    """{"as_of", "bac", "pv", "ev", "ac", "cv", "sv", "cpi", "spi", "eac", "etc", "vac"}. cpi (ev/ac) and spi
    (ev/pv) are None when their divisor is 0; eac = bac/cpi (computed as bac×ac/ev to avoid rounding twice) and
    with it etc and vac are None when cpi is None or 0."""
    project = find_project(session, project)
    packages = session.scalars(select(WorkPackage).where(WorkPackage.project_id == project.id)).all()
    bac = sum((p.budget for p in packages), ZERO)
    pv = sum((p.budget * planned_fraction(p.planned_start, p.planned_end, as_of) for p in packages), ZERO)
    ev = sum((p.budget * p.percent_complete / HUNDRED for p in packages), ZERO)
    ac = actual_cost(session, project, as_of)
    cpi = _index(ev, ac)
    spi = _index(ev, pv)
    eac = None if not cpi else bac * ac / ev
    return {"as_of": as_of, "bac": to_cents(bac), "pv": to_cents(pv), "ev": to_cents(ev), "ac": to_cents(ac),
            "cv": to_cents(ev - ac), "sv": to_cents(ev - pv), "cpi": cpi, "spi": spi,
            "eac": None if eac is None else to_cents(eac),
            "etc": None if eac is None else to_cents(eac - ac),
            "vac": None if eac is None else to_cents(bac - eac)}


def _index(numerator: Decimal, divisor: Decimal) -> Decimal | None:
    return None if divisor == 0 else (numerator / divisor).quantize(INDEX, rounding=ROUND_HALF_UP)


def actual_cost(session, project, as_of: date) -> Decimal:
    """Timesheet cost and expenses up to and including `as_of`."""
    labour = session.scalar(select(func.coalesce(func.sum(Timesheet.cost), 0))
                            .where(Timesheet.project_id == project.id, Timesheet.work_date <= as_of))
    spent = session.scalar(select(func.coalesce(func.sum(Expense.amount), 0))
                           .where(Expense.project_id == project.id, Expense.spent_on <= as_of))
    return to_cents(Decimal(str(labour)) + Decimal(str(spent)))


def series(session, project, points: list[date]) -> list[dict]:
    """figures() for each date in order, for the S-curves of PV, EV and AC."""
    project = find_project(session, project)
    return [figures(session, project, point) for point in sorted(points)]


def budget_burn(session, project, as_of: date) -> Decimal | None:
    """The percent of the budget at completion spent by `as_of` (AC / BAC × 100, two places); None without a
    budget."""
    result = figures(session, project, as_of)
    if result["bac"] == 0:
        return None
    return (result["ac"] / result["bac"] * HUNDRED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

"""Earned value against examples worked out by hand: PV, EV, AC and what follows from them, over time."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as M

from erp.projects import evm, services
from tests.projects_data import project, three_packages

# Case 1 (tests.projects_data.three_packages), BAC = 10 000 + 40 000 + 30 000 = 80 000.00
#   1.1  2026-03-02 … 03-11 (10 days)  budget 10 000  done 100 %  → EV 10 000
#   2.1  2026-03-07 … 03-26 (20 days)  budget 40 000  done  30 %  → EV 12 000
#   3.1  2026-04-01 … 04-30 (30 days)  budget 30 000  done  10 %  → EV  3 000
#   EV = 25 000.00 on every date (it is the progress recorded now).
#   Timesheets: li 200/h, wang 150/h
#     03-03 li 8 h on 1.1 = 1 600.00; 03-05 wang 7.5 h on 1.1 = 1 125.00; 03-10 li 8 h on 2.1 = 1 600.00;
#     04-15 li 4 h on 3.1 = 800.00
#   Expenses: 03-09 software 5 000.00 (2.1); 05-10 travel 1 234.56 (execution)
#
# as of 2026-03-01 (before the start): PV = 0, AC = 0 → CV = SV = 25 000.00;
#   CPI = EV/AC and SPI = EV/PV divide by 0 → None, and so EAC, ETC, VAC → None.
# as of 2026-03-10 (mid-way):
#   PV = 10 000 × 9/10 (03-02..03-10 is 9 of 10 days) + 40 000 × 4/20 (03-07..03-10) + 0 = 9 000 + 8 000
#      = 17 000.00
#   AC = 1 600 + 1 125 + 1 600 + 5 000 = 9 325.00
#   CV = 25 000 − 9 325 = 15 675.00;  SV = 25 000 − 17 000 = 8 000.00
#   CPI = 25 000 / 9 325 = 2.680965… → 2.6810;  SPI = 25 000 / 17 000 = 1.470588… → 1.4706
#   EAC = BAC / CPI = 80 000 × 9 325 / 25 000 = 29 840.00;  ETC = 29 840 − 9 325 = 20 515.00;
#   VAC = 80 000 − 29 840 = 50 160.00
# as of 2026-07-01 (after the end):
#   PV = 80 000.00;  AC = 9 325 + 800 + 1 234.56 = 11 359.56
#   CV = 25 000 − 11 359.56 = 13 640.44;  SV = 25 000 − 80 000 = −55 000.00
#   CPI = 25 000 / 11 359.56 = 2.200789… → 2.2008;  SPI = 25 000 / 80 000 = 0.3125
#   EAC = 80 000 × 11 359.56 / 25 000 = 36 350.592 → 36 350.59;  ETC = 36 350.592 − 11 359.56 = 24 991.032
#   → 24 991.03;  VAC = 80 000 − 36 350.592 = 43 649.408 → 43 649.41


def _figures(session, as_of):
    result = evm.figures(session, "ERP-2026", as_of)
    return {k: result[k] for k in ("bac", "pv", "ev", "ac", "cv", "sv", "cpi", "spi", "eac", "etc", "vac")}


def test_before_the_start_nothing_is_planned_or_spent_and_the_indices_are_undefined(tx):
    with tx() as session:
        three_packages(session)
        assert _figures(session, date(2026, 3, 1)) == {
            "bac": M("80000.00"), "pv": M("0.00"), "ev": M("25000.00"), "ac": M("0.00"), "cv": M("25000.00"),
            "sv": M("25000.00"), "cpi": None, "spi": None, "eac": None, "etc": None, "vac": None}


def test_mid_way_the_figures_match_the_hand_computed_ones(tx):
    with tx() as session:
        three_packages(session)
        assert _figures(session, date(2026, 3, 10)) == {
            "bac": M("80000.00"), "pv": M("17000.00"), "ev": M("25000.00"), "ac": M("9325.00"),
            "cv": M("15675.00"), "sv": M("8000.00"), "cpi": M("2.6810"), "spi": M("1.4706"),
            "eac": M("29840.00"), "etc": M("20515.00"), "vac": M("50160.00")}


def test_after_the_end_everything_is_planned_and_every_cost_counts(tx):
    with tx() as session:
        three_packages(session)
        result = _figures(session, date(2026, 7, 1))
        assert result == {
            "bac": M("80000.00"), "pv": M("80000.00"), "ev": M("25000.00"), "ac": M("11359.56"),
            "cv": M("13640.44"), "sv": M("-55000.00"), "cpi": M("2.2008"), "spi": M("0.3125"),
            "eac": M("36350.59"), "etc": M("24991.03"), "vac": M("43649.41")}
        assert {v.as_tuple().exponent for k, v in result.items() if k not in ("cpi", "spi")} == {-2}


# Case 2: one work package 9.1, 2026-03-02 … 03-06 (5 days), budget 5 000.00, nothing done yet,
#   wang 2 h on 03-02 = 300.00.
# as of 2026-03-04: PV = 5 000 × 3/5 = 3 000.00; EV = 0; AC = 300.00; CV = −300.00; SV = −3 000.00
#   CPI = 0 / 300 = 0.0000; SPI = 0 / 3 000 = 0.0000; EAC = BAC / 0 → None, and ETC, VAC → None.
# as of 2026-03-01: PV = 0, AC = 0 → CPI, SPI None; CV = SV = 0.00.
# A project without work packages: BAC = 0, everything 0.00, indices None, no budget burn.

def test_nothing_earned_gives_zero_indices_and_no_forecast(tx):
    with tx() as session:
        found = project(session, code="ERP-Z")
        services.add_member(session, found, "wang", "business_analyst", hourly_rate="150.00")
        services.add_work_package(session, found, "understanding", code="9.1", name="调研 Survey", owner="wang",
                                  planned_start=date(2026, 3, 2), planned_end=date(2026, 3, 6), budget="5000.00")
        services.log_time(session, found, "9.1", "wang", date(2026, 3, 2), "2")
        result = evm.figures(session, found, date(2026, 3, 4))
        assert {k: result[k] for k in ("bac", "pv", "ev", "ac", "cv", "sv", "cpi", "spi", "eac", "etc", "vac")} == {
            "bac": M("5000.00"), "pv": M("3000.00"), "ev": M("0.00"), "ac": M("300.00"), "cv": M("-300.00"),
            "sv": M("-3000.00"), "cpi": M("0"), "spi": M("0"), "eac": None, "etc": None, "vac": None}
        early = evm.figures(session, found, date(2026, 3, 1))
        assert (early["cpi"], early["spi"], early["cv"], early["sv"]) == (None, None, M("0.00"), M("0.00"))


def test_a_project_without_work_packages_has_no_budget_to_burn(tx):
    with tx() as session:
        found = project(session, code="ERP-E")
        result = evm.figures(session, found, date(2026, 4, 1))
        assert (result["bac"], result["pv"], result["ev"], result["ac"]) == (M("0.00"),) * 4
        assert (result["cpi"], result["spi"], result["eac"]) == (None, None, None)
        assert evm.budget_burn(session, found, date(2026, 4, 1)) is None


# Weekly S-curve points (Mondays):
#   03-02: PV = 10 000 × 1/10 = 1 000;                        AC = 0
#   03-09: PV = 10 000 × 8/10 + 40 000 × 3/20 = 14 000;       AC = 1 600 + 1 125 + 5 000 = 7 725
#   03-16: PV = 10 000 + 40 000 × 10/20 = 30 000;             AC = 9 325
#   03-23: PV = 10 000 + 40 000 × 17/20 = 44 000;             AC = 9 325

def test_the_series_gives_the_figures_for_each_weekly_point_in_order(tx):
    with tx() as session:
        three_packages(session)
        points = [date(2026, 3, 23), date(2026, 3, 2), date(2026, 3, 16), date(2026, 3, 9)]
        series = evm.series(session, "ERP-2026", points)
        assert [row["as_of"] for row in series] == sorted(points)
        assert [row["pv"] for row in series] == [M("1000.00"), M("14000.00"), M("30000.00"), M("44000.00")]
        assert [row["ac"] for row in series] == [M("0.00"), M("7725.00"), M("9325.00"), M("9325.00")]
        assert {row["ev"] for row in series} == {M("25000.00")}
        assert series[1]["spi"] == M("1.7857")  # 25 000 / 14 000 = 1.785714…


# Budget burn = AC / BAC × 100: 03-10: 9 325 / 80 000 = 11.65625 % → 11.66; after the end:
#   11 359.56 / 80 000 = 14.19945 % → 14.20; before the start 0.00.

def test_budget_burn_is_the_percent_of_the_budget_spent(tx):
    with tx() as session:
        three_packages(session)
        assert evm.budget_burn(session, "ERP-2026", date(2026, 3, 1)) == M("0.00")
        assert evm.budget_burn(session, "ERP-2026", date(2026, 3, 10)) == M("11.66")
        assert evm.budget_burn(session, "ERP-2026", date(2026, 7, 1)) == M("14.20")

"""Project KPIs: values over time, their traffic light in both directions, and the computed refresh."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as M

import pytest

from core.errors import InvalidInput
from erp.projects import kpis, queries, services
from tests.projects_data import project, three_packages

T1 = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
NOON_10TH = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 2026-03-10 12:00 in Beijing


def test_recorded_values_give_the_latest_and_the_history_oldest_first(tx):
    with tx() as session:
        found = project(session)
        assert kpis.latest(session, found, "uat_pass_rate") is None
        kpis.record(session, found, "uat_pass_rate", "92.5", at=T2)
        kpis.record(session, found, "uat_pass_rate", M("88"), at=T1, source="manual")
        kpis.record(session, found, "migration_error_rate", "1.2", at=T1, source="migration")
        assert kpis.latest(session, found, "uat_pass_rate") == M("92.5")
        assert kpis.history(session, found, "uat_pass_rate") == [(T1, M("88")), (T2, M("92.5"))]
        with pytest.raises(InvalidInput) as refused:
            kpis.record(session, found, "uat_pass_rate", 1.5, source="guess")
        assert set(refused.value.errors) == {"value", "source"}
        assert len(kpis.history(session, found, "uat_pass_rate")) == 2


@pytest.mark.parametrize(("key", "value", "colour"), [
    ("spi", "1.02", "green"), ("spi", "0.96", "green"), ("spi", "0.95", "amber"), ("spi", "0.92", "amber"),
    ("spi", "0.90", "red"), ("spi", "0.7", "red"),
    ("overdue_tasks", "0", "green"), ("overdue_tasks", "4", "green"), ("overdue_tasks", "5", "amber"),
    ("overdue_tasks", "9", "amber"), ("overdue_tasks", "10", "red"), ("overdue_tasks", "30", "red"),
    ("migration_error_rate", "0.5", "green"), ("migration_error_rate", "2", "amber"),
    ("migration_error_rate", "5.1", "red"),
])
def test_the_status_follows_the_thresholds_in_the_kpis_direction(tx, key, value, colour):
    with tx() as session:
        found = project(session)
        assert kpis.status(kpis.find_kpi(session, found, key), M(value)) == colour


def test_refresh_computes_spi_cpi_overdue_tasks_and_training_completion(tx):
    with tx() as session:
        found = three_packages(session)
        add = services.add_task
        late = add(session, found, "1.1", name="访谈销售部", planned_start="2026-03-02", planned_end="2026-03-05")
        done = add(session, found, "1.1", name="访谈采购部", planned_start="2026-03-02", planned_end="2026-03-08")
        add(session, found, "2.1", name="配置价格表", planned_start="2026-03-07", planned_end="2026-03-10")
        half = add(session, found, "2.1", name="配置审批流", planned_start="2026-03-07", planned_end="2026-03-09")
        services.set_progress(session, done, 100, actual_start=date(2026, 3, 2), actual_end=date(2026, 3, 8))
        services.set_progress(session, half, 50, actual_start=date(2026, 3, 7))
        assert late.status == "open"
        held = services.add_training_session(session, found, title="销售流程培训", duration_hours="3",
                                             starts_at=datetime(2026, 3, 5, 6, 0, tzinfo=UTC),
                                             invitees=["a", "b", "c", "d"])
        for username in ("a", "b", "c"):
            services.record_attendance(session, held, username)
        services.add_training_session(session, found, title="财务培训", duration_hours="2",
                                      starts_at=datetime(2026, 3, 20, 6, 0, tzinfo=UTC), invitees=["e", "f"])
        values = kpis.refresh(session, found, NOON_10TH)
        # spi and cpi as of 03-10 (test_projects_evm): 25 000 / 17 000 and 25 000 / 9 325;
        # overdue: 访谈销售部 (ended 03-05) and 配置审批流 (ended 03-09, 50 %); 配置价格表 ends today;
        # training: 3 of the 4 invited to the session held (the one on 03-20 has not started)
        assert {k: values[k] for k in ("spi", "cpi", "overdue_tasks", "training_completion")} == {
            "spi": M("1.4706"), "cpi": M("2.6810"), "overdue_tasks": M(2), "training_completion": M("75.00")}
        assert values.get("open_high_risks", M(0)) == M(0)  # absent only when erp.risks is not installed
        assert kpis.history(session, found, "cpi") == [(NOON_10TH, M("2.6810"))]
        assert kpis.latest(session, found, "uat_pass_rate") is None
        board = {row["key"]: row for row in queries.kpi_board(session, found)}
        assert (board["spi"]["status"], board["training_completion"]["status"]) == ("green", "red")  # 75 = critical


def test_refresh_skips_what_cannot_be_computed_yet(tx):
    with tx() as session:
        found = project(session)
        values = kpis.refresh(session, found, NOON_10TH)
        assert "spi" not in values and "cpi" not in values and "training_completion" not in values
        assert values["overdue_tasks"] == 0

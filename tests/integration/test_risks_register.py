"""The risk register (风险登记册): PMBOK fields, score = probability × impact kept and checked by the database,
every change in the history, the 5×5 matrix and the register's filters."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core import clock
from core.errors import InvalidInput
from erp.audit.models import AuditEntry
from erp.risks import queries, services
from erp.risks.models import Risk, RiskChange
from tests.risks_data import people, project, risk

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


@pytest.fixture
def erp_project(tx):
    with clock.frozen(T0), tx() as session:
        people(session)
        return project(session).code


def test_a_new_risk_is_numbered_scored_and_its_creation_is_in_the_history(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        first = risk(session, erp_project, triggers="关键用户连续两周缺席", contingency_plan="启用旧系统并行",
                     contingency_process="risk_contingency")
        second = risk(session, erp_project, title="数据迁移错误率高", category="data", probability=5, impact=5)
        assert (first.code, first.score, first.status, first.strategy, first.proximity) == (
            "R-001", 12, "open", "mitigate", "near")
        assert (second.code, second.score) == ("R-002", 25)
        assert first.identified_on == date(2026, 11, 2)
        [created] = queries.history(session, first)
        assert created["by"] == "zhangwei" and created["changes"]["score"] == [None, 12]
        assert created["changes"]["contingency_process"] == [None, "risk_contingency"]
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "risk")).all()
        assert actions == ["risks.risk_created", "risks.risk_created"]


def test_an_update_records_only_the_fields_that_changed_and_rescores(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        risk_id = risk(session, erp_project).id
    with clock.frozen(T0 + timedelta(hours=1)), tx() as session:
        changed = services.update_risk(session, risk_id, by="wangfang", impact=5, title="上线延期",
                                       strategy="avoid")
        assert changed.score == 15
        services.update_risk(session, risk_id, by="wangfang", impact=5)  # nothing changes: no history row
    with tx(readonly=True) as session:
        history = queries.history(session, risk_id)
    assert len(history) == 2
    assert history[1]["changes"] == {"impact": [4, 5], "strategy": ["mitigate", "avoid"], "score": [12, 15]}
    assert history[1]["by"] == "wangfang" and history[1]["at"] == T0 + timedelta(hours=1)


def test_invalid_values_are_refused_naming_each_field_and_write_nothing(tx, erp_project):
    with pytest.raises(InvalidInput) as refused:
        with clock.frozen(T0), tx() as session:
            risk(session, erp_project, probability=6, category="weather", status="forgotten", colour="red")
    assert set(refused.value.errors) == {"probability", "category", "status", "colour"}
    with tx(readonly=True) as session:
        assert session.scalars(select(Risk)).all() == []
        assert session.scalars(select(RiskChange)).all() == []


def test_the_database_refuses_a_score_that_is_not_probability_times_impact(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        risk_id = risk(session, erp_project).id
    with pytest.raises(IntegrityError):
        with tx() as session:
            session.execute(text("UPDATE risk SET score = 20 WHERE id = :id"), {"id": risk_id})


def test_a_review_sets_the_dates_and_keeps_the_notes(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        risk_id = risk(session, erp_project).id
    with clock.frozen(T0 + timedelta(days=2)), tx() as session:
        reviewed = services.review_risk(session, risk_id, by="wangfang", notes="关键用户已确认排期", probability=2)
        assert (reviewed.last_reviewed_on, reviewed.next_review_on) == (date(2026, 11, 4), date(2026, 11, 11))
        assert reviewed.score == 8
        last = queries.history(session, risk_id)[-1]["changes"]
    assert last["review_notes"] == [None, "关键用户已确认排期"] and last["probability"] == [3, 2]
    assert last["next_review_on"] == [None, "2026-11-11"]


def test_the_matrix_counts_live_risks_per_probability_and_impact(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        risk(session, erp_project, probability=5, impact=4)
        risk(session, erp_project, probability=5, impact=4, title="供应商交付延迟", category="vendor")
        risk(session, erp_project, probability=1, impact=1, title="会议室不足", category="organisational")
        closed = risk(session, erp_project, probability=1, impact=1, title="旧需求", category="technical")
        services.close_risk(session, closed, by="zhangwei", reason="需求已取消")
        matrix = queries.matrix(session, erp_project)
    assert len(matrix) == 5 and all(len(row) == 5 for row in matrix)
    assert matrix[4][3] == {"count": 2, "codes": ["R-001", "R-002"]}
    assert matrix[0][0] == {"count": 1, "codes": ["R-003"]}
    assert sum(cell["count"] for row in matrix for cell in row) == 3


def test_the_register_filters_by_status_owner_category_score_and_text(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        risk(session, erp_project, probability=4, impact=4, description="关键用户参与不足")
        risk(session, erp_project, owner="lina", title="数据迁移错误率高", category="data", probability=5, impact=5)
        third = risk(session, erp_project, owner="lina", title="预算超支", category="budget", probability=2, impact=3)
        services.update_risk(session, third, by="zhangwei", status="monitoring")
        codes = lambda **f: [r["code"] for r in queries.register(session, erp_project, **f)]  # noqa: E731
        assert codes() == ["R-002", "R-001", "R-003"]  # highest score first
        assert codes(owner="lina") == ["R-002", "R-003"]
        assert codes(status="monitoring") == ["R-003"]
        assert codes(status=["open", "monitoring"], category="data") == ["R-002"]
        assert codes(min_score=16) == ["R-002", "R-001"]
        assert codes(text="关键用户") == ["R-001"] and codes(text="r-003") == ["R-003"]
        assert queries.open_high_risks(session, erp_project) == 2
        assert queries.open_risks_by_owner(session, erp_project) == {"lina": ["R-002", "R-003"],
                                                                    "wangfang": ["R-001"]}
        assert queries.open_risks_by_owner(session)["wangfang"] == ["ERP-2026/R-001"]


def test_closing_a_risk_ends_its_contingency_and_a_second_close_is_refused(tx, erp_project):
    with clock.frozen(T0), tx() as session:
        found = risk(session, erp_project, probability=4, impact=4)
        services.activate_contingency(session, found, by="zhangwei", reason="关键用户离职")
        assert (found.status, found.contingency_active) == ("occurred", True)
        services.close_risk(session, found, by="zhangwei")
        assert (found.status, found.contingency_active) == ("closed", False)
        with pytest.raises(InvalidInput):
            services.close_risk(session, found, by="zhangwei")
        assert queries.open_high_risks(session, erp_project) == 0

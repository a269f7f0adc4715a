"""Leads, opportunities and satisfaction on SQLite and PostgreSQL: lead conversion, stage changes with their
history and the lost-reason rule, pipeline and forecast sums in Decimal, satisfaction averages and NPS."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.errors import Conflict, InvalidInput
from erp.crm import queries, services
from erp.crm.models import StageChange

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def customer_id(tx, name_zh="北京华联商贸有限公司", **fields) -> int:
    with tx() as session:
        return services.create_customer(session, name_zh=name_zh, **fields).id


def test_a_lead_converts_to_a_customer_with_its_contact_and_an_opportunity(tx, database):
    with tx() as session:
        lead = services.create_lead(session, contact_name="王芳", company_name="北京新世界百货有限公司",
                                    contact_phone="+86 139-1000-2000", source="展会", owner="liuyang")
        services.set_lead_status(session, lead.id, "qualified")
        customer, deal = services.convert_lead(session, lead.id, by="liuyang", opportunity_title="门店货架采购",
                                               expected_revenue="86000", expected_close=date(2026, 5, 20))
    with tx(readonly=True) as session:
        detail = queries.customer_detail(session, customer.id)
        with pytest.raises(Conflict):
            services.convert_lead(session, lead.id)
    assert detail["name_zh"] == "北京新世界百货有限公司" and detail["sales_rep"] == "liuyang"
    assert detail["phone"] == "13910002000"
    assert [(c["contact_name"], c["mobile"], c["is_primary"]) for c in detail["contacts"]] == [
        ("王芳", "13910002000", True)]
    [opportunity] = detail["opportunities"]
    assert opportunity["id"] == deal.id and opportunity["stage"] == "prospecting"
    assert opportunity["expected_revenue"] == Decimal("86000.00") and opportunity["owner"] == "liuyang"


def test_a_lead_of_a_known_company_warns_of_the_duplicate_or_joins_it(tx, database):
    existing = customer_id(tx, "北京新世界百货股份有限公司")
    with tx() as session:
        lead = services.create_lead(session, contact_name="李强", company_name="北京新世界百货有限公司")
    with pytest.raises(services.LikelyDuplicate), tx() as session:
        services.convert_lead(session, lead.id)
    with tx() as session:
        customer, _ = services.convert_lead(session, lead.id, customer_id=existing)
    assert customer.id == existing


def test_stage_changes_are_recorded_with_who_and_when(tx, database):
    cid = customer_id(tx)
    with clock.frozen(T0) as now, tx() as session:
        deal = services.create_opportunity(session, cid, title="年度框架协议", expected_revenue="300000",
                                           owner="liuyang", by="liuyang")
        for stage, who in [("qualification", "liuyang"), ("proposal", "liuyang"), ("qualification", "zhaolei"),
                           ("negotiation", "zhaolei"), ("won", "zhaolei")]:
            now.advance(days=1)
            services.move_opportunity(session, deal.id, stage, by=who)
    with tx(readonly=True) as session:
        history = session.scalars(select(StageChange).where(StageChange.opportunity_id == deal.id)
                                  .order_by(StageChange.id)).all()
        with pytest.raises(Conflict, match="won already"):
            services.move_opportunity(session, deal.id, "lost", lost_reason="…")
    assert [(h.from_stage, h.to_stage, h.changed_by, h.changed_at.day) for h in history] == [
        (None, "prospecting", "liuyang", 2), ("prospecting", "qualification", "liuyang", 3),
        ("qualification", "proposal", "liuyang", 4), ("proposal", "qualification", "zhaolei", 5),
        ("qualification", "negotiation", "zhaolei", 6), ("negotiation", "won", "zhaolei", 7)]


def test_a_lost_opportunity_needs_its_reason(tx, database):
    cid = customer_id(tx)
    with tx() as session:
        deal = services.create_opportunity(session, cid, title="冷链设备", expected_revenue="50000")
    with pytest.raises(InvalidInput) as error, tx() as session:
        services.move_opportunity(session, deal.id, "lost", lost_reason="  ")
    assert error.value.errors == {"lost_reason": ["required"]}
    with tx() as session:
        lost = services.move_opportunity(session, deal.id, "lost", lost_reason="价格高于竞争对手", by="liuyang")
    assert (lost.stage, lost.probability, lost.lost_reason) == ("lost", 0, "价格高于竞争对手")
    assert lost.closed_at is not None


def test_the_pipeline_sums_count_revenue_and_weighted_revenue_per_stage_and_owner(tx, database):
    cid = customer_id(tx)
    deals = [("liuyang", "prospecting", "100000.10", date(2026, 4, 10)),
             ("liuyang", "proposal", "33333.33", date(2026, 4, 30)),
             ("zhaolei", "proposal", "20000.01", date(2026, 5, 1)),
             ("zhaolei", "negotiation", "0.05", None),
             ("zhaolei", "won", "70000", date(2026, 3, 1))]
    with tx() as session:
        for owner, stage, amount, close in deals:
            deal = services.create_opportunity(session, cid, title=f"{owner} {stage}", expected_revenue=amount,
                                               owner=owner, expected_close=close)
            if stage != "prospecting":
                services.move_opportunity(session, deal.id, stage)
    with tx(readonly=True) as session:
        everything = queries.pipeline(session)
        by_owner = queries.pipeline_by_owner(session)
        with_closed = queries.pipeline(session, "zhaolei", include_closed=True)
        months = queries.forecast(session)
    stages = {s["stage"]: s for s in everything["stages"]}
    assert stages["proposal"] == {"stage": "proposal", "count": 2, "amount": Decimal("53333.34"),
                                  "weighted": Decimal("26666.67")}
    assert stages["prospecting"]["weighted"] == Decimal("10000.01") and stages["qualification"]["count"] == 0
    assert (everything["count"], everything["amount"], everything["weighted"]) == (
        4, Decimal("153333.49"), Decimal("36666.72"))  # 10000.010 + 16666.665 + 10000.005 + 0.0375
    assert by_owner["liuyang"]["amount"] == Decimal("133333.43") and by_owner["zhaolei"]["count"] == 2
    assert {s["stage"]: s["amount"] for s in with_closed["stages"]}["won"] == Decimal("70000.00")
    assert [(m["month"], m["count"], m["amount"]) for m in months] == [
        ("2026-04", 2, Decimal("133333.43")), ("2026-05", 1, Decimal("20000.01")), (None, 1, Decimal("0.05"))]
    assert all(isinstance(m["weighted"], Decimal) for m in months)


def test_satisfaction_averages_and_nps_per_customer_and_period(tx, database):
    hualian, xinshijie = customer_id(tx), customer_id(tx, "北京新世界百货有限公司")
    answers = [(hualian, 5, 10, date(2026, 1, 15)), (hualian, 4, 9, date(2026, 2, 3)),
               (hualian, 2, 3, date(2026, 2, 20)), (hualian, None, 7, date(2026, 4, 2)),
               (xinshijie, 3, None, date(2026, 4, 9))]
    with tx() as session:
        for cid, score, nps, day in answers:
            services.record_satisfaction(session, cid, score=score, nps=nps, channel="phone", surveyed_on=day)
        with pytest.raises(InvalidInput) as error:
            services.record_satisfaction(session, hualian, score=6, nps=11, channel="fax")
        assert set(error.value.errors) == {"score", "nps", "channel"}
        with pytest.raises(InvalidInput):
            services.record_satisfaction(session, hualian, comment="没有分数")
    with tx(readonly=True) as session:
        one = queries.satisfaction(session, customer_id=hualian)
        per_customer = queries.satisfaction_by_customer(session)
        per_month = queries.satisfaction_by_period(session, "month")
        per_quarter = queries.satisfaction_by_period(session, "quarter", customer_id=hualian)
        spring = queries.satisfaction(session, since=date(2026, 2, 1), until=date(2026, 3, 31))
    assert one == {"responses": 4, "average_score": Decimal("3.67"), "nps": Decimal("25.0"), "promoters": 2,
                   "passives": 1, "detractors": 1}
    assert [(c["name_zh"], c["responses"], c["average_score"], c["nps"]) for c in per_customer] == [
        ("北京华联商贸有限公司", 4, Decimal("3.67"), Decimal("25.0")),
        ("北京新世界百货有限公司", 1, Decimal("3.00"), None)]
    assert [(p["period"], p["responses"], p["nps"]) for p in per_month] == [
        ("2026-01", 1, Decimal("100.0")), ("2026-02", 2, Decimal("0.0")), ("2026-04", 2, Decimal("0.0"))]
    assert [(p["period"], p["average_score"]) for p in per_quarter] == [
        ("2026-Q1", Decimal("3.67")), ("2026-Q2", None)]
    assert (spring["responses"], spring["average_score"], spring["nps"]) == (2, Decimal("3.00"), Decimal("0.0"))

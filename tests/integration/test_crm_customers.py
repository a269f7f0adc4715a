"""Customers and contacts on SQLite and PostgreSQL: validation, duplicate warnings, search, a rep's
customers, and a customer's detail with its timeline."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from difflib import SequenceMatcher

import pytest
from sqlalchemy import select, text

from core import clock
from core.errors import InvalidInput
from erp.audit.models import AuditEntry
from erp.crm import queries, services
from erp.crm.models import Customer
from erp.crm.services import LikelyDuplicate
from erp.crm.validation import SIMILAR_NAME_RATIO, company_name_key, credit_code_check_char

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


HUALIAN_TAX = credit_code("91110105MA01ABCD1")


def customer(session, name_zh="北京华联商贸有限公司", **fields):
    return services.create_customer(session, name_zh=name_zh, by="admin", **fields)


@pytest.fixture
def hualian(tx):
    with clock.frozen(T0), tx() as session:
        return customer(session, tax_number=HUALIAN_TAX, phone="010-8888 6666", tier="A",
                        credit_limit="500000", sales_rep="liuyang", tags=["重点客户", "零售"], city="北京").id


def test_a_customer_gets_the_next_code_and_keeps_money_as_decimal(tx, hualian):
    with tx() as session:
        second = customer(session, "上海光明乳业股份有限公司", credit_limit=Decimal("1234.5"))
    with tx(readonly=True) as session:
        first = queries.customer_detail(session, hualian)
        row = queries.customer_detail(session, second.id)
    assert (first["code"], row["code"]) == ("C-000001", "C-000002")
    assert first["credit_limit"] == Decimal("500000.00") and isinstance(first["credit_limit"], Decimal)
    assert row["credit_limit"] == Decimal("1234.50") and row["tier"] == "C" and row["payment_terms_days"] == 30
    assert first["tax_number"] == HUALIAN_TAX and first["phone"] == "01088886666"


def test_invalid_customer_fields_are_all_reported_at_once(tx):
    with pytest.raises(InvalidInput) as error, tx() as session:
        customer(session, "  ", tax_number="91110105MA01ABCD1X", phone="12345", tier="D", credit_limit="-1",
                 payment_terms_days=400)
    assert set(error.value.errors) == {"name_zh", "tax_number", "phone", "tier", "credit_limit",
                                       "payment_terms_days"}
    assert "check character" in error.value.errors["tax_number"][0]


@pytest.mark.parametrize("name_zh, fields, reasons", [
    ("北京华联商贸股份有限公司", {}, ["similar_name"]),
    ("华联商贸（北京）有限公司", {}, ["similar_name"]),
    ("北京新世界百货有限公司", {"phone": "+86 10 8888 6666"}, ["same_phone"]),
    ("新世界百货有限公司", {"tax_number": HUALIAN_TAX.lower()}, ["same_tax_number"]),
])
def test_a_likely_duplicate_is_refused_with_the_reasons(tx, hualian, name_zh, fields, reasons):
    with pytest.raises(LikelyDuplicate) as warning, tx() as session:
        customer(session, name_zh, **fields)
    [candidate] = warning.value.candidates
    assert candidate["id"] == hualian and candidate["code"] == "C-000001" and candidate["reasons"] == reasons
    with tx(readonly=True) as session:
        assert len(queries.search_customers(session)) == 1


def test_a_confirmed_duplicate_is_created_and_noted_in_the_audit_log(tx, hualian):
    with tx() as session:
        twin = customer(session, "北京华联商贸股份有限公司", phone="01088886666", confirm_duplicate=True)
    with tx(readonly=True) as session:
        assert queries.likely_duplicates(session, "北京华联商贸有限公司", phone="01088886666") [0]["reasons"] == [
            "similar_name", "same_phone"]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target_id == str(twin.id))).one()
    assert entry.action == "crm.customer_created" and "C-000001" in entry.detail


def test_likely_duplicates_among_many_customers_are_those_comparing_every_one_finds(tx):
    """Names scored in C first, then by difflib: the same customers, reasons and similarity as comparing the
    new name with every customer on file."""
    words = "华联 新世界 京东 光明 联想 华信 商贸 百货 科技 乳业 发展 世纪 贸易 电子 网络".split()
    names = [f"北京{a}{b}{c}有限公司" for a in words for b in words for c in words[:4] if len({a, b, c}) == 3]
    names[100:100] = ["华联新世纪京乐有限公司", "北京华联新世界京乐行", "华联新世界乐集团"]  # like the new name
    with tx() as session:
        for n, name in enumerate(names):
            customer(session, name, confirm_duplicate=True, phone=f"0108888{n:04d}")
    wanted = "北京华联新世界京乐有限公司"  # one character from 华联新世界京东
    with tx(readonly=True) as session:
        found = queries.likely_duplicates(session, wanted, phone="01088880007")
        on_file = session.execute(select(Customer.id, Customer.name_key, Customer.phone)).all()
    key = company_name_key(wanted)
    expected = {}
    for id_, name_key, phone in on_file:
        ratio = 1.0 if name_key == key else SequenceMatcher(None, key, name_key).ratio()
        reasons = (["similar_name"] if ratio >= SIMILAR_NAME_RATIO else []) + \
            (["same_phone"] if phone == "01088880007" else [])
        if reasons:
            expected[id_] = (reasons, round(ratio, 3))
    assert len(names) > 500 and len(expected) == 5
    assert {c["id"]: (c["reasons"], c["similarity"]) for c in found} == expected
    phone_only = next(c for c in found if c["reasons"] == ["same_phone"])
    assert 0 < phone_only["similarity"] < SIMILAR_NAME_RATIO


def test_an_unrelated_company_is_no_duplicate(tx, hualian):
    with tx() as session:
        other = customer(session, "北京京东世纪贸易有限公司", phone="13800138000",
                         tax_number=credit_code("91110302MA01XYQ45"))
    assert other.code == "C-000002"


def test_a_credit_limit_change_is_audited(tx, hualian):
    with tx() as session:
        services.update_customer(session, hualian, by="cfo", credit_limit="800000.00", tier="A")
    with tx(readonly=True) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "crm.customer_changed")).one()
    assert entry.actor == "cfo" and entry.before == {"credit_limit": "500000.00"}
    assert entry.after == {"credit_limit": "800000.00"}


def test_contacts_have_normalised_mobiles_and_one_primary(tx, hualian):
    with tx() as session:
        services.add_contact(session, hualian, contact_name="王芳", title="采购经理", mobile="+86 138-1234-5678",
                             email="wangfang@hualian.cn", wechat_id="wf_hualian", is_primary=True)
        services.add_contact(session, hualian, contact_name="李强", title="财务", mobile="139 1000 2000",
                             is_primary=True)
        with pytest.raises(InvalidInput) as error:
            services.add_contact(session, hualian, contact_name="赵六", mobile="010-88886666", email="not-mail")
    assert set(error.value.errors) == {"mobile", "email"}
    with tx(readonly=True) as session:
        contacts = queries.customer_detail(session, hualian)["contacts"]
    assert [(c["contact_name"], c["mobile"], c["is_primary"]) for c in contacts] == [
        ("李强", "13910002000", True), ("王芳", "13812345678", False)]


def test_customers_are_found_by_name_code_tax_number_phone_tag_tier_and_rep(tx, hualian):
    with tx() as session:
        customer(session, "上海光明乳业股份有限公司", phone="021-5461 1234", tier="B", sales_rep="chenjing",
                 tags=["乳制品"])
        customer(session, "深圳市腾讯计算机系统有限公司", tax_number="9144030071526726XG", sales_rep="liuyang",
                 active=False)

    def codes(*args, **kwargs):
        with tx(readonly=True) as session:
            return [c["code"] for c in queries.search_customers(session, *args, **kwargs)]

    assert codes("华联") == ["C-000001"]
    assert codes("c-000002") == ["C-000002"]
    assert codes(HUALIAN_TAX) == ["C-000001"]
    assert codes("5461") == ["C-000002"]
    assert codes(tag="重点客户") == ["C-000001"] and codes(tag="乳制品") == ["C-000002"] and codes(tag="重点") == []
    assert codes(tier="B") == ["C-000002"]
    assert codes(rep="liuyang") == ["C-000001"] and codes(rep="liuyang", active=None) == ["C-000001", "C-000003"]
    assert codes("9144030071526726xg", active=False) == ["C-000003"]
    with tx(readonly=True) as session:
        assert [c["code"] for c in queries.customers_of(session, "chenjing")] == ["C-000002"]


def test_tags_written_escaped_by_an_earlier_version_are_found_as_well(tx, hualian):
    with tx() as session:  # json.dumps wrote the tags list as \u-escaped text; core.jsontext writes UTF-8
        session.execute(text("UPDATE crm_customer SET tags = :tags WHERE id = :id"),
                        {"tags": json.dumps(["重点客户", "零售"]), "id": hualian})
        other = customer(session, "上海光明乳业股份有限公司", tags=["重点客户"]).id
        raw = session.execute(text("SELECT id, CAST(tags AS TEXT) FROM crm_customer")).all()
    assert {id: "\\u" in str(tags) for id, tags in raw} == {hualian: True, other: False}
    with tx(readonly=True) as session:
        assert [c["code"] for c in queries.search_customers(session, tag="重点客户")] == ["C-000001", "C-000002"]
        assert [c["code"] for c in queries.search_customers(session, tag="零售")] == ["C-000001"]
        assert session.get(Customer, hualian).tags == ["重点客户", "零售"]


def test_the_detail_shows_activities_stage_changes_and_surveys_in_time_order(tx, hualian):
    with clock.frozen(T0) as now, tx() as session:
        deal = services.create_opportunity(session, hualian, title="2026年春季备货", expected_revenue="120000",
                                           owner="liuyang", by="liuyang")
        now.advance(days=1)
        services.log_activity(session, kind="visit", subject="拜访采购部", owner="liuyang", customer_id=hualian,
                              done_at=clock.now())
        now.advance(days=1)
        services.move_opportunity(session, deal.id, "proposal", by="liuyang")
        now.advance(days=1)
        services.record_satisfaction(session, hualian, score=4, nps=9, channel="phone", surveyed_on=date(2026, 3, 5))
        services.log_activity(session, kind="call", subject="回访报价", owner="liuyang", opportunity_id=deal.id,
                              due_at=clock.now() + timedelta(days=2))
    with tx(readonly=True) as session:
        detail = queries.customer_detail(session, hualian)
    assert [(e["type"], e.get("subject") or e.get("to_stage") or e.get("score")) for e in detail["timeline"]] == [
        ("stage_change", "prospecting"), ("activity", "拜访采购部"), ("stage_change", "proposal"),
        ("satisfaction", 4), ("activity", "回访报价")]
    assert detail["opportunities"][0]["stage"] == "proposal" and detail["satisfaction"]["nps"] == Decimal("100.0")


def test_a_process_reads_the_customers_credit_terms_through_the_service_task_operator(tx, hualian):
    from engine.operators import OperatorContext, OperatorRegistry
    from erp.crm.tasks import register

    registry = OperatorRegistry()
    register(registry)
    with tx(readonly=True) as session:
        ctx = OperatorContext(session, None, "SO-2026-0001", "credit_check", {}, "liuyang")
        terms = registry.get("crm.customer_terms")(ctx, customer_id=str(hualian))
    assert terms == {"customer_id": hualian, "code": "C-000001", "credit_limit": "500000.00",
                     "payment_terms_days": 30, "tier": "A", "sales_rep": "liuyang", "active": True}

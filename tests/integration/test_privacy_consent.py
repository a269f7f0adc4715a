"""The consent ledger (同意记录): a consent per person and purpose with its scope and channel, withdrawn once,
kept for ever (append-only); "has consent for purpose X" answers for now and for any past moment."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.errors import Conflict, InvalidInput
from erp.identity.services import ensure_user
from erp.privacy import erasure, queries, services
from erp.privacy.models import Consent
from tests.privacy_data import contact

GIVEN = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_a_consent_answers_for_its_purpose_and_scope_until_it_is_withdrawn(tx):
    with clock.frozen(GIVEN), tx() as session:
        person = contact(session).id
        consent = services.record_consent(session, "contact", person, purpose="marketing", scope="mobile, email",
                                          channel="paper", by="zhaoqiang")
        assert consent.subject_name == "李小红" and consent.scope == ["mobile", "email"]
    with clock.frozen(GIVEN + timedelta(days=30)), tx() as session:
        assert queries.has_consent(session, "contact", person, "marketing")
        assert queries.has_consent(session, "contact", person, "marketing", covering="mobile")
        assert not queries.has_consent(session, "contact", person, "marketing", covering="wechat_id")
        assert not queries.has_consent(session, "contact", person, "profiling")
        services.withdraw_consent(session, consent.id, by="zhaoqiang", channel="phone")
    with clock.frozen(GIVEN + timedelta(days=31)), tx() as session:
        assert not queries.has_consent(session, "contact", person, "marketing")
        assert queries.has_consent(session, "contact", person, "marketing", at=GIVEN + timedelta(days=10))
        assert not queries.has_consent(session, "contact", person, "marketing", at=GIVEN - timedelta(days=1))
        with pytest.raises(Conflict):
            services.withdraw_consent(session, consent.id, by="zhaoqiang")


def test_the_ledger_keeps_every_consent_and_withdrawal(tx):
    with clock.frozen(GIVEN), tx() as session:
        person = contact(session).id
        first = services.record_consent(session, "contact", person, purpose="marketing", scope=["email"],
                                        channel="web", by="zhaoqiang")
        services.withdraw_consent(session, first.id, by="zhaoqiang")
    with clock.frozen(GIVEN + timedelta(days=5)), tx() as session:
        services.record_consent(session, "contact", person, purpose="marketing", scope=["email"], channel="email",
                                by="zhaoqiang")
        assert queries.has_consent(session, "contact", person, "marketing")
        rows = queries.consents(session, "contact", person)
        assert [(c.channel, c.withdrawn_at is not None) for c in rows] == [("email", False), ("web", True)]


def test_erasing_the_person_blanks_their_name_but_keeps_the_proof(tx):
    with tx() as session:
        person = contact(session).id
        services.record_consent(session, "contact", person, purpose="marketing", scope=["mobile"], channel="paper",
                                by="zhaoqiang")
        erasure.erase_person(session, "contact", person, by="zhoumin")
    with tx(readonly=True) as session:
        [kept] = session.scalars(select(Consent)).all()
        assert (kept.subject_name, kept.purpose, kept.subject_id) == ("已删除", "marketing", person)


def test_a_consent_needs_a_purpose_a_scope_and_a_known_channel(tx):
    with tx() as session:
        user = ensure_user(session, "wangfang", "王芳")
        with pytest.raises(InvalidInput) as refused:
            services.record_consent(session, "user", user.id, purpose=" ", scope="", channel="fax", by="wangfang")
    assert set(refused.value.errors) == {"purpose", "scope", "channel"}

"""Erasing and correcting without the process: a user keeps their username (the history names it) but loses
their name and address; a lead never converted is removed, a converted one anonymised; a correction refuses
fields that cannot be corrected."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from erp.audit.models import AuditEntry
from erp.crm.models import Lead
from erp.crm.services import create_lead
from erp.identity.models import User
from erp.identity.services import ensure_user
from erp.privacy import erasure
from erp.privacy.subjects import holdings
from tests.privacy_data import contact


def test_an_erased_user_keeps_the_username_and_loses_the_person(tx):
    with tx() as session:
        user = ensure_user(session, "sunlei", "孙磊", email="sunlei@example.cn", groups=["technical_experts"])
        assert holdings(session, "user", user.id)["groups"] == ["technical_experts"]
        result = erasure.erase_person(session, "user", user.id, by="zhoumin")
    assert result["anonymised"] == {"app_user": 1}
    with tx(readonly=True) as session:
        erased = session.scalars(select(User).where(User.username == "sunlei")).one()
        assert erased.display_name.startswith("已删除-") and erased.email is None and not erased.active
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase")).all()
        assert (entry.actor, entry.target_type) == ("zhoumin", "user") and "孙磊" not in str(entry.after)


def test_a_lead_never_converted_is_removed(tx):
    with tx() as session:
        lead = create_lead(session, contact_name="赵六", company_name="个体户", contact_phone="13700001111")
        assert erasure.erase_person(session, "lead", lead.id, by="zhoumin")["removed"] == {"crm_lead": 1}
    with tx(readonly=True) as session:
        assert session.scalars(select(Lead)).all() == []


def test_a_correction_of_a_field_that_cannot_be_corrected_is_refused(tx):
    with tx() as session:
        person = contact(session).id
        with pytest.raises(InvalidInput):
            erasure.correct_person(session, "contact", person, {"customer_id": 9}, by="zhoumin")
        assert erasure.correct_person(session, "contact", person, {"email": "li@new.example.cn"},
                                      by="zhoumin") == {"corrected": ["email"]}

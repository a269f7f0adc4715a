"""The demo's personal-information part: 周敏 is the person in charge with the privacy_officers group, consents
are on the ledger (one withdrawn), an access request waits in the officers' inbox and an incident waits for its
assessment; loading the demo again adds nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.models import HumanTask, Incident
from erp.demo import load_demo
from erp.identity.queries import groups_of
from erp.identity.services import user_by_name
from erp.privacy.models import Consent, PrivacyRequest, SecurityIncident
from erp.privacy.services import OFFICERS


def _counts(session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Consent, PrivacyRequest,
                                                                               SecurityIncident))


def test_the_demo_has_an_officer_a_ledger_a_request_and_an_incident(tx, product_engine, monkeypatch):
    monkeypatch.setattr("erp.demo.APPROVALS", [])
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        assert OFFICERS in groups_of(session, "zhoumin")
        assert "privacy_officer" in user_by_name(session, "zhoumin").roles
        assert _counts(session) == (3, 1, 1)
        assert session.scalar(select(func.count()).select_from(Consent).where(Consent.withdrawn_at.is_not(None))) == 1
        waiting = session.scalars(select(HumanTask.form_key).where(HumanTask.status == "open",
                                                                   HumanTask.form_key.like("privacy/%"))).all()
        assert sorted(waiting) == ["privacy/incident_assess", "privacy/pi_decision"]
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        assert _counts(session) == (3, 1, 1) and "privacy_officer" in user_by_name(session, "zhoumin").roles

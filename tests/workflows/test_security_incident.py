"""The personal-information security incident process (bpmn/privacy/security_incident.bpmn): assess within 24
hours, contain, notify the regulator and the people affected when the incident_notification table requires it,
review; a late assessment or notification is escalated to the officers and the administrators by its timer."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from engine import queries
from engine.models import HumanTask
from erp.privacy.models import SecurityIncident
from erp.privacy.process import report_and_start
from notifications.models import OutboxMessage
from tests.privacy_data import ADMIN, LEAD, OFFICER, deploy_privacy, people
from tests.risks_data import product_engine

REPORTED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SEVERE = {"severity": "high", "sensitive_involved": True, "people_affected": 30,
          "information_involved": "客户手机号、银行账号"}
MINOR = {"severity": "low", "sensitive_involved": False, "people_affected": 3}


@pytest.fixture
def engine(tx):
    engine = product_engine()
    with clock.frozen(REPORTED), tx() as session:
        deploy_privacy(engine, session)
        people(session)
    return engine


@pytest.fixture
def incident(engine, tx):
    with clock.frozen(REPORTED), tx() as session:
        return report_and_start(session, engine, user="wangfang", title="客户名单误发",
                                description="销售助理将含客户联系方式的表格误发给外部邮箱").id


def _task(tx) -> HumanTask:
    with tx(readonly=True) as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
        return task


def _complete(engine, tx, at, data) -> str:
    task = _task(tx)
    with clock.frozen(at), tx() as session:
        engine.complete(session, task.id, data, OFFICER)
    return task.element_id


def _incident(tx, incident_id) -> SecurityIncident:
    with tx(readonly=True) as session:
        found = session.get(SecurityIncident, incident_id)
        session.expunge(found)
        return found


def test_an_incident_with_sensitive_information_is_notified_then_reviewed_and_closed(engine, tx, incident):
    task = _task(tx)
    assert (task.element_id, task.due_at) == ("assess", REPORTED + timedelta(hours=24))
    at = REPORTED + timedelta(hours=3)
    assert _complete(engine, tx, at, SEVERE) == "assess"
    assert _complete(engine, tx, at + timedelta(hours=1), {"containment": "已撤回邮件并要求对方删除"}) == "contain"
    found = _incident(tx, incident)
    assert (found.status, found.notify_regulator, found.notify_people) == ("contained", True, True)
    assert _task(tx).element_id == "notify" and _task(tx).due_at == REPORTED + timedelta(hours=72)
    _complete(engine, tx, at + timedelta(hours=20), {"regulator_reference": "京网信-2026-017", "people_notified": True})
    assert _task(tx).element_id == "review"
    _complete(engine, tx, at + timedelta(days=2), {"root_cause": "表格未脱敏", "lessons": "对外发送前脱敏并复核"})
    found = _incident(tx, incident)
    assert (found.status, found.regulator_reference, found.escalations) == ("closed", "京网信-2026-017", [])
    assert found.regulator_notified_at and found.people_notified_at and found.closed_at
    with tx(readonly=True) as session:
        assert queries.show(engine, session, found.instance_id)["status"] == "completed"


def test_a_minor_incident_needs_no_notification(engine, tx, incident):
    _complete(engine, tx, REPORTED + timedelta(hours=2), MINOR)
    _complete(engine, tx, REPORTED + timedelta(hours=3), {"containment": "已重置口令"})
    assert _task(tx).element_id == "review"
    found = _incident(tx, incident)
    assert (found.notify_regulator, found.notify_people, found.regulator_notified_at) == (False, False, None)


def test_a_medium_incident_is_told_to_the_people_but_not_the_regulator(engine, tx, incident):
    _complete(engine, tx, REPORTED + timedelta(hours=2), {**MINOR, "severity": "medium"})
    _complete(engine, tx, REPORTED + timedelta(hours=3), {"containment": "已撤回"})
    assert _task(tx).element_id == "notify"
    found = _incident(tx, incident)
    assert (found.notify_regulator, found.notify_people) == (False, True)


def test_a_late_notification_is_escalated_to_the_officers_and_administrators(engine, tx, incident):
    _complete(engine, tx, REPORTED + timedelta(hours=2), SEVERE)
    _complete(engine, tx, REPORTED + timedelta(hours=3), {"containment": "已撤回邮件"})
    first = _task(tx)
    late = REPORTED + timedelta(hours=72, minutes=5)
    with clock.frozen(late), tx() as session:
        assert engine.fire_due_timers(session, late - timedelta(hours=1)) == []
        assert len(engine.fire_due_timers(session, late)) == 1
    again = _task(tx)
    assert again.element_id == "notify" and again.id != first.id and again.due_at == late + timedelta(hours=4)
    found = _incident(tx, incident)
    assert [(e["step"], e["told"]) for e in found.escalations] == [("notify", sorted([ADMIN, LEAD, OFFICER]))]
    with tx(readonly=True) as session:
        told = sorted(m.recipient_user for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "privacy_incident_late")))
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_user == ADMIN)).first()
    assert told == sorted([ADMIN, LEAD, OFFICER])
    assert "SI-2026-00001" in mail.subject and "升级" in mail.subject
    _complete(engine, tx, late + timedelta(hours=1),
              {"regulator_reference": "京网信-2026-018", "people_notified": True})
    assert _task(tx).element_id == "review"


def test_a_late_assessment_is_escalated_and_chased_again(engine, tx, incident):
    for hours in (24, 29):  # chased again 4 hours after the first escalation
        at = REPORTED + timedelta(hours=hours, minutes=1)
        with clock.frozen(at), tx() as session:
            assert len(engine.fire_due_timers(session, at)) == 1
    assert [e["step"] for e in _incident(tx, incident).escalations] == ["assess", "assess"]
    assert _task(tx).element_id == "assess"

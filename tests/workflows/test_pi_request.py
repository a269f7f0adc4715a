"""The personal-information request process (bpmn/privacy/pi_request.bpmn): a person's request goes to the
officers' group due in 15 business days; the officer verifies identity and decides; access exports, correction
changes the fields (audited), deletion anonymises the transaction records and removes the rest; the requester
is told by mail (through the real SMTP server); an overdue request is escalated by the worker's pass."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.calendar import BusinessCalendar
from engine import queries
from engine.models import HumanTask
from erp.audit.models import AuditEntry
from erp.crm.models import Contact, Customer
from erp.escalation.services import run_escalations
from erp.finance.models import JournalEntry
from erp.finance.queries import trial_balance
from erp.notify import notify_task
from erp.privacy.models import PrivacyRequest
from erp.privacy.process import file_and_start
from erp.privacy.services import OFFICERS, record_consent
from erp.sales.models import Invoice, Payment, SalesOrder
from notifications.config import MailConfig
from notifications.models import OutboxMessage
from notifications.sender import send_due
from tests import mail_server
from tests.privacy_data import LEAD, OFFICER, contact, deploy_privacy, people, private_customer_with_sales
from tests.risks_data import product_engine

smtp_server = mail_server.smtp_server  # the fixture, used by name
FILED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


@pytest.fixture
def engine(tx):
    engine = product_engine()
    with clock.frozen(FILED), tx() as session:
        deploy_privacy(engine, session)
        people(session)
    return engine


def _file(engine, tx, **fields) -> PrivacyRequest:
    with clock.frozen(FILED), tx() as session:
        request = file_and_start(session, engine, user="wangfang", **fields)
        return request.id


def _open_task(tx) -> HumanTask:
    with tx(readonly=True) as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
        return task


def _decide(engine, tx, at, **data):
    task = _open_task(tx)
    with clock.frozen(at), tx() as session:
        engine.complete(session, task.id, {"identity_verified": True, "decision": "approve", **data}, OFFICER)
    return task


def _request(tx, request_id) -> PrivacyRequest:
    with tx(readonly=True) as session:
        found = session.get(PrivacyRequest, request_id)
        session.expunge(found)
        return found


def test_an_access_request_goes_to_the_officers_and_is_answered_within_its_deadline(engine, tx, database,
                                                                                     smtp_server):
    with tx() as session:
        person = contact(session)
        record_consent(session, "contact", person.id, purpose="marketing", scope=["mobile"], channel="paper",
                       by="wangfang")
        person_id = person.id
    request_id = _file(engine, tx, kind="access", subject_type="contact", subject_id=person_id)
    task = _open_task(tx)
    with tx(readonly=True) as session:
        due = BusinessCalendar.load(session).add_workdays(FILED, 15)
    assert (task.form_key, task.assignee, task.due_at) == ("privacy/pi_decision", None, due)
    with tx(readonly=True) as session:
        assert queries.tasks(session, user=OFFICER, groups=[OFFICERS])[0]["id"] == task.id
    _decide(engine, tx, FILED + timedelta(days=3))
    found = _request(tx, request_id)
    assert (found.status, found.identity_verified, found.decided_by) == ("completed", True, OFFICER)
    assert found.answered_at < found.due_at
    assert found.export["profile"]["mobile"] == "13812345678" and found.export["customer"]["code"] == "C100"
    assert [c["purpose"] for c in found.export["consents"]] == ["marketing"]
    with tx(readonly=True) as session:
        assert queries.show(engine, session, found.instance_id)["status"] == "completed"
    send_due(database, MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5),
             now=FILED + timedelta(days=3, minutes=1))
    [answer] = [m for m in smtp_server.messages if m["To"] == "lixiaohong@huadong.example.cn"]
    assert found.number in answer["Subject"] and "查阅" in answer["Subject"]


def test_an_overdue_request_is_escalated_by_the_worker(engine, tx):
    with tx() as session:
        person_id = contact(session).id
    _file(engine, tx, kind="copy", subject_type="contact", subject_id=person_id)
    task = _open_task(tx)
    with tx() as session:
        assert run_escalations(session, engine, notify_task, task.due_at - timedelta(hours=1))["escalated"] == 0
    late = task.due_at + timedelta(hours=2)
    with clock.frozen(late), tx() as session:
        assert run_escalations(session, engine, notify_task, late)["escalated"] == 1
    with tx(readonly=True) as session:
        escalated = session.get(HumanTask, task.id)
        assert escalated.escalation_level == 1 and escalated.priority > task.priority
        mails = {(m.kind, m.recipient_user) for m in session.scalars(select(OutboxMessage))}
    assert ("task_escalated", LEAD) in mails and ("task_overdue", OFFICER) in mails


def test_a_correction_changes_the_fields_and_is_audited(engine, tx):
    with tx() as session:
        person_id = contact(session).id
    request_id = _file(engine, tx, kind="correct", subject_type="contact", subject_id=person_id,
                       corrections={"mobile": "13698765432"})
    _decide(engine, tx, FILED + timedelta(days=1))
    with tx(readonly=True) as session:
        assert session.get(Contact, person_id).mobile == "13698765432"
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.correct")).all()
    assert (entry.actor, entry.before, entry.after) == (OFFICER, {"mobile": "13812345678"},
                                                          {"mobile": "13698765432"})
    assert _request(tx, request_id).outcome == {"corrected": ["mobile"]}


def test_a_request_whose_requester_is_not_verified_is_refused_and_changes_nothing(engine, tx):
    with tx() as session:
        person_id = contact(session).id
    request_id = _file(engine, tx, kind="delete", subject_type="contact", subject_id=person_id)
    _decide(engine, tx, FILED + timedelta(days=1), identity_verified=False, reason="无法核实身份")
    found = _request(tx, request_id)
    assert (found.status, found.reason) == ("rejected", "无法核实身份")
    with tx(readonly=True) as session:
        assert session.get(Contact, person_id) is not None
        [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "privacy_request_answered"))
    assert "未予办理" in mail.subject and "无法核实身份" in mail.body_text


def test_deletion_anonymises_the_transaction_records_and_removes_the_rest(engine, tx):
    with tx() as session:
        customer_id = private_customer_with_sales(session).id
        record_consent(session, "customer", customer_id, purpose="after_sales", scope=["phone"], channel="web",
                       by="wangfang")
        before = _books(session, customer_id)
    request_id = _file(engine, tx, kind="delete", subject_type="customer", subject_id=customer_id,
                       requester_email="wxm@example.cn")
    _decide(engine, tx, FILED + timedelta(days=2))
    found = _request(tx, request_id)
    assert found.status == "completed"
    assert found.outcome["removed"] == {"crm_contact": 1}
    assert found.outcome["kept"] == {"sales_order": 1, "sales_invoice": 1, "sales_payment": 1, "sales_delivery": 1}
    with tx(readonly=True) as session:
        customer = session.get(Customer, customer_id)
        assert customer.name_zh.startswith("已删除-") and (customer.phone, customer.address) == (None, None)
        assert session.scalars(select(Contact).where(Contact.customer_id == customer_id)).all() == []
        after = _books(session, customer_id)
        payment = session.scalar(select(Payment))
        assert payment.payer == customer.name_zh and "王小明" not in (payment.memo or "")
        assert trial_balance(session)["balanced"]
        texts = " ".join(e.description for e in session.scalars(select(JournalEntry)))
        assert "王小明" not in texts
    assert after == before  # numbers and amounts kept, the ledger unchanged


def _books(session, customer_id) -> dict:
    return {"orders": [(o.number, o.gross_total) for o in session.scalars(
                select(SalesOrder).where(SalesOrder.customer_id == customer_id))],
            "invoices": [(i.number, i.gross_total, i.paid) for i in session.scalars(
                select(Invoice).where(Invoice.customer_id == customer_id))],
            "payments": [(p.number, p.amount) for p in session.scalars(
                select(Payment).where(Payment.customer_id == customer_id))],
            "balances": {r["code"]: r["debit"] - r["credit"] for r in trial_balance(session)["accounts"]},
            "total": sum((p.amount for p in session.scalars(select(Payment))), Decimal(0))}

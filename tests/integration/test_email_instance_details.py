"""A mail about a whole instance (completed, failed) shows what was requested: the start form's fields as the
instance holds them at the end, personal ones masked for an initiator without personal_data.view and shown to
one with it (then written to the access log), read back from a real SMTP server on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from engine.models import HumanTask
from erp.audit.models import AccessEntry
from erp.identity.services import ensure_user
from erp.notify import subscribe
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server

smtp_server = mail_server.smtp_server  # the fixture, used by name

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
ID_NUMBER, MASKED_ID = "110101199003071234", "110***********1234"


@pytest.fixture
def claims(engine, deploy, tx):
    subscribe(engine)
    deploy("claim.bpmn")
    with tx() as session:
        ensure_user(session, "wangfang", "王芳", email="wangfang@example.cn", roles=["employee"])
        ensure_user(session, "zhangwei", "张伟", email="zhangwei@example.cn", roles=["employee", "manager"])
        ensure_user(session, "lina", "李娜", email="lina@example.cn", groups=["approvers", "clerks"],
                    roles=["employee"])
    return engine


def _settle(engine, tx, initiator: str) -> int:
    with clock.frozen(T0), tx() as session:
        instance = engine.start(session, "claim", {"amount": 1234.5, "requester": "王芳差旅", "id_number": ID_NUMBER},
                                user=initiator, business_key=f"EXP-{initiator}")
    for step in ({"decision": "approve", "comment": "同意"}, {}):
        with tx(readonly=True) as session:
            [task_id] = session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                                   HumanTask.status == "open")).all()
        with clock.frozen(T0), tx() as session:
            engine.complete(session, task_id, step, "lina")
    return instance.id


def _completion_mail(database, smtp_server, address: str) -> tuple[str, str]:
    smtp_server.messages.clear()
    config = MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url="http://erp.test")
    send_due(database, config, now=T0 + timedelta(minutes=1))
    [mail] = [m for m in smtp_server.messages if m["To"] == address and "流程已完成" in str(m["Subject"])]
    return (mail.get_body(preferencelist=("plain",)).get_content(),
            mail.get_body(preferencelist=("html",)).get_content())


def test_the_initiators_completion_mail_shows_the_request_masked_without_the_permission(
        claims, tx, database, smtp_server):
    instance_id = _settle(claims, tx, "wangfang")
    text, html = _completion_mail(database, smtp_server, "wangfang@example.cn")
    for body in (text, html):
        assert "1234.5" in body and "王芳差旅" in body
        assert MASKED_ID in body and ID_NUMBER not in body
    assert "total" not in text  # data the start form does not show stays out
    with tx(readonly=True) as session:
        assert session.scalars(select(AccessEntry).where(AccessEntry.entity == "instance",
                                                         AccessEntry.entity_id == str(instance_id))).all() == []


def test_a_manager_sees_the_personal_field_and_the_showing_is_logged(claims, tx, database, smtp_server):
    instance_id = _settle(claims, tx, "zhangwei")
    text, html = _completion_mail(database, smtp_server, "zhangwei@example.cn")
    assert ID_NUMBER in text and ID_NUMBER in html and MASKED_ID not in text
    with tx(readonly=True) as session:
        logged = [(e.actor, e.how, e.entity, e.entity_id, e.fields) for e in session.scalars(
            select(AccessEntry).where(AccessEntry.entity == "instance"))]
    assert logged == [("zhangwei", "email", "instance", str(instance_id), ["id_number"])]

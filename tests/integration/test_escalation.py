"""Reminders and escalations of human tasks under a controllable clock, through the real outbox to a real
SMTP server: who is told, what changes on the task, what the history says, and that nothing happens twice."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from engine import queries
from engine.runtime import Engine
from erp.escalation.services import run_escalations, set_policy
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.notify import notify_task, on_engine_event
from forms import FormCatalog
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server
from tests.conftest import FIXTURES

smtp_server = mail_server.smtp_server

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing; simple_task is due two days later


@pytest.fixture
def mail(smtp_server):
    return MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url="http://erp.test")


@pytest.fixture
def engine(operators):
    """The test engine, telling the notification listener about new tasks and outcomes."""
    return Engine(operators, FormCatalog(FIXTURES / "forms"), groups_of=groups_of, listeners=[on_engine_event])


@pytest.fixture
def office(deploy, tx):
    deploy("simple_task.bpmn")
    with tx() as session:
        ensure_user(session, "boss", "刘洋", email="boss@example.cn")
        ensure_user(session, "lead", "陈静", email="lead@example.cn", lead_of=["clerks"], manager="boss")
        ensure_user(session, "clerk", "王芳", email="clerk@example.cn", groups=["clerks"], manager="boss")
        ensure_user(session, "clerk2", "Li Na", email="clerk2@example.com", groups=["clerks"], locale="en",
                    manager="boss")


def _start(engine, tx):
    with clock.frozen(T0), tx() as session:
        instance = engine.start(session, "simple_task", {"amount": 10}, business_key="PR-7", user="clerk")
        [task] = queries.tasks(session, instance_id=instance.id)
    return instance.id, task["id"]


def _escalate_at(engine, tx, at):
    with clock.frozen(at), tx() as session:
        return run_escalations(session, engine, notify_task, at)


def _send(database, mail, at):
    with clock.frozen(at):
        return send_due(database, mail, now=at)


def _mails(smtp_server):
    return sorted((m["To"], m["Subject"]) for m in smtp_server.messages)


def _history(engine, tx, instance_id):
    with tx(readonly=True) as session:
        return queries.show(engine, session, instance_id)["history"]


def test_a_new_group_task_is_mailed_to_every_member_in_their_language(office, engine, tx, database, mail,
                                                                       smtp_server):
    _start(engine, tx)
    _send(database, mail, T0)
    recipients = [to for to, _ in _mails(smtp_server)]
    assert recipients == ["clerk2@example.com", "clerk@example.cn", "lead@example.cn"]
    subjects = {to: subject for to, subject in _mails(smtp_server)}
    assert "Approve" in subjects["clerk2@example.com"] and "待办" in subjects["clerk@example.cn"]


def test_a_reminder_goes_out_before_the_due_time_once(office, engine, tx, database, mail, smtp_server):
    instance_id, task_id = _start(engine, tx)
    _send(database, mail, T0)
    smtp_server.messages.clear()
    assert _escalate_at(engine, tx, T0 + timedelta(hours=23))["reminded"] == 0  # more than a day ahead
    at = T0 + timedelta(days=1, minutes=1)
    assert _escalate_at(engine, tx, at)["reminded"] == 1
    assert _escalate_at(engine, tx, at + timedelta(minutes=5))["reminded"] == 0
    _send(database, mail, at)
    assert [to for to, _ in _mails(smtp_server)] == ["clerk2@example.com", "clerk@example.cn", "lead@example.cn"]
    assert ("reminder_sent", "approve") in [(h["kind"], h["element_id"]) for h in _history(engine, tx, instance_id)]


def test_an_overdue_unclaimed_task_is_raised_and_its_group_lead_told(office, engine, tx, database, mail,
                                                                    smtp_server):
    instance_id, task_id = _start(engine, tx)
    late = T0 + timedelta(days=2, hours=3)
    assert _escalate_at(engine, tx, late)["escalated"] == 1
    assert _escalate_at(engine, tx, late + timedelta(hours=1))["escalated"] == 0  # once, by default
    with tx(readonly=True) as session:
        [task] = queries.tasks(session, instance_id=instance_id)
    assert task["priority"] == 100  # 80 + 20, capped at 100
    escalated = [h for h in _history(engine, tx, instance_id) if h["kind"] == "escalated"]
    assert len(escalated) == 1 and escalated[0]["data"]["level"] == 1
    assert "told lead" in escalated[0]["data"]["reason"] and escalated[0]["actor"] == "scheduler"
    _send(database, mail, T0)  # the new-task mails
    smtp_server.messages.clear()
    _send(database, mail, late)
    subjects: dict[str, list[str]] = {}
    for to, subject in _mails(smtp_server):
        subjects.setdefault(to, []).append(subject)
    assert any("升级" in s for s in subjects["lead@example.cn"])  # escalated to the group lead
    assert {"clerk@example.cn", "clerk2@example.com"} <= set(subjects)  # the people on it: overdue


def test_an_overdue_claimed_task_goes_to_the_assignees_manager(office, engine, tx, database, mail, smtp_server):
    instance_id, task_id = _start(engine, tx)
    with tx() as session:
        engine.claim(session, task_id, "clerk")
    _send(database, mail, T0)
    _escalate_at(engine, tx, T0 + timedelta(days=3))
    smtp_server.messages.clear()
    _send(database, mail, T0 + timedelta(days=3))
    assert sorted(to for to, _ in _mails(smtp_server)) == ["boss@example.cn", "clerk@example.cn"]


def test_a_task_policy_reassigns_and_repeats_the_escalation(office, engine, tx, database, mail, smtp_server):
    with tx() as session:
        set_policy(session, process_key="simple_task", element_id="approve", reassign_to="lead",
                   raise_priority_by=5, repeat_after_minutes=60, max_level=2, remind_before_minutes=0, user="admin")
    instance_id, task_id = _start(engine, tx)
    late = T0 + timedelta(days=2, minutes=1)
    assert _escalate_at(engine, tx, late) == {"reminded": 0, "escalated": 1}
    assert _escalate_at(engine, tx, late + timedelta(minutes=30))["escalated"] == 0
    assert _escalate_at(engine, tx, late + timedelta(minutes=61))["escalated"] == 1
    assert _escalate_at(engine, tx, late + timedelta(hours=5))["escalated"] == 0  # max level reached
    with tx(readonly=True) as session:
        [task] = queries.tasks(session, instance_id=instance_id)
    assert task["assignee"] == "lead" and task["priority"] == 90
    levels = [h["data"]["level"] for h in _history(engine, tx, instance_id) if h["kind"] == "escalated"]
    assert levels == [1, 2]


def test_a_process_policy_can_switch_escalation_off(office, engine, tx):
    with tx() as session:
        set_policy(session, process_key="simple_task", enabled=False)
    _start(engine, tx)
    assert _escalate_at(engine, tx, T0 + timedelta(days=5)) == {"reminded": 0, "escalated": 0}


def test_a_finished_instance_tells_its_initiator(office, engine, tx, database, mail, smtp_server):
    instance_id, task_id = _start(engine, tx)
    with clock.frozen(T0 + timedelta(hours=1)), tx() as session:
        engine.complete(session, task_id, {"approved": True}, "clerk")
    _send(database, mail, T0 + timedelta(hours=1))
    done = [m for m in smtp_server.messages if "instances/" in m.get_body(("plain",)).get_content()]
    assert [m["To"] for m in done] == ["clerk@example.cn"]


def test_a_daily_digest_goes_only_to_those_who_asked_for_it(office, engine, tx, database, mail, smtp_server):
    from erp.notify import enqueue_digests
    from notifications.outbox import set_preference

    _start(engine, tx)
    with tx() as session:
        set_preference(session, "clerk2", "daily_digest", True)
    morning = T0 + timedelta(days=1)  # 09:00 Beijing the next day
    with clock.frozen(morning), tx() as session:
        assert enqueue_digests(session, morning) == 1
        assert enqueue_digests(session, morning) == 0  # one per user and day
    _send(database, mail, T0)
    smtp_server.messages.clear()
    _send(database, mail, morning)
    [digest] = smtp_server.messages
    assert digest["To"] == "clerk2@example.com" and "Approve" in digest.get_body(("plain",)).get_content()

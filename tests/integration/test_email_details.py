"""What real mails show of the task or the customer they are about, on SQLite and PostgreSQL, read back from a
real SMTP server (aiosmtpd): a task mail of the personal-information request process (bpmn/privacy) lists what
the officer's form shows of the request, with the requester masked for a reader without personal_data.view and
shown to a manager, whose mail is written to the access log; the same for a reminder, an escalation, a copy and
the daily digest. A follow-up reminder names the customer's contact to call, masked the same way."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select

from core import clock
from engine.deploy import read_paths
from engine.models import HumanTask
from engine.runtime import Engine
from erp.audit.models import AccessEntry
from erp.crm import services as crm
from erp.crm.follow_ups import send_follow_up_reminders
from erp.escalation.services import run_escalations
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.notify import enqueue_digests, notify_task, subscribe
from erp.privacy.process import file_and_start
from erp.privacy.services import OFFICERS
from erp.wiring import build_registry, script_globals, user_exists
from forms import FormCatalog
from notifications.config import MailConfig
from notifications.outbox import set_preference
from notifications.sender import send_due
from tests import mail_server
from tests.conftest import ROOT

smtp_server = mail_server.smtp_server  # the fixture, used by name

FILED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
REQUESTER, MASKED_REQUESTER = "李小红", "李*红"
MOBILE, MASKED_MOBILE = "13812345678", "138****5678"
NEW_MOBILE = "13698765432"


@pytest.fixture
def mail_config(smtp_server):
    return MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url="http://erp.test")


@pytest.fixture
def people(tx):
    """The officers' group: a clerk (no personal_data.view), a manager and an administrator reading English;
    liuyang, a manager too, leads the group (and its escalations go to him)."""
    with tx() as session:
        ensure_user(session, "wangfang", "王芳", email="wangfang@example.cn", groups=[OFFICERS], roles=["employee"])
        ensure_user(session, "zhangwei", "张伟", email="zhangwei@example.cn", groups=[OFFICERS],
                    roles=["employee", "manager"])
        ensure_user(session, "alice", "Alice Smith", email="alice@example.com", groups=[OFFICERS],
                    roles=["administrator"], locale="en")
        ensure_user(session, "liuyang", "刘洋", email="liuyang@example.cn", lead_of=[OFFICERS],
                    roles=["employee", "manager"])


@pytest.fixture
def engine(tx, people):
    """The product's engine and diagrams, telling people by mail as the worker and the web app do."""
    engine = Engine(build_registry(), FormCatalog(ROOT / "forms"), groups_of=groups_of,
                    script_globals=script_globals(), user_exists=user_exists, script_cpu_seconds=2.0)
    subscribe(engine)
    with tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn" / "privacy", ROOT / "bpmn" / "approval"]))
    return engine


@pytest.fixture
def request_task(engine, tx) -> int:
    """李小红 asks to correct her mobile number; the officers' task to decide is open (and mailed)."""
    with clock.frozen(FILED), tx() as session:
        customer = crm.create_customer(session, name_zh="华东贸易有限公司", code="C100", by="tester")
        person = crm.add_contact(session, customer.id, contact_name=REQUESTER, title="采购经理", mobile=MOBILE,
                                 email="lixiaohong@huadong.example.cn", is_primary=True)
        file_and_start(session, engine, user="wangfang", kind="correct", subject_type="contact",
                       subject_id=person.id, corrections={"mobile": NEW_MOBILE})
    with tx(readonly=True) as session:
        [task_id] = session.scalars(select(HumanTask.id).where(HumanTask.status == "open")).all()
    return task_id


def sent(database, mail_config, smtp_server, at: datetime) -> dict[str, list[tuple[str, str]]]:
    """Send what is due at `at`; each recipient's mails as (text, html)."""
    smtp_server.messages.clear()
    send_due(database, mail_config, now=at)
    found: dict[str, list[tuple[str, str]]] = {}
    for message in smtp_server.messages:
        found.setdefault(message["To"], []).append((message.get_body(preferencelist=("plain",)).get_content(),
                                                    message.get_body(preferencelist=("html",)).get_content()))
    return found


def only(mails: dict, address: str) -> tuple[str, str]:
    [mail] = mails[address]
    return mail


def entries(tx, detail: str) -> list[tuple]:
    with tx(readonly=True) as session:
        return [(e.actor, e.how, e.entity, e.entity_id, e.fields, e.address) for e in session.scalars(
            select(AccessEntry).where(AccessEntry.detail == detail).order_by(AccessEntry.actor))]


def assert_masked(mail: tuple[str, str]) -> None:
    for body in mail:
        assert MASKED_REQUESTER in body and REQUESTER not in body and NEW_MOBILE not in body


def assert_shown(mail: tuple[str, str]) -> None:
    for body in mail:
        assert REQUESTER in body and NEW_MOBILE in body and MASKED_REQUESTER not in body


def test_a_new_tasks_mail_shows_the_request_masked_to_a_clerk_and_to_a_manager_as_it_is_and_logged(
        engine, tx, database, mail_config, smtp_server, request_task):
    mails = sent(database, mail_config, smtp_server, FILED + timedelta(minutes=1))

    assert set(mails) == {"wangfang@example.cn", "zhangwei@example.cn", "alice@example.com", "liuyang@example.cn"}
    clerk_text, clerk_html = only(mails, "wangfang@example.cn")
    assert_masked(only(mails, "wangfang@example.cn"))
    assert f"请求人：{MASKED_REQUESTER}" in clerk_text and "请求类型：correct" in clerk_text
    assert "个人信息主体：contact" in clerk_text and '<tr data-field="requester_name">' in clerk_html
    # what the mail says already is not repeated: the due time (in Beijing time) and the request's number
    assert "答复期限" not in clerk_text and 'data-field="number"' not in clerk_html
    assert "officers" not in clerk_text  # data no form shows stays out
    manager_text, _html = only(mails, "zhangwei@example.cn")
    assert_shown(only(mails, "zhangwei@example.cn"))
    assert f"请求人：{REQUESTER}" in manager_text and f"更正内容：mobile → {NEW_MOBILE}" in manager_text
    english, _html = only(mails, "alice@example.com")
    assert f"Requester: {REQUESTER}" in english and "请求人" not in english  # the label in the reader's language

    fields = ["corrections", "requester_name"]
    assert entries(tx, "task_assigned") == [(user, "email", "task", str(request_task), fields, None)
                                            for user in ("alice", "liuyang", "zhangwei")]


def test_reminders_and_escalations_of_the_task_show_its_data_the_same_way(engine, tx, database, mail_config,
                                                                          smtp_server, request_task):
    sent(database, mail_config, smtp_server, FILED + timedelta(minutes=1))  # the task's first mails
    with tx(readonly=True) as session:
        due = session.get(HumanTask, request_task).due_at
    late = due + timedelta(hours=2)
    with clock.frozen(late), tx() as session:
        assert run_escalations(session, engine, partial(notify_task, engine=engine), late)["escalated"] == 1
    mails = sent(database, mail_config, smtp_server, late + timedelta(minutes=1))

    assert set(mails) == {"wangfang@example.cn", "zhangwei@example.cn", "alice@example.com", "liuyang@example.cn"}
    assert_masked(only(mails, "wangfang@example.cn"))  # overdue
    for mail in mails["liuyang@example.cn"]:  # overdue, and escalated to him as the group's lead
        assert_shown(mail)
    assert len(mails["liuyang@example.cn"]) == 2
    assert [e[0] for e in entries(tx, "task_overdue")] == ["alice", "liuyang", "zhangwei"]
    assert entries(tx, "task_escalated") == [("liuyang", "email", "task", str(request_task),
                                              ["corrections", "requester_name"], None)]


def test_a_copy_of_the_task_shows_its_data_masked_per_reader(engine, tx, database, mail_config, smtp_server,
                                                             request_task):
    sent(database, mail_config, smtp_server, FILED + timedelta(minutes=1))
    with clock.frozen(FILED + timedelta(hours=1)), tx() as session:
        ensure_user(session, "zhaoqiang", "赵强", email="zhaoqiang@example.cn", roles=["employee", "sales"])
        assert engine.copy_to(session, request_task, "zhangwei", ["zhaoqiang", "liuyang"]) == ["zhaoqiang",
                                                                                              "liuyang"]
    mails = sent(database, mail_config, smtp_server, FILED + timedelta(hours=2))

    assert_masked(only(mails, "zhaoqiang@example.cn"))
    assert_shown(only(mails, "liuyang@example.cn"))
    assert [e[0] for e in entries(tx, "task_copied")] == ["liuyang"]


def test_the_daily_digest_shows_each_tasks_data_masked_per_reader(engine, tx, database, mail_config,
                                                                 smtp_server, request_task):
    sent(database, mail_config, smtp_server, FILED + timedelta(minutes=1))
    morning = FILED + timedelta(days=1)
    with clock.frozen(morning), tx() as session:
        for user in ("wangfang", "zhangwei"):
            set_preference(session, user, "daily_digest", True)
        assert enqueue_digests(session, morning, engine) == 2
    mails = sent(database, mail_config, smtp_server, morning + timedelta(minutes=1))

    clerk_text, _html = only(mails, "wangfang@example.cn")
    assert_masked(only(mails, "wangfang@example.cn"))
    assert f"   请求人：{MASKED_REQUESTER}" in clerk_text
    assert_shown(only(mails, "zhangwei@example.cn"))
    assert entries(tx, "daily_digest") == [("zhangwei", "email", "task", str(request_task),
                                            ["corrections", "requester_name"], None)]


def test_an_approval_task_mail_shows_what_was_requested_and_logs_nothing_when_nothing_is_personal(
        engine, tx, database, mail_config, smtp_server):
    with tx() as session:
        ensure_user(session, "lina", "李娜", email="lina@example.cn", groups=["dept_manager"],
                    roles=["employee", "manager"])
        engine.start(session, "approval", {"title": "采购笔记本电脑", "amount": Decimal("3000.00"),
                                           "requester": "wangfang", "department": "研发中心" + "。" * 300,
                                           "lines": [{"sku": "NB-14"}]}, user="wangfang")
    mails = sent(database, mail_config, smtp_server, clock.now() + timedelta(minutes=1))

    text, html = only(mails, "lina@example.cn")
    assert "事由：采购笔记本电脑" in text and "金额 (元)：3000.00" in text and "申请人：wangfang" in text
    assert f"部门：研发中心{'。' * 195}…\n" in text.replace("\r\n", "\n")  # a long text is cut
    assert "NB-14" not in text and "NB-14" not in html  # a list is no line of a mail
    assert entries(tx, "task_assigned") == []


@pytest.fixture
def follow_ups(tx, people):
    """A follow-up due soon for each owner at a customer whose primary contact is 李小红 (the clerk's through
    the opportunity only); a second contact is not the one to call."""
    with clock.frozen(FILED), tx() as session:
        ensure_user(session, "zhaoqiang", "赵强", email="zhaoqiang@example.cn", roles=["employee", "sales"])
        customer = crm.create_customer(session, name_zh="华东贸易有限公司", code="C100", by="tester").id
        crm.add_contact(session, customer, contact_name="王五", mobile="13900001111")
        primary = crm.add_contact(session, customer, contact_name=REQUESTER, title="采购经理", mobile=MOBILE,
                                  email="lixiaohong@huadong.example.cn", is_primary=True).id
        deal = crm.create_opportunity(session, customer, title="春季备货", expected_revenue="120000").id
        soon = FILED + timedelta(minutes=20)
        crm.log_activity(session, kind="call", subject="确认报价", owner="zhaoqiang", opportunity_id=deal, due_at=soon)
        for owner in ("zhangwei", "alice"):
            crm.log_activity(session, kind="call", subject="回访", owner=owner, customer_id=customer, due_at=soon)
    return primary


def test_a_follow_up_mail_names_the_contact_to_call_masked_unless_the_owner_may_see_it(
        tx, database, mail_config, smtp_server, follow_ups):
    with clock.frozen(FILED), tx() as session:
        assert send_follow_up_reminders(session, config=mail_config)["reminded"] == 3
    mails = sent(database, mail_config, smtp_server, FILED + timedelta(minutes=1))

    sales_text, sales_html = only(mails, "zhaoqiang@example.cn")
    for body in (sales_text, sales_html):
        assert MASKED_MOBILE in body and MOBILE not in body and REQUESTER not in body and "王五" not in body
    assert f"联系人：{MASKED_REQUESTER}" in sales_text and "职务：采购经理" in sales_text
    assert f"手机：{MASKED_MOBILE}" in sales_text and "lixiaohong@" not in sales_text
    manager_text, _html = only(mails, "zhangwei@example.cn")
    assert f"联系人：{REQUESTER}" in manager_text and f"手机：{MOBILE}" in manager_text
    english, _html = only(mails, "alice@example.com")
    assert f"Contact: {REQUESTER}" in english and f"Mobile: {MOBILE}" in english

    fields = ["contact_name", "email", "mobile"]
    assert entries(tx, "crm_follow_up") == [("alice", "email", "crm_contact", str(follow_ups), fields, None),
                                            ("zhangwei", "email", "crm_contact", str(follow_ups), fields, None)]

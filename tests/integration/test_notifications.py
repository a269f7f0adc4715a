"""The email outbox end to end, on SQLite and PostgreSQL, against a real SMTP server (aiosmtpd): mails are
written in the causing transaction, sent once by send_due, retried through outages and given up at last."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from core import clock
from erp.identity.services import ensure_user
from notifications.config import MailConfig
from notifications.digest import enqueue_daily_digests
from notifications.models import OutboxMessage
from notifications.outbox import enqueue, preferences, set_preference
from notifications.sender import send_due
from tests import mail_server
from tests.mail_server import REFUSED_DOMAIN

smtp_server = mail_server.smtp_server  # the fixture, used by name

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
DUE = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 17:00 in Beijing
BASE_URL = "http://erp.test"


@pytest.fixture
def mail_config(smtp_server):
    return MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url=BASE_URL,
                      default_sender="ERP 系统 <erp@erp.test>")


@pytest.fixture
def people(tx):
    with tx() as session:
        ensure_user(session, "zhangwei", "张伟", email="zhangwei@example.cn", groups=["finance"], locale="zh_CN")
        ensure_user(session, "alice", "Alice Smith", email="alice@example.com", groups=["sales"], locale="en")
        ensure_user(session, "wangfang", "王芳", groups=["finance"], locale="zh_CN")  # no email address


def task(task_id: int = 42, **overrides) -> dict:
    return {"task_id": task_id, "task_name": "审批采购申请", "process_name": "采购申请审批",
            "business_key": "PR-2026-0042", "due_at": DUE, "amount": "12345.5", **overrides}


def assign(session, username: str, config: MailConfig, task_id: int = 42, **kwargs):
    return enqueue(session, "task_assigned", to_user=username, context=task(task_id), config=config,
                   dedupe_key=kwargs.pop("dedupe_key", f"task_assigned:{task_id}:{username}"), **kwargs)


def outbox(tx) -> list[OutboxMessage]:
    with tx(readonly=True) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def text_and_html(message) -> tuple[str, str]:
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def test_mail_enqueued_in_a_rolled_back_transaction_is_never_sent(tx, database, people, mail_config,
                                                                  smtp_server):
    with pytest.raises(RuntimeError), tx() as session:
        assert assign(session, "zhangwei", mail_config) is not None
        raise RuntimeError("the business step failed")

    assert outbox(tx) == []
    assert send_due(database, mail_config) == {"sent": 0, "retried": 0, "failed": 0}
    assert smtp_server.messages == []


def test_committed_mails_arrive_in_each_recipients_language(tx, database, people, mail_config,
                                                            smtp_server):
    with tx() as session:
        assign(session, "zhangwei", mail_config)
        assign(session, "alice", mail_config)

    assert send_due(database, mail_config) == {"sent": 2, "retried": 0, "failed": 0}

    rows = {row.recipient_user: row for row in outbox(tx)}
    assert {row.status for row in rows.values()} == {"sent"}
    by_address = {message["To"]: message for message in smtp_server.messages}
    assert set(by_address) == {"zhangwei@example.cn", "alice@example.com"}

    chinese = by_address["zhangwei@example.cn"]
    assert chinese["Subject"] == "【待办】采购申请审批：审批采购申请（PR-2026-0042）"
    assert chinese["Message-ID"] == rows["zhangwei"].message_id
    assert chinese.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in chinese.walk()][1:] == [
        "multipart/alternative", "text/plain", "text/html"]
    text, html = text_and_html(chinese)
    for body in (text, html):
        assert "张伟" in body and "采购申请审批" in body and "PR-2026-0042" in body
        assert "2026年3月5日 17:00" in body and "¥12,345.50" in body
        assert f"{BASE_URL}/tasks/42" in body
    assert 'href="http://erp.test/tasks/42"' in html and 'lang="zh-CN"' in html

    english = by_address["alice@example.com"]
    assert english["Subject"] == "[Task] 采购申请审批: 审批采购申请 (PR-2026-0042)"
    assert english["Message-ID"] == rows["alice"].message_id
    assert "ERP 系统" in english["From"] and "erp@erp.test" in english["From"]
    text, html = text_and_html(english)
    assert "Hello Alice Smith," in text and "A new task is waiting" in text
    assert "5 Mar 2026 17:00 (Beijing time)" in text and f"{BASE_URL}/tasks/42" in text
    assert 'lang="en"' in html and "待办" not in text


def test_no_mail_for_a_user_without_email_or_who_switched_the_kind_off(tx, database, people, mail_config,
                                                                        smtp_server):
    with tx() as session:
        assert preferences(session, "alice")["task_assigned"] is True
        assert preferences(session, "alice")["daily_digest"] is False  # opt-in
        set_preference(session, "alice", "task_assigned", False)
    with tx() as session:
        assert preferences(session, "alice")["task_assigned"] is False
        assert assign(session, "alice", mail_config) is None
        assert assign(session, "wangfang", mail_config) is None
        assert assign(session, "nobody", mail_config) is None
        assert enqueue(session, "task_overdue", to_user="alice", context=task(), config=mail_config) is not None

    send_due(database, mail_config)
    assert [m["Subject"] for m in smtp_server.messages] == [
        "[Reminder] Task overdue: 审批采购申请 (PR-2026-0042)"]


def test_the_same_dedupe_key_is_enqueued_once(tx, database, people, mail_config, smtp_server):
    with tx() as session:
        assert assign(session, "zhangwei", mail_config) is not None
        assert assign(session, "zhangwei", mail_config) is None
    with tx() as session:
        assert assign(session, "zhangwei", mail_config) is None
        ensure_user(session, "lina", "李娜", email="lina@example.cn")  # the caller's transaction goes on

    assert send_due(database, mail_config)["sent"] == 1
    assert len(smtp_server.messages) == 1
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_dedupe_race_between_transactions_leaves_the_loser_usable(tx, people, mail_config):
    first_enqueued, second_done = threading.Event(), threading.Event()
    outcome = {}

    def second_transaction():
        first_enqueued.wait()
        with tx() as session:  # on PostgreSQL its insert waits for the first commit, then hits the key
            outcome["duplicate"] = assign(session, "zhangwei", mail_config)
            outcome["other"] = assign(session, "alice", mail_config, task_id=43)
        second_done.set()

    worker = threading.Thread(target=second_transaction)
    worker.start()
    with tx() as session:
        assign(session, "zhangwei", mail_config)
        first_enqueued.set()
        second_done.wait(0.5)  # give it time to reach its insert; the outcome must not depend on it
    worker.join()

    assert outcome["duplicate"] is None and outcome["other"] is not None
    assert sorted((m.recipient_user, m.dedupe_key) for m in outbox(tx)) == [
        ("alice", "task_assigned:43:alice"), ("zhangwei", "task_assigned:42:zhangwei")]


def test_an_smtp_outage_is_retried_with_backoff_and_every_mail_arrives_once(tx, database, people, mail_config,
                                                                            smtp_server):
    with clock.frozen(T0) as frozen:
        with tx() as session:
            for task_id in (1, 2, 3):
                assign(session, "zhangwei", mail_config, task_id=task_id)
        smtp_server.stop()

        assert send_due(database, mail_config) == {"sent": 0, "retried": 3, "failed": 0}
        rows = outbox(tx)
        assert {(m.status, m.attempts) for m in rows} == {("pending", 1)}
        assert all(T0 + timedelta(seconds=30) <= m.next_attempt_at <= T0 + timedelta(seconds=34) for m in rows)
        assert all(m.last_error for m in rows)
        assert send_due(database, mail_config)["retried"] == 0  # not due yet

        frozen.advance(seconds=35)
        assert send_due(database, mail_config)["retried"] == 3
        rows = outbox(tx)
        assert {(m.status, m.attempts) for m in rows} == {("pending", 2)}
        assert all(frozen.at + timedelta(seconds=60) <= m.next_attempt_at <= frozen.at + timedelta(seconds=67)
                   for m in rows)

        smtp_server.start()
        assert send_due(database, mail_config)["sent"] == 0  # still backing off
        frozen.advance(seconds=70)
        assert send_due(database, mail_config) == {"sent": 3, "retried": 0, "failed": 0}
        frozen.advance(hours=2)
        assert send_due(database, mail_config)["sent"] == 0

    rows = outbox(tx)
    assert {m.status for m in rows} == {"sent"}
    assert sorted(smtp_server.message_ids()) == sorted(m.message_id for m in rows)


def test_a_mail_left_sending_by_a_killed_worker_is_sent_once_after_its_lease(tx, database, people,
                                                                           mail_config, smtp_server):
    with tx() as session:
        assign(session, "zhangwei", mail_config)
    with tx() as session:  # a worker claimed it and was killed before sending
        session.execute(update(OutboxMessage).values(status="sending", claimed_until=T0 + timedelta(minutes=5)))

    assert send_due(database, mail_config, now=T0 + timedelta(minutes=4)) == {"sent": 0, "retried": 0, "failed": 0}
    assert smtp_server.messages == []
    assert send_due(database, mail_config, now=T0 + timedelta(minutes=5, seconds=1))["sent"] == 1
    assert send_due(database, mail_config, now=T0 + timedelta(hours=3))["sent"] == 0

    [row] = outbox(tx)
    assert (row.status, row.attempts, row.claimed_until) == ("sent", 1, None)
    assert smtp_server.message_ids() == [row.message_id]


def test_two_workers_sending_at_once_send_each_mail_once(tx, database, people, mail_config,
                                                         smtp_server):
    with tx() as session:
        for task_id in range(1, 31):
            assign(session, "zhangwei" if task_id % 2 else "alice", mail_config, task_id=task_id, at=T0)
    start = threading.Barrier(2)

    def worker() -> int:
        start.wait()
        sent = 0
        while (counts := send_due(database, mail_config, now=T0 + timedelta(seconds=1), batch=4))["sent"]:
            sent += counts["sent"]
        return sent

    with ThreadPoolExecutor(2) as pool:
        results = [future.result() for future in [pool.submit(worker), pool.submit(worker)]]

    assert sum(results) == 30
    ids = smtp_server.message_ids()
    assert len(ids) == 30 and len(set(ids)) == 30
    assert {m.status for m in outbox(tx)} == {"sent"}


def test_a_mail_is_given_up_after_the_last_attempt(tx, database, people, smtp_server):
    config = MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, max_attempts=3)
    with clock.frozen(T0) as frozen:
        with tx() as session:
            assign(session, "zhangwei", config)
        smtp_server.stop()
        outcomes = []
        for _ in range(3):
            outcomes.append(send_due(database, config))
            frozen.advance(hours=2)
        smtp_server.start()
        assert send_due(database, config) == {"sent": 0, "retried": 0, "failed": 0}

    assert [o["failed"] for o in outcomes] == [0, 0, 1]
    [row] = outbox(tx)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    assert smtp_server.messages == []


def test_a_recipient_the_server_refuses_fails_at_once_and_the_rest_still_go(tx, database, people, mail_config,
                                                                            smtp_server):
    with tx() as session:
        enqueue(session, "instance_failed", to_email=f"gone@{REFUSED_DOMAIN}", config=mail_config,
                context={"instance_id": 7, "process_name": "订单到收款", "business_key": "SO-7", "error": "boom"})
        assign(session, "alice", mail_config)

    assert send_due(database, mail_config) == {"sent": 1, "retried": 0, "failed": 1}
    refused, delivered = outbox(tx)
    assert (refused.status, refused.attempts) == ("failed", 1) and "550" in refused.last_error
    assert delivered.status == "sent"
    assert [m["To"] for m in smtp_server.messages] == ["alice@example.com"]


def test_the_daily_digest_goes_once_a_day_to_users_who_switched_it_on(tx, database, people, mail_config,
                                                                      smtp_server, monkeypatch):
    monkeypatch.setenv("ERP_BASE_URL", BASE_URL)
    open_tasks = {
        "zhangwei": [task(7, due_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
                     task(8, task_name="确认收货", business_key=None, due_at=None, amount=None)],
        "alice": [task(9)],
    }
    with tx() as session:
        set_preference(session, "zhangwei", "daily_digest", True)
        assert len(enqueue_daily_digests(session, open_tasks, date(2026, 3, 5))) == 1
    with tx() as session:
        assert enqueue_daily_digests(session, open_tasks, date(2026, 3, 5)) == []

    assert send_due(database, mail_config)["sent"] == 1
    [digest] = smtp_server.messages
    assert digest["To"] == "zhangwei@example.cn"
    assert digest["Subject"] == "【每日待办】2026年3月5日：您有 2 项待办，其中 1 项已逾期"
    text, html = text_and_html(digest)
    assert text.index("/tasks/7") < text.index("/tasks/8")
    assert "2026年3月3日 17:00（已逾期）" in text and "确认收货" in html


def test_a_mail_scheduled_for_later_waits_until_then(tx, database, people, mail_config,
                                                    smtp_server):
    with tx() as session:
        assign(session, "zhangwei", mail_config, at=T0 + timedelta(days=1))

    assert send_due(database, mail_config, now=T0)["sent"] == 0
    assert smtp_server.messages == []
    assert send_due(database, mail_config, now=T0 + timedelta(days=1))["sent"] == 1

"""Follow-up reminders on SQLite and PostgreSQL, read back from a real SMTP server: one mail per follow-up
falling due, in the owner's language, never twice; done follow-ups and later ones are left alone."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from erp.crm import services
from erp.crm.follow_ups import send_follow_up_reminders
from erp.identity.services import ensure_user
from erp.wiring import periodic_jobs
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server

smtp_server = mail_server.smtp_server  # the fixture, used by name

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
BASE_URL = "http://erp.test"


@pytest.fixture
def mail_config(smtp_server):
    return MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url=BASE_URL,
                      default_sender="ERP 系统 <erp@erp.test>")


@pytest.fixture
def follow_ups(tx):
    """liuyang (zh_CN) and alice (en) each have a follow-up due in 20 minutes; more that must not be reminded."""
    with clock.frozen(T0), tx() as session:
        ensure_user(session, "liuyang", "刘洋", email="liuyang@example.cn", locale="zh_CN")
        ensure_user(session, "alice", "Alice Smith", email="alice@example.com", locale="en")
        hualian = services.create_customer(session, name_zh="北京华联商贸有限公司").id
        deal = services.create_opportunity(session, hualian, title="春季备货", expected_revenue="120000").id
        soon = T0 + timedelta(minutes=20)
        ids = {
            "liuyang": services.log_activity(session, kind="call", subject="确认报价", owner="liuyang",
                                             opportunity_id=deal, due_at=soon, notes="带上新价目表").id,
            "alice": services.log_activity(session, kind="meeting", subject="Contract review", owner="alice",
                                           customer_id=hualian, due_at=soon).id,
            "later": services.log_activity(session, kind="visit", subject="门店巡检", owner="liuyang",
                                           customer_id=hualian, due_at=T0 + timedelta(hours=3)).id,
            "done": services.log_activity(session, kind="email", subject="寄送样品", owner="liuyang",
                                          customer_id=hualian, due_at=soon, done_at=T0).id,
        }
    return ids


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_each_follow_up_falling_due_is_mailed_once_in_the_owners_language(tx, database, follow_ups,
                                                                         mail_config, smtp_server):
    with clock.frozen(T0), tx() as session:
        assert send_follow_up_reminders(session, config=mail_config) == {"reminded": 2, "not_mailed": 0}
    with clock.frozen(T0 + timedelta(minutes=15)), tx() as session:
        assert send_follow_up_reminders(session, config=mail_config) == {"reminded": 0, "not_mailed": 0}
    assert send_due(database, mail_config)["sent"] == 2
    assert send_due(database, mail_config)["sent"] == 0

    by_address = {m["To"]: m for m in smtp_server.messages}
    assert set(by_address) == {"liuyang@example.cn", "alice@example.com"}
    chinese = by_address["liuyang@example.cn"]
    assert chinese["Subject"] == "【跟进提醒】确认报价（北京华联商贸有限公司）"
    body = text_of(chinese)
    assert "刘洋，您好" in body and "类型：电话" in body and "商机：春季备货" in body
    assert "截止时间：2026年3月5日 09:20（北京时间）" in body and "备注：带上新价目表" in body
    assert f"{BASE_URL}/crm/customers/1" in body
    english = by_address["alice@example.com"]
    assert english["Subject"] == "[Follow-up] Contract review (北京华联商贸有限公司)"
    assert "Hello Alice Smith," in text_of(english) and "Due: 5 Mar 2026 09:20 (Beijing time)" in text_of(english)


def test_a_later_follow_up_is_reminded_when_its_time_comes_and_a_done_one_never(tx, database, follow_ups,
                                                                               mail_config, smtp_server):
    with clock.frozen(T0), tx() as session:
        send_follow_up_reminders(session, config=mail_config)
        services.complete_activity(session, follow_ups["later"], notes="改期")  # done before it fell due
    with clock.frozen(T0 + timedelta(hours=3)), tx() as session:
        assert send_follow_up_reminders(session, config=mail_config)["reminded"] == 0
    send_due(database, mail_config)
    assert sorted(m["Subject"] for m in smtp_server.messages) == [
        "[Follow-up] Contract review (北京华联商贸有限公司)", "【跟进提醒】确认报价（北京华联商贸有限公司）"]


def test_the_periodic_job_sends_the_reminders_and_a_rerun_sends_nothing(tx, database, follow_ups, mail_config,
                                                                       smtp_server):
    jobs = periodic_jobs(database)
    with clock.frozen(T0 + timedelta(minutes=1)):
        assert jobs.run("crm.follow_up_reminders") == "ok"
    with clock.frozen(T0 + timedelta(minutes=16)):
        assert jobs.run("crm.follow_up_reminders") == "ok"
    assert send_due(database, mail_config)["sent"] == 2
    assert {m["To"] for m in smtp_server.messages} == {"liuyang@example.cn", "alice@example.com"}

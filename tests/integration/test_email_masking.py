"""Personal information in mails (PIPL), on SQLite and PostgreSQL, read back from a real SMTP server (aiosmtpd):
a recipient without personal_data.view reads other people's personal fields masked (138****5678) and nothing is
logged; one who holds it reads them as they are, and the mail is written to the access log as a way of access
("email") in the transaction that queued it. Mails to the person the data is about are neither masked nor logged."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core import clock
from erp.audit.models import AccessEntry
from erp.crm.models import PERSONAL_FIELDS as CRM_PERSONAL
from erp.identity.services import ensure_user
from forms import FormCatalog
from notifications.config import MailConfig
from notifications.digest import enqueue_daily_digests
from notifications.outbox import enqueue, set_preference
from notifications.personal import PersonalInfo, form_details
from notifications.sender import send_due
from tests import mail_server
from tests.conftest import FIXTURES
from tests.webapp.conftest import PASSWORD, login
from webapp import create_app

smtp_server = mail_server.smtp_server  # the fixture, used by name

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
PHONE, MASKED_PHONE = "13812345678", "138****5678"
ID_NUMBER, MASKED_ID = "110101199003071234", "110***********1234"
FORMS = FormCatalog(FIXTURES / "forms")
CLAIM = [FORMS.get("claim/request").schema, FORMS.get("claim/review").schema]


@pytest.fixture
def mail_config(smtp_server):
    return MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5, base_url="http://erp.test")


@pytest.fixture
def people(tx):
    with tx() as session:
        ensure_user(session, "wangfang", "王芳", email="wangfang@example.cn", roles=["employee"])  # a clerk
        ensure_user(session, "zhaoqiang", "赵强", email="zhaoqiang@example.cn", roles=["employee", "sales"])
        ensure_user(session, "zhangwei", "张伟", email="zhangwei@example.cn", roles=["employee", "manager"])
        ensure_user(session, "alice", "Alice Smith", email="alice@example.com", roles=["administrator"],
                    locale="en")


def claim_details(task_id: int = 42, **data) -> PersonalInfo:
    """The form data of a task of the expense claim (tests/fixtures/forms/claim), as erp.notify would pass it."""
    return form_details("task", task_id, {"amount": 1200, "requester": "wangfang", "id_number": ID_NUMBER,
                                          "decision": "approve", "phone": PHONE, **data}, CLAIM)


def task_context(task_id: int = 42, **data) -> dict:
    return {"task_id": task_id, "task_name": "审核报销", "process_name": "费用报销", "business_key": "EC-1",
            "due_at": DUE, "details": claim_details(task_id, **data)}


def entries(tx) -> list[AccessEntry]:
    with tx(readonly=True) as session:
        return list(session.scalars(select(AccessEntry).order_by(AccessEntry.id)))


def received(smtp_server, address: str) -> tuple[str, str]:
    [message] = [m for m in smtp_server.messages if m["To"] == address]
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def test_a_task_mail_to_a_clerk_shows_the_personal_fields_masked_and_logs_nothing(tx, database, people,
                                                                                  mail_config, smtp_server):
    with tx() as session:
        assert enqueue(session, "task_assigned", to_user="wangfang", context=task_context(),
                       dedupe_key="task_assigned:42:wangfang", config=mail_config) is not None
    assert send_due(database, mail_config)["sent"] == 1

    text, html = received(smtp_server, "wangfang@example.cn")
    for body in (text, html):
        assert MASKED_PHONE in body and MASKED_ID in body
        assert PHONE not in body and ID_NUMBER not in body
        assert "approve" in body and "1200" in body  # what is not personal is shown as it is
    assert "Phone to call back：138****5678" in text
    assert '<tr data-field="phone">' in html
    assert entries(tx) == []


def test_the_same_task_mail_to_a_manager_shows_them_and_writes_one_email_access_entry(tx, database, people,
                                                                                      mail_config, smtp_server):
    with clock.frozen(T0), tx() as session:
        enqueue(session, "task_assigned", to_user="zhangwei", context=task_context(),
                dedupe_key="task_assigned:42:zhangwei", config=mail_config)
    assert send_due(database, mail_config)["sent"] == 1

    text, html = received(smtp_server, "zhangwei@example.cn")
    for body in (text, html):
        assert PHONE in body and ID_NUMBER in body and MASKED_PHONE not in body
    [entry] = entries(tx)
    assert (entry.actor, entry.how, entry.entity, entry.entity_id) == ("zhangwei", "email", "task", "42")
    assert entry.fields == ["id_number", "phone"]
    assert entry.at == T0 and entry.address is None and entry.detail == "task_assigned"


def test_a_mail_that_is_not_queued_writes_no_access_entry(tx, database, people, mail_config, smtp_server):
    with pytest.raises(RuntimeError), tx() as session:  # the step that queued it rolls back: neither is kept
        enqueue(session, "task_assigned", to_user="zhangwei", context=task_context(), config=mail_config)
        raise RuntimeError("the business step failed")
    with tx() as session:
        assert enqueue(session, "task_assigned", to_user="zhangwei", context=task_context(),
                       dedupe_key="task_assigned:42:zhangwei", config=mail_config) is not None
    with tx() as session:  # the same event again: no second mail, no second entry
        assert enqueue(session, "task_assigned", to_user="zhangwei", context=task_context(),
                       dedupe_key="task_assigned:42:zhangwei", config=mail_config) is None

    assert send_due(database, mail_config)["sent"] == 1
    assert [(e.actor, e.how) for e in entries(tx)] == [("zhangwei", "email")]


def test_empty_personal_fields_are_not_logged_as_shown(tx, database, people, mail_config, smtp_server):
    with tx() as session:
        enqueue(session, "task_assigned", to_user="zhangwei", context=task_context(id_number=None, phone=""),
                config=mail_config)
    assert send_due(database, mail_config)["sent"] == 1
    assert entries(tx) == []


COPIED = {"instance_id": 7, "copied_by": "李娜", "note": None}
FOLLOW_UP = {"activity_id": 9, "activity_kind": "call", "subject": "回访", "customer_id": 3,
             "customer_name": "北京华联商贸有限公司", "opportunity_title": None, "due_at": DUE}
CONTACT = PersonalInfo("crm_contact", 5, {"contact_name": "李明", "title": "采购经理", "mobile": PHONE},
                       frozenset(CRM_PERSONAL), {"contact_name": "联系人", "title": "职务", "mobile": "手机"})


@pytest.mark.parametrize("kind, context, entity", [
    ("task_assigned", task_context(), ("task", "42")),
    ("task_due_soon", task_context(), ("task", "42")),
    ("task_overdue", task_context(), ("task", "42")),
    ("task_escalated", {**task_context(), "escalated_from": "李娜", "reason": "逾期"}, ("task", "42")),
    ("task_copied", {**task_context(), **COPIED}, ("task", "42")),
    ("task_copied", {**COPIED, "process_name": "费用报销", "business_key": "EC-1", "task_id": None,
                     "task_name": None, "due_at": None,
                     "details": form_details("instance", 7, {"phone": PHONE, "id_number": ID_NUMBER}, CLAIM)},
     ("instance", "7")),
    ("instance_completed", {"instance_id": 7, "process_name": "费用报销", "business_key": "EC-1",
                            "details": form_details("instance", 7, {"phone": PHONE, "id_number": ID_NUMBER}, CLAIM)},
     ("instance", "7")),
    ("instance_failed", {"instance_id": 7, "process_name": "费用报销", "business_key": "EC-1", "error": "库存不足",
                         "details": form_details("instance", 7, {"phone": PHONE, "id_number": ID_NUMBER}, CLAIM)},
     ("instance", "7")),
    ("crm_follow_up", {**FOLLOW_UP, "details": CONTACT}, ("crm_contact", "5")),
])
def test_every_mail_with_details_masks_them_per_recipient_in_both_languages(tx, database, people, mail_config,
                                                                            smtp_server, kind, context, entity):
    with tx() as session:
        for user in ("zhaoqiang", "alice"):  # a sales rep (zh_CN); an administrator (en)
            assert enqueue(session, kind, to_user=user, context=context, config=mail_config) is not None
    assert send_due(database, mail_config)["sent"] == 2

    for body in received(smtp_server, "zhaoqiang@example.cn"):
        assert MASKED_PHONE in body and PHONE not in body and ID_NUMBER not in body
    for body in received(smtp_server, "alice@example.com"):
        assert PHONE in body and MASKED_PHONE not in body
    [entry] = entries(tx)
    assert (entry.actor, entry.how, (entry.entity, entry.entity_id), entry.detail) == ("alice", "email", entity,
                                                                                       kind)
    assert "mobile" in entry.fields or "phone" in entry.fields
    if kind == "crm_follow_up":
        text, _html = received(smtp_server, "zhaoqiang@example.cn")
        assert "联系人：李*" in text and "职务：采购经理" in text


def test_the_daily_digest_masks_each_tasks_details_and_logs_each_task_shown(tx, database, people, mail_config,
                                                                           smtp_server):
    tasks = [{**task_context(42), "amount": None},
             {**task_context(43, phone=None, id_number=None), "business_key": "EC-2"},  # nothing personal set
             {"task_id": 44, "task_name": "付款", "process_name": "费用报销", "due_at": None}]  # no details
    with clock.frozen(T0), tx() as session:
        for user in ("wangfang", "zhangwei"):
            set_preference(session, user, "daily_digest", True)
        assert len(enqueue_daily_digests(session, {"wangfang": tasks, "zhangwei": tasks}, date(2026, 3, 5))) == 2
    assert send_due(database, mail_config)["sent"] == 2

    for body in received(smtp_server, "wangfang@example.cn"):
        assert MASKED_PHONE in body and PHONE not in body and ID_NUMBER not in body
    text, html = received(smtp_server, "zhangwei@example.cn")
    for body in (text, html):
        assert PHONE in body and ID_NUMBER in body and "EC-2" in body
    assert f"   Phone to call back：{PHONE}" in text
    assert [(e.actor, e.how, e.entity, e.entity_id, e.fields, e.detail) for e in entries(tx)] == [
        ("zhangwei", "email", "task", "42", ["id_number", "phone"], "daily_digest")]


def test_a_bare_address_reads_other_peoples_information_masked_and_nothing_is_logged(tx, database, people,
                                                                                    mail_config, smtp_server):
    with tx() as session:
        enqueue(session, "task_assigned", to_email="partner@example.com", context=task_context(),
                config=mail_config)
    assert send_due(database, mail_config)["sent"] == 1
    for body in received(smtp_server, "partner@example.com"):
        assert MASKED_PHONE in body and PHONE not in body
    assert entries(tx) == []


def test_a_mail_to_the_person_the_data_is_about_is_neither_masked_nor_logged(tx, database, people, mail_config,
                                                                            smtp_server):
    with tx() as session:
        enqueue(session, "privacy_request_answered", to_email="zhangsan@example.com", config=mail_config, context={
            "request_id": 1, "request_number": "PI-2026-0001", "kind": "access", "status": "completed",
            "requester_name": "张三丰", "reason": None, "outcome": {}, "answered_at": T0})
    assert send_due(database, mail_config)["sent"] == 1
    text, _html = received(smtp_server, "zhangsan@example.com")
    assert "张三丰" in text and "张*丰" not in text
    assert entries(tx) == []


def test_the_access_log_page_names_and_filters_the_mails(tx, database, engine, people, mail_config):
    with tx() as session:
        enqueue(session, "task_assigned", to_user="zhangwei", context=task_context(), config=mail_config)
        ensure_user(session, "sunmei", "孙梅", roles=["auditor"], password=PASSWORD)
    app = create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    auditor = app.test_client()
    login(auditor, "sunmei")

    html = auditor.get("/admin/access-log?how=email").get_data(as_text=True)
    assert '<option value="email" selected>邮件发送</option>' in html
    assert 'data-how="email" data-entity="task" data-entity-id="42"' in html
    assert "<td>邮件发送</td>" in html and "task_assigned" in html
    assert 'class="access-row"' not in auditor.get("/admin/access-log?how=view").get_data(as_text=True)

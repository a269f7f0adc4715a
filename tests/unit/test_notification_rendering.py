"""Mail templates in both languages, the locale's dates (Beijing time) and amounts (CNY), and the mail
settings; no database needed."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from notifications.config import load_mail_config
from notifications.models import KINDS, LOCALES
from notifications.rendering import REQUIRED_CONTEXT, TEMPLATES, format_cny, format_date, format_datetime, render
from notifications.sender import retry_delay

DUE = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 17:00 in Beijing
TASK = {"task_id": 42, "task_name": "审批采购申请", "process_name": "采购申请审批",
        "business_key": "PR-2026-0042", "due_at": DUE}
INSTANCE = {"instance_id": 7, "process_name": "订单到收款", "business_key": "SO-2026-0007"}
RISK_ALERT = {"alert_id": 5, "rule_name": "进度绩效指数低于 0.9", "metric": "kpi:spi", "comparator": "<",
              "value": "0.8500", "threshold": "0.9000", "raised_at": DUE, "project_code": "ERP-2026",
              "project_name": "华信 ERP 实施项目", "risk_code": "R-003", "risk_title": "上线延期", "instance_id": 7}
SAMPLES = {
    "task_assigned": TASK,
    "task_due_soon": TASK,
    "task_overdue": TASK,
    "task_escalated": {**TASK, "escalated_from": "李娜", "reason": "逾期 2 天未办理"},
    "instance_completed": INSTANCE,
    "instance_failed": {**INSTANCE, "error": "库存不足"},
    "daily_digest": {"day": date(2026, 3, 5), "tasks": [{**TASK, "amount": None, "overdue": False}]},
    "task_copied": {**TASK, "instance_id": 7, "copied_by": "李娜", "note": "请知悉"},
    "crm_follow_up": {"activity_id": 9, "activity_kind": "visit", "subject": "拜访采购部", "customer_id": 3,
                      "customer_name": "北京华联商贸有限公司", "opportunity_title": None, "due_at": DUE},
    # the sales rep's copy of a dunning letter (the customer's own letter: copy False, see below)
    "sales_dunning": {"invoice": "INV-2026-00012", "invoice_id": 12, "customer_name": "北京华联商贸有限公司",
                      "level": 2, "issue_date": "2026-10-01", "due_date": "2026-10-31", "days_overdue": 15,
                      "gross_total": "11300.00", "outstanding": "6300.00", "company_name": "北京华信商贸有限公司",
                      "copy": True, "sales_rep_name": "赵强"},
    # the buyer's copies of the letters to a supplier (the supplier's own letter: copy False, see below)
    "purchase_rfq": {"rfq": "RFQ-2026-00003", "rfq_id": 3, "supplier_name": "上海精工五金有限公司",
                     "reply_by": "2026-11-30", "lines": [{"sku": "HX-APP-002", "name": "螺丝", "quantity": "500"}],
                     "company_name": "北京华信商贸有限公司", "buyer_name": "王芳", "copy": True},
    "purchase_order": {"order": "PO-2026-00007", "order_id": 7, "supplier_name": "上海精工五金有限公司",
                       "order_date": "2026-11-20", "expected_date": "2026-11-27",
                       "lines": [{"sku": "HX-APP-002", "quantity": "500", "unit_price": "6.20", "gross": "3503.00"}],
                       "net_total": "3100.00", "vat_total": "403.00", "gross_total": "3503.00",
                       "company_name": "北京华信商贸有限公司", "buyer_name": "王芳", "copy": True},
    "purchase_delivery_reminder": {"order": "PO-2026-00007", "order_id": 7, "supplier_name": "上海精工五金有限公司",
                                   "level": 2, "order_date": "2026-11-20", "expected_date": "2026-11-27",
                                   "days_late": 3, "lines": [{"sku": "HX-APP-002", "quantity": "200"}],
                                   "company_name": "北京华信商贸有限公司", "buyer_name": "王芳", "copy": True},
    "purchase_delivery_escalation": {"order": "PO-2026-00007", "order_id": 7, "supplier_name": "上海精工五金有限公司",
                                     "level": 2, "expected_date": "2026-11-27", "days_late": 3,
                                     "lines": [{"sku": "HX-APP-002", "quantity": "200"}], "supplier_mailed": False},
    "purchase_dispute": {"bill": "BILL-2026-00004", "bill_id": 4, "supplier_number": "04471234",
                         "supplier_name": "上海精工五金有限公司", "order": "PO-2026-00007", "issue_date": "2026-11-28",
                         "gross_total": "3689.63", "reason": "单价高于订单价 5%",
                         "lines": [{"sku": "HX-APP-002", "invoiced": "500", "status": "price_mismatch"}],
                         "company_name": "北京华信商贸有限公司", "buyer_name": "王芳", "copy": True},
    "risk_alert": {**RISK_ALERT, "contingency_plan": "启用旧系统并行两周"},
    "risk_alert_cleared": {**RISK_ALERT, "cleared_at": DUE + timedelta(hours=3), "cleared_value": "0.9600"},
    "risk_review": {"week_of": date(2026, 3, 2), "risks": [
        {"project": "ERP-2026", "code": "R-001", "title": "关键用户无法全程参与", "score": 16, "status": "open",
         "next_review_on": date(2026, 3, 9)}]},
    "project_status_report": {
        "project_id": 1, "project_code": "ERP-2026", "project_name_zh": "华信 ERP 实施项目",
        "project_name_en": "Huaxin ERP rollout", "as_of": date(2026, 3, 30), "rag": "amber",
        "reasons": [{"key": "spi", "name_zh": "进度绩效指数", "name_en": "Schedule performance index",
                     "value": Decimal("0.9300"), "status": "amber"}],
        "evm": {"bac": Decimal("80000.00"), "pv": Decimal("50000.00"), "ev": Decimal("46500.00"),
                "ac": Decimal("50000.00"), "cpi": Decimal("0.9300"), "spi": Decimal("0.9300"),
                "eac": None, "vac": None},
        "milestones_due": [{"name": "蓝图签字", "due_date": date(2026, 3, 20), "achieved_on": None, "overdue": True}],
        "milestones_achieved": [{"name": "项目启动", "due_date": date(2026, 3, 2), "achieved_on": date(2026, 3, 2),
                                 "overdue": False}],
        "kpis": [{"key": "spi", "name_zh": "进度绩效指数", "name_en": "Schedule performance index",
                  "value": Decimal("0.93"), "target": Decimal("1.0"), "status": "amber"},
                 {"key": "uat_pass_rate", "name_zh": "用户验收测试通过率", "name_en": "UAT pass rate", "value": None,
                  "target": Decimal("95"), "status": None}],
        "top_risks": [{"code": "R-001", "title": "关键用户无法全程参与", "owner": "wangfang", "score": 16,
                       "status": "open"}],
        "heatmap": [[0] * 5, [0] * 5, [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0] * 5],
        "alerts_open": [{"rule": "进度绩效指数低于 0.95", "risk": "R-001", "value": Decimal("0.93"),
                         "threshold": Decimal("0.95"), "raised_at": DUE}]},
}
SAMPLES["privacy_request_answered"] = {
    "request_id": 3, "request_number": "PIR-2026-00003", "kind": "delete", "status": "completed",
    "requester_name": "王小明", "reason": None, "outcome": {"anonymised": {"crm_customer": 1}}, "answered_at": DUE}
SAMPLES["privacy_incident_late"] = {"incident_id": 2, "incident_number": "SI-2026-00002", "title": "客户名单误发",
                                    "step": "notify", "deadline": DUE, "overdue_hours": 5, "instance_id": 7}
COMMON = {"base_url": "http://erp.test", "recipient_name": "张伟"}


def test_every_kind_has_a_sample_and_its_templates_in_both_languages():
    assert set(SAMPLES) == set(KINDS) == set(REQUIRED_CONTEXT)
    for kind in KINDS:
        for locale in LOCALES:
            for suffix in ("subject", "txt", "html"):
                assert (TEMPLATES / f"{kind}.{locale}.{suffix}").is_file()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages_with_nothing_missing(kind, locale):
    mail = render(kind, locale, {**COMMON, **SAMPLES[kind]})  # StrictUndefined: a missing name raises

    assert mail.subject and "\n" not in mail.subject
    assert mail.text.strip() and "http://erp.test/" in mail.text
    assert mail.html.startswith("<!DOCTYPE html>")
    assert f'lang="{"en" if locale == "en" else "zh-CN"}"' in mail.html
    if kind.startswith("task_") or kind == "daily_digest":
        assert "http://erp.test/tasks/42" in mail.text and 'href="http://erp.test/tasks/42"' in mail.html
        due = "2026年3月5日 17:00" if locale == "zh_CN" else "5 Mar 2026 17:00"
        assert due in mail.text and due in mail.html


@pytest.mark.parametrize("kind", KINDS)
def test_chinese_mails_use_the_glossary_terms(kind):
    mail = render(kind, "zh_CN", {**COMMON, **SAMPLES[kind]})
    expected = {"task_escalated": "升级", "task_due_soon": "催办", "task_overdue": "催办",
                "instance_completed": "流程实例", "instance_failed": "流程实例",
                "task_copied": "抄送", "sales_dunning": "催款",
                "project_status_report": "项目状态报告", "privacy_request_answered": "个人信息"}.get(kind, "待办")
    assert expected in mail.subject + mail.text


def test_an_escalation_says_from_whom_and_why_in_both_languages():
    context = {**COMMON, **SAMPLES["task_escalated"]}
    chinese, english = render("task_escalated", "zh_CN", context), render("task_escalated", "en", context)
    assert "从 李娜 升级给您" in chinese.text and "升级原因：逾期 2 天未办理" in chinese.text
    assert "escalated to you from 李娜" in english.text and "Reason: 逾期 2 天未办理" in english.text


def test_a_copy_names_who_copied_and_links_the_task_or_the_instance():
    context = {**COMMON, **SAMPLES["task_copied"]}
    chinese, english = render("task_copied", "zh_CN", context), render("task_copied", "en", context)
    assert "李娜 将以下待办抄送给您" in chinese.text and "附言：请知悉" in chinese.text
    assert "李娜 copied you on the task" in english.text and "Note: 请知悉" in english.text
    whole = render("task_copied", "zh_CN", {**context, "task_id": None, "task_name": None, "due_at": None,
                                             "note": None})
    assert "http://erp.test/instances/7" in whole.text and "/tasks/" not in whole.text
    assert "流程实例" in whole.text and "附言" not in whole.text and "【抄送】" in whole.subject


def test_a_missing_context_value_is_named():
    with pytest.raises(InvalidInput, match="escalated_from, reason"):
        render("task_escalated", "en", {**COMMON, **TASK})
    with pytest.raises(InvalidInput, match="unknown notification kind"):
        render("task_forgotten", "en", COMMON)


def test_html_is_escaped_and_text_is_not():
    mail = render("task_assigned", "en", {**COMMON, **TASK, "task_name": "<script>x</script> & co"})
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in mail.html and "<script>" not in mail.html
    assert "<script>x</script> & co" in mail.text and "<script>x</script> & co" in mail.subject


def test_amounts_appear_as_cny_when_given():
    mail = render("task_assigned", "zh_CN", {**COMMON, **TASK, "amount": Decimal("1234.5")})
    assert "金额：¥1,234.50" in mail.text and "¥1,234.50" in mail.html
    assert "¥" not in render("task_assigned", "zh_CN", {**COMMON, **TASK}).text


def test_an_unknown_locale_falls_back_to_chinese():
    assert "待办" in render("task_assigned", "fr", {**COMMON, **TASK}).subject


@pytest.mark.parametrize("moment, zh, en", [
    (datetime(2026, 3, 5, 9, 0, tzinfo=UTC), "2026年3月5日 17:00", "5 Mar 2026 17:00"),
    (datetime(2026, 3, 4, 16, 30, tzinfo=UTC), "2026年3月5日 00:30", "5 Mar 2026 00:30"),  # next day in Beijing
    (datetime(2026, 12, 31, 23, 5, tzinfo=timezone(timedelta(hours=8))), "2026年12月31日 23:05",
     "31 Dec 2026 23:05"),
    ("2026-03-05T09:00:00+00:00", "2026年3月5日 17:00", "5 Mar 2026 17:00"),
])
def test_dates_are_written_in_beijing_time_for_the_locale(moment, zh, en):
    assert format_datetime(moment, "zh_CN") == zh
    assert format_datetime(moment, "en") == en


def test_a_naive_datetime_is_refused():
    with pytest.raises(InvalidInput, match="naive"):
        format_datetime(datetime(2026, 3, 5, 17, 0), "zh_CN")


def test_days_are_written_for_the_locale():
    assert format_date(date(2026, 1, 9), "zh_CN") == "2026年1月9日"
    assert format_date(date(2026, 1, 9), "en") == "9 Jan 2026"
    assert format_date("2026-11-26", "en") == "26 Nov 2026"


@pytest.mark.parametrize("amount, written", [
    (Decimal("1234.5"), "¥1,234.50"), ("1234567.005", "¥1,234,567.01"), (0, "¥0.00"), (-12, "-¥12.00"),
    (99.999, "¥100.00"),
])
def test_amounts_are_written_as_cny(amount, written):
    assert format_cny(amount) == written


def test_retries_back_off_exponentially_up_to_an_hour_with_a_little_jitter():
    for attempts, base in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)]:
        delay = retry_delay(attempts).total_seconds()
        assert base <= delay <= base * 1.1


def test_mail_settings_come_from_the_environment_with_defaults():
    defaults = load_mail_config({})
    assert (defaults.server, defaults.port, defaults.default_sender, defaults.timeout, defaults.base_url) == (
        "127.0.0.1", 25, "ERP <erp@localhost>", 10.0, "http://127.0.0.1:5000")
    assert defaults.use_tls is False and defaults.username is None
    config = load_mail_config({
        "ERP_MAIL_SERVER": "smtp.example.cn", "ERP_MAIL_PORT": "587", "ERP_MAIL_USE_TLS": "true",
        "ERP_MAIL_USERNAME": "erp", "ERP_MAIL_PASSWORD": "s3cret", "ERP_MAIL_TIMEOUT": "3.5",
        "ERP_MAIL_DEFAULT_SENDER": "ERP 系统 <erp@example.cn>", "ERP_BASE_URL": "https://erp.example.cn/"})
    assert (config.server, config.port, config.use_tls, config.username, config.password, config.timeout) == (
        "smtp.example.cn", 587, True, "erp", "s3cret", 3.5)
    assert config.base_url == "https://erp.example.cn" and config.message_id_domain == "example.cn"
    assert "s3cret" not in repr(config)


def test_a_long_subject_is_shortened_to_one_readable_line():
    mail = render("task_assigned", "en", {**COMMON, **TASK, "task_name": "审批\n" + "长" * 400})
    assert len(mail.subject) == 200 and mail.subject.endswith("…") and "\n" not in mail.subject


def test_optional_values_may_be_empty():
    failed = render("instance_failed", "zh_CN", {**COMMON, **INSTANCE, "business_key": None, "error": None})
    assert "错误信息：—" in failed.text and "业务编号：—" in failed.text and "None" not in failed.text
    assigned = render("task_assigned", "en", {**COMMON, **TASK, "due_at": None, "recipient_name": None})
    assert "Due: not set" in assigned.text and assigned.text.startswith("Hello,")


@pytest.mark.parametrize("level, zh, en", [(1, "付款提醒", "Payment reminder"), (2, "第二次催款", "Second reminder"),
                                           (3, "最后催款通知", "Final notice")])
def test_the_customers_dunning_letter_grows_firmer_and_is_signed_by_the_company(level, zh, en):
    context = {**COMMON, **SAMPLES["sales_dunning"], "copy": False, "level": level, "recipient_name": None}
    chinese, english = render("sales_dunning", "zh_CN", context), render("sales_dunning", "en", context)
    assert zh in chinese.subject and en in english.subject and "抄送" not in chinese.subject
    assert chinese.text.startswith("尊敬的北京华联商贸有限公司：")
    assert english.text.startswith("Dear 北京华联商贸有限公司,")
    assert "尚欠金额：¥6,300.00" in chinese.text and "Outstanding: ¥6,300.00" in english.text
    assert chinese.text.rstrip().endswith("北京华信商贸有限公司") and "http://erp.test/" not in chinese.text
    assert ("暂停供货" in chinese.text) == (level == 3) and "销售代表赵强" in chinese.text


@pytest.mark.parametrize("kind", ["purchase_rfq", "purchase_order", "purchase_delivery_reminder", "purchase_dispute"])
def test_a_letter_to_a_supplier_is_addressed_to_it_signed_by_the_company_and_has_no_link(kind):
    context = {**COMMON, **SAMPLES[kind], "copy": False, "recipient_name": None}
    chinese, english = render(kind, "zh_CN", context), render(kind, "en", context)
    assert chinese.text.startswith("尊敬的上海精工五金有限公司：")
    assert english.text.startswith("Dear 上海精工五金有限公司,")
    assert chinese.text.rstrip().endswith("北京华信商贸有限公司")
    assert english.text.rstrip().endswith("北京华信商贸有限公司")
    assert "http://erp.test/" not in chinese.text + chinese.html and "抄送" not in chinese.subject
    assert "王芳" in chinese.text and "HX-APP-002" in chinese.text and "HX-APP-002" in english.html


def test_the_delivery_escalation_says_the_supplier_could_not_be_mailed():
    mail = render("purchase_delivery_escalation", "zh_CN", {**COMMON, **SAMPLES["purchase_delivery_escalation"]})
    assert "升级" in mail.subject and "逾期 3 天" in mail.text and "催货函未能发出" in mail.text

"""Rendering a mail from its Jinja templates in the recipient's language, and the locale's ways of writing
dates (Beijing time) and amounts (CNY).

Templates live in notifications/templates, three files per kind and locale:
`<kind>.<locale>.subject` (one line), `<kind>.<locale>.txt` (plain text) and `<kind>.<locale>.html`
(autoescaped); files starting with `_` are shared layouts and macros.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from core.errors import InvalidInput
from notifications.models import KINDS, LOCALES
from notifications.personal import resolve

TEMPLATES = Path(__file__).parent / "templates"
_TASK = ("task_id", "task_name", "process_name", "business_key", "due_at")
_INSTANCE = ("instance_id", "process_name", "business_key")
_ALERT = ("alert_id", "rule_name", "metric", "comparator", "value", "threshold", "raised_at", "project_code",
          "project_name", "risk_code", "risk_title", "instance_id")
#: what each kind's templates need in the context (enqueue adds base_url and recipient_name itself);
#: optional everywhere: amount (CNY); in a task: instance_id; in task, instance and follow-up mails (and in each
#: task of the digest): details, a notifications.personal.PersonalInfo (shown as label: value rows)
REQUIRED_CONTEXT: dict[str, tuple[str, ...]] = {
    "task_assigned": _TASK,
    "task_due_soon": _TASK,
    "task_overdue": _TASK,
    "task_escalated": (*_TASK, "escalated_from", "reason"),
    "instance_completed": _INSTANCE,
    "instance_failed": (*_INSTANCE, "error"),
    "daily_digest": ("day", "tasks"),
    #: 抄送: task_id (and task_name, due_at) are None when a whole instance was copied
    "task_copied": (*_INSTANCE, "task_id", "task_name", "due_at", "copied_by", "note"),
    #: a CRM follow-up falling due; optional: notes
    "crm_follow_up": ("activity_id", "activity_kind", "subject", "customer_id", "customer_name",
                      "opportunity_title", "due_at"),
    #: 催款函: a reminder to a customer (or, as a copy, to its sales rep) that an invoice is overdue;
    #: level 1-3 (7, 15, 30 days overdue); optional: sales_rep_name
    "sales_dunning": ("invoice", "invoice_id", "customer_name", "level", "issue_date", "due_date", "days_overdue",
                      "gross_total", "outstanding", "company_name", "copy"),
    #: letters to a supplier (询价单, 采购订单, 催货, 发票退回) in Chinese, signed with the company's name; with
    #: copy True the buyer's copy, linking the document; lines: [{sku, quantity, ...}]; buyer_name may be None
    "purchase_rfq": ("rfq", "rfq_id", "supplier_name", "reply_by", "lines", "company_name", "buyer_name", "copy"),
    "purchase_order": ("order", "order_id", "supplier_name", "order_date", "expected_date", "lines", "net_total",
                       "vat_total", "gross_total", "company_name", "buyer_name", "copy"),
    #: 催货 level 1, 2, 3... (1, 3, 7 days after the expected date, then weekly)
    "purchase_delivery_reminder": ("order", "order_id", "supplier_name", "level", "order_date", "expected_date",
                                   "days_late", "lines", "company_name", "buyer_name", "copy"),
    #: to the buyer (or the purchasing group) from chase level 2 on
    "purchase_delivery_escalation": ("order", "order_id", "supplier_name", "level", "expected_date", "days_late",
                                     "lines", "supplier_mailed"),
    #: a disputed supplier invoice returned to the supplier; lines: the match lines that failed
    "purchase_dispute": ("bill", "bill_id", "supplier_number", "supplier_name", "order", "issue_date",
                         "gross_total", "reason", "lines", "company_name", "buyer_name", "copy"),
    #: 预警: a warning rule of a project breached (risk_code / risk_title None for a rule watching no risk);
    #: optional: contingency_plan
    "risk_alert": _ALERT,
    #: the metric behind an alert recovered
    "risk_alert_cleared": (*_ALERT, "cleared_at", "cleared_value"),
    #: 风险审查: the weekly review of the recipient's risks; risks: [{project, code, title, score, status,
    #: next_review_on}]
    "risk_review": ("week_of", "risks"),
    #: 项目状态报告: the weekly report of a project (erp.projects.reports.mail_context): rag red | amber | green,
    #: reasons [{name_zh, name_en, value, status}], evm {bac, pv, ev, ac, cpi, spi, eac, vac} (indices and eac
    #: may be None), milestones_due / milestones_achieved [{name, due_date, achieved_on, overdue}], kpis [{name_zh,
    #: name_en, value, target, status}], top_risks [{code, title, owner, score, status}], heatmap 5×5 counts
    #: [probability-1][impact-1], alerts_open [{rule, risk, value, threshold, raised_at}]
    "project_status_report": ("project_id", "project_code", "project_name_zh", "project_name_en", "as_of", "rag",
                              "reasons", "evm", "milestones_due", "milestones_achieved", "kpis", "top_risks",
                              "heatmap", "alerts_open"),
    #: 个人信息权利请求: the answer to a person's request (to their own address; kind access | copy | correct |
    #: delete, status completed | rejected, outcome as erp.privacy.tasks records it, reason may be None)
    "privacy_request_answered": ("request_id", "request_number", "kind", "status", "requester_name", "reason",
                                 "outcome", "answered_at"),
    #: 个人信息安全事件: a timed step (step assess | notify) is late; to the officers and the administrators
    "privacy_incident_late": ("incident_id", "incident_number", "title", "step", "deadline", "overdue_hours",
                              "instance_id"),
}
MAX_SUBJECT = 200
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _beijing():
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except (ImportError, LookupError):  # no tz database on the machine: China has had no DST since 1991
        return timezone(timedelta(hours=8), "CST")


BEIJING = _beijing()


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render(kind: str, locale: str, context: dict) -> RenderedMail:
    """The subject, text and HTML of one mail; a missing context value is an error, not a blank."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown notification kind {kind!r}")
    missing = [name for name in REQUIRED_CONTEXT[kind] if name not in context]
    if missing:
        raise InvalidInput(f"{kind} mail needs {', '.join(missing)} in its context")
    locale = locale if locale in LOCALES else "zh_CN"
    context, _shown = resolve(context, unmasked=False, locale=locale)  # enqueue resolves per recipient first
    values = {**context, "locale": locale}
    env = _environment()
    subject = " ".join(env.get_template(f"{kind}.{locale}.subject").render(values).split())  # one line
    return RenderedMail(
        subject=subject if len(subject) <= MAX_SUBJECT else subject[:MAX_SUBJECT - 1] + "…",
        text=env.get_template(f"{kind}.{locale}.txt").render(values).strip() + "\n",
        html=env.get_template(f"{kind}.{locale}.html").render(values),
    )


def format_datetime(value, locale: str) -> str:
    """2026年3月5日 17:00 (zh_CN) or 5 Mar 2026 17:00 (en), in Beijing time."""
    moment = as_datetime(value).astimezone(BEIJING)
    return f"{format_date(moment.date(), locale)} {moment:%H:%M}"


def format_date(value, locale: str) -> str:
    """2026年3月5日 (zh_CN) or 5 Mar 2026 (en)."""
    day = _as_date(value)
    if locale == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_cny(amount) -> str:
    """¥1,234.50; negative amounts as -¥1,234.50."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{'-' if value < 0 else ''}¥{abs(value):,}"


def as_datetime(value) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise InvalidInput(f"not a date and time: {value!r}")
    if moment.tzinfo is None:
        raise InvalidInput(f"naive datetime {value!r}: give the zone (core.clock.now() is UTC)")
    return moment


def _as_date(value) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return as_datetime(value).astimezone(BEIJING).date()
    return value


@pass_context
def _datetime_filter(context, value) -> str:
    return format_datetime(value, context["locale"])


@pass_context
def _date_filter(context, value) -> str:
    return format_date(value, context["locale"])


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(datetime=_datetime_filter, date=_date_filter, cny=format_cny)
    return env

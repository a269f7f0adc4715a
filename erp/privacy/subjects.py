"""The people whose information we hold (个人信息主体): a customer's contact, a customer who is a natural person,
a lead, or a user; finding one, naming one, and gathering everything held on one for an access or copy request
(查阅 / 复制, PIPL art. 45)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select

from core.errors import InvalidInput, NotFound
from erp.crm.models import Activity, Contact, Customer, Lead, SatisfactionSurvey
from erp.identity.models import GroupMembership, User
from erp.privacy.models import SUBJECT_TYPES, Consent
from erp.sales.models import CreditNote, Invoice, Payment, Quotation, SalesOrder

MODELS = {"contact": Contact, "customer": Customer, "lead": Lead, "user": User}
#: the fields a correction request (更正, art. 46) may change, per kind of person
CORRECTABLE = {"contact": ("contact_name", "title", "mobile", "email", "wechat_id"),
               "customer": ("name_zh", "name_en", "phone", "address"),
               "lead": ("contact_name", "contact_phone"),
               "user": ("display_name", "email")}
_PROFILE = {"contact": ("id", "contact_name", "title", "mobile", "email", "wechat_id", "is_primary"),
            "customer": ("id", "code", "name_zh", "name_en", "phone", "address", "city", "province", "tier",
                         "credit_limit", "payment_terms_days", "sales_rep", "active", "created_at"),
            "lead": ("id", "contact_name", "company_name", "contact_phone", "source", "status", "owner",
                     "created_at"),
            "user": ("id", "username", "display_name", "email", "locale", "manager", "roles", "active",
                     "created_at")}


def find_subject(session, subject_type: str, subject_id) -> object:
    if subject_type not in SUBJECT_TYPES:
        raise InvalidInput(f"unknown kind of person {subject_type!r}",
                           {"subject_type": [f"one of {', '.join(SUBJECT_TYPES)}"]})
    try:
        found = session.get(MODELS[subject_type], int(subject_id))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound(f"no {subject_type} {subject_id}")
    return found


def subject_name(subject, subject_type: str) -> str:
    """How the person is called on pages and in the consent ledger."""
    return {"contact": lambda s: s.contact_name, "customer": lambda s: s.name_zh,
            "lead": lambda s: s.contact_name, "user": lambda s: s.display_name}[subject_type](subject)


def subject_email(subject, subject_type: str) -> str | None:
    return getattr(subject, "email", None) if subject_type in ("contact", "user") else None


def plain(value):
    """A value as JSON holds it: amounts as text (exact), dates as ISO strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _row(obj, fields) -> dict:
    return {f: plain(getattr(obj, f)) for f in fields}


def holdings(session, subject_type: str, subject_id) -> dict:
    """Everything held on the person, by category, as plain JSON (the export of an access or copy request)."""
    subject = find_subject(session, subject_type, subject_id)
    held = {"subject_type": subject_type, "profile": _row(subject, _PROFILE[subject_type]),
            "consents": consent_rows(session, subject_type, subject.id)}
    held.update(_GATHER[subject_type](session, subject))
    return held


def consent_rows(session, subject_type: str, subject_id: int) -> list[dict]:
    rows = session.scalars(select(Consent).where(Consent.subject_type == subject_type,
                                                 Consent.subject_id == subject_id).order_by(Consent.id))
    return [_row(c, ("id", "purpose", "scope", "channel", "given_at", "withdrawn_at")) for c in rows]


def _contact(session, contact: Contact) -> dict:
    customer = session.get(Customer, contact.customer_id)
    return {"customer": {"code": customer.code, "name_zh": customer.name_zh},
            "activities": [_activity(a) for a in mentioning(session, contact.customer_id, contact.contact_name)]}


def _customer(session, customer: Customer) -> dict:
    def rows(model, fields, order):
        return [_row(r, fields) for r in session.scalars(select(model).where(model.customer_id == customer.id)
                                                          .order_by(order))]

    return {"contacts": rows(Contact, _PROFILE["contact"], Contact.id),
            "quotations": rows(Quotation, ("number", "quote_date", "status", "gross_total"), Quotation.id),
            "sales_orders": rows(SalesOrder, ("number", "order_date", "status", "gross_total"), SalesOrder.id),
            "invoices": rows(Invoice, ("number", "kind", "issue_date", "gross_total", "paid", "status"), Invoice.id),
            "payments": rows(Payment, ("number", "received_on", "amount", "payer", "memo"), Payment.id),
            "credit_notes": [_row(n, ("number", "issue_date", "gross_total", "reason")) for n in session.scalars(
                select(CreditNote).join(Invoice, Invoice.id == CreditNote.invoice_id)
                .where(Invoice.customer_id == customer.id).order_by(CreditNote.id))],
            "activities": rows(Activity, ("kind", "subject", "notes", "owner", "due_at", "done_at"), Activity.id),
            "satisfaction_surveys": rows(SatisfactionSurvey, ("surveyed_on", "score", "nps", "comment", "channel"),
                                         SatisfactionSurvey.id)}


def _lead(session, lead: Lead) -> dict:
    return {}


def _user(session, user: User) -> dict:
    groups = session.scalars(select(GroupMembership.group_name).where(GroupMembership.user_id == user.id)
                             .order_by(GroupMembership.group_name)).all()
    return {"groups": list(groups)}


_GATHER = {"contact": _contact, "customer": _customer, "lead": _lead, "user": _user}


def mentioning(session, customer_id: int, name: str) -> list[Activity]:
    """The customer's activities whose subject or notes name the person (free text about them)."""
    if not name:
        return []
    return list(session.scalars(select(Activity).where(
        Activity.customer_id == customer_id,
        or_(Activity.subject.contains(name, autoescape=True), Activity.notes.contains(name, autoescape=True)))
        .order_by(Activity.id)))


def _activity(activity: Activity) -> dict:
    return _row(activity, ("kind", "subject", "notes", "owner", "due_at", "done_at"))

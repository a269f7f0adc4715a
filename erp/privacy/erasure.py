"""Correcting (更正, PIPL art. 46) and deleting (删除, art. 47) a person's information.

Deletion keeps what the law requires us to keep: transaction records are kept at least three years (E-Commerce
Law art. 31; the accounting rules keep vouchers longer), so quotations, sales orders, invoices, payments, credit
notes and their journal entries stay with their numbers and amounts, and the person's name in them becomes an
anonymous token (已删除-xxxxxxxx). Everything else about the person is removed: contacts, leads not converted,
free text about them in activities and surveys, and their name in the consent ledger (the consent records
themselves stay as proof of what was agreed)."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from core.errors import InvalidInput
from erp.audit.services import record
from erp.crm.models import Activity, Contact, Customer, Lead, SatisfactionSurvey
from erp.crm.validation import company_name_key
from erp.finance.models import JournalEntry
from erp.identity.models import User
from erp.privacy.models import Consent
from erp.privacy.subjects import CORRECTABLE, find_subject, mentioning, plain, subject_name
from erp.sales.models import CreditNote, Delivery, Invoice, Payment, Quotation, SalesOrder

ERASED = "已删除"
#: E-Commerce Law art. 31: transaction records are kept at least three years after the transaction
TRANSACTION_RETENTION_YEARS = 3


def anonymous_token(subject_type: str, subject_id: int) -> str:
    """A stable stand-in for an erased name: documents stay told apart, the person cannot be read from it."""
    digest = hashlib.sha256(f"{subject_type}:{subject_id}".encode()).hexdigest()[:8]
    return f"{ERASED}-{digest}"


def correct_person(session, subject_type: str, subject_id, corrections: dict, *, by: str) -> dict:
    """Change the named fields; the change is audited with the values before and after."""
    subject = find_subject(session, subject_type, subject_id)
    allowed = CORRECTABLE[subject_type]
    unknown = sorted(set(corrections) - set(allowed))
    if unknown or not corrections:
        raise InvalidInput(f"cannot correct {', '.join(unknown) or 'nothing'}",
                           {"corrections": [f"fields of a {subject_type}: {', '.join(allowed)}"]})
    before = {f: getattr(subject, f) for f in corrections}
    for field, value in corrections.items():
        setattr(subject, field, (str(value).strip() or None) if value is not None else None)
    if subject_type == "customer" and "name_zh" in corrections:
        subject.name_key = company_name_key(subject.name_zh)
    after = {f: getattr(subject, f) for f in corrections}
    session.flush()
    record(session, "privacy.correct", actor=by, target_type=subject_type, target_id=subject.id,
           before=plain(before), after=plain(after))
    return {"corrected": sorted(f for f in corrections if before[f] != after[f])}


def erase_person(session, subject_type: str, subject_id, *, by: str) -> dict:
    """Anonymise what must be kept and remove the rest; returns what was anonymised, removed and kept, by
    table (the audit entry records these counts, never the erased values)."""
    subject = find_subject(session, subject_type, subject_id)
    result = {"anonymised": {}, "removed": {}, "kept": {}}
    _ERASE[subject_type](session, subject, result)
    _count(result, "anonymised", "privacy_consent", _erase_consents(session, subject_type, subject.id))
    session.flush()
    record(session, "privacy.erase", actor=by, target_type=subject_type, target_id=subject.id, after=result,
           detail="PIPL art. 47; transaction records kept (E-Commerce Law art. 31)")
    return result


def _count(result: dict, what: str, table: str, n: int) -> None:
    if n:
        result[what][table] = result[what].get(table, 0) + n


def _erase_consents(session, subject_type: str, subject_id: int) -> int:
    consents = session.scalars(select(Consent).where(Consent.subject_type == subject_type,
                                                     Consent.subject_id == subject_id)).all()
    for consent in consents:
        consent.subject_name = ERASED
    return len(consents)


def _erase_contact(session, contact: Contact, result: dict) -> None:
    _count(result, "anonymised", "crm_activity", _scrub_activities(session, contact.customer_id,
                                                                     [contact.contact_name]))
    session.delete(contact)
    _count(result, "removed", "crm_contact", 1)


def _erase_customer(session, customer: Customer, result: dict) -> None:
    token = anonymous_token("customer", customer.id)
    payers = [p for p in session.scalars(select(Payment.payer).where(Payment.customer_id == customer.id)) if p]
    names = [n for n in {customer.name_zh, customer.name_en, *payers} if n]
    contacts = session.scalars(select(Contact).where(Contact.customer_id == customer.id)).all()
    _count(result, "anonymised", "crm_activity", _scrub_activities(
        session, customer.id, names + [c.contact_name for c in contacts], everything=True))
    for contact in contacts:
        _erase_consents(session, "contact", contact.id)
        session.delete(contact)
    _count(result, "removed", "crm_contact", len(contacts))
    surveys = session.scalars(select(SatisfactionSurvey).where(SatisfactionSurvey.customer_id == customer.id)).all()
    for survey in surveys:
        survey.comment = None
    _count(result, "anonymised", "crm_satisfaction_survey", len(surveys))
    for lead in session.scalars(select(Lead).where(Lead.customer_id == customer.id)):
        lead.contact_name, lead.contact_phone = token, None
        _count(result, "anonymised", "crm_lead", 1)
    _count(result, "anonymised", "sales_payment", _anonymise_payments(session, customer.id, names, token))
    _count(result, "anonymised", "journal_entry", _anonymise_entries(session, customer.id, names, token))
    customer.name_zh, customer.name_en, customer.name_key = token, None, company_name_key(token)
    customer.phone, customer.address, customer.active = None, None, False
    _count(result, "anonymised", "crm_customer", 1)
    for table, n in _transactions(session, customer.id).items():
        _count(result, "kept", table, n)


def _erase_lead(session, lead: Lead, result: dict) -> None:
    if lead.customer_id is None and lead.opportunity_id is None:
        session.delete(lead)
        _count(result, "removed", "crm_lead", 1)
        return
    lead.contact_name, lead.contact_phone = anonymous_token("lead", lead.id), None
    _count(result, "anonymised", "crm_lead", 1)


def _erase_user(session, user: User, result: dict) -> None:
    """The username stays (the history of who did what names it); the person behind it does not."""
    user.display_name, user.email, user.active = anonymous_token("user", user.id), None, False
    _count(result, "anonymised", "app_user", 1)


_ERASE = {"contact": _erase_contact, "customer": _erase_customer, "lead": _erase_lead, "user": _erase_user}


def _scrub_activities(session, customer_id: int, names: list[str], everything: bool = False) -> int:
    """Free text about the person: their name in an activity's subject becomes 已删除 and its notes go."""
    found = {a.id: a for name in names for a in mentioning(session, customer_id, name)}
    if everything:
        found.update({a.id: a for a in session.scalars(select(Activity).where(Activity.customer_id == customer_id))})
    for activity in found.values():
        activity.subject = _replace(activity.subject, names, ERASED) or ERASED
        activity.notes = None
    return len(found)


def _anonymise_payments(session, customer_id: int, names: list[str], token: str) -> int:
    payments = session.scalars(select(Payment).where(Payment.customer_id == customer_id)).all()
    for payment in payments:
        payment.payer = token if payment.payer else None
        payment.memo = _replace(payment.memo, names, token)
    return len(payments)


def _anonymise_entries(session, customer_id: int, names: list[str], token: str) -> int:
    """The journal entries of the customer's documents keep their lines; only the name in the text goes."""
    numbers = [n for model in (Invoice, Payment) for n in session.scalars(
        select(model.number).where(model.customer_id == customer_id))]
    numbers += list(session.scalars(select(CreditNote.number).join(Invoice, Invoice.id == CreditNote.invoice_id)
                                    .where(Invoice.customer_id == customer_id)))
    changed = 0
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.source_id.in_(numbers or [""]))):
        text = _replace(entry.description, names, token)
        if text != entry.description:
            entry.description, changed = text, changed + 1
    return changed


def _replace(text: str | None, names: list[str], token: str) -> str | None:
    if not text:
        return text
    for name in sorted(names, key=len, reverse=True):  # the longer name first: 北京张三 before 张三
        text = text.replace(name, token)
    return text


def _transactions(session, customer_id: int) -> dict[str, int]:
    """The transaction records kept for the customer, by table."""
    counts = {model.__tablename__: len(session.scalars(select(model.id).where(model.customer_id == customer_id))
                                       .all()) for model in (Quotation, SalesOrder, Invoice, Payment)}
    counts["sales_delivery"] = len(session.scalars(select(Delivery.id).join(SalesOrder, SalesOrder.id ==
                                                                               Delivery.order_id)
                                                   .where(SalesOrder.customer_id == customer_id)).all())
    return {table: n for table, n in counts.items() if n}


def subject_label(session, subject_type: str, subject_id) -> str:
    return subject_name(find_subject(session, subject_type, subject_id), subject_type)


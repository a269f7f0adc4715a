"""Changing CRM data: customers and contacts, leads, opportunities and their stages, activities and
satisfaction results (take a session, never commit). Follow-up reminders are in erp.crm.follow_ups."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update

from core import clock
from core.errors import Conflict, InvalidInput, NotFound
from erp.audit.services import changes, record
from erp.codes import checked_code, next_code
from erp.crm.models import (
    OPEN_STAGES,
    STAGES,
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    SatisfactionSurvey,
    StageChange,
)
from erp.crm.queries import likely_duplicates
from erp.crm.validation import company_name_key, normalise_credit_code, normalise_mobile, normalise_phone

TIERS = ("A", "B", "C")
#: the chance of winning, in per cent, an opportunity gets on entering each stage
STAGE_PROBABILITY = {"prospecting": 10, "qualification": 25, "proposal": 50, "negotiation": 75, "won": 100,
                     "lost": 0}
LEAD_STATUSES = ("new", "contacted", "qualified", "disqualified", "converted")
ACTIVITY_KINDS = ("call", "visit", "email", "meeting")
SURVEY_CHANNELS = ("phone", "email", "wechat", "visit", "web")
CUSTOMER_FIELDS = ("name_zh", "name_en", "tax_number", "phone", "address", "city", "province", "tier",
                   "credit_limit", "payment_terms_days", "sales_rep", "tags", "segment", "active")


class LikelyDuplicate(Conflict):
    """The new customer looks like existing ones; `candidates` lists them with the reasons. Create it anyway
    with confirm_duplicate=True."""

    def __init__(self, candidates: list[dict]):
        names = ", ".join(f"{c['code']} {c['name_zh']}" for c in candidates)
        super().__init__(f"likely duplicate of {names}")
        self.candidates = candidates


def create_customer(session, *, name_zh: str, by: str | None = None, code: str | None = None,
                    confirm_duplicate: bool = False, **fields) -> Customer:
    """A new customer; raises LikelyDuplicate when one with a similar name, the same phone or the same tax
    number exists, unless `confirm_duplicate`."""
    values = _customer_values({"name_zh": name_zh, **fields})
    code = _new_code(session) if code is None else _checked_code(session, code)
    candidates = likely_duplicates(session, values["name_zh"], phone=values.get("phone"),
                                   tax_number=values.get("tax_number"))
    if candidates and not confirm_duplicate:
        raise LikelyDuplicate(candidates)
    customer = Customer(code=code, tier="C", credit_limit=Decimal("0.00"), payment_terms_days=30, tags=[],
                        active=True, created_at=clock.now(), created_by=by)
    for name, value in values.items():
        setattr(customer, name, value)
    customer.name_key = company_name_key(customer.name_zh)
    session.add(customer)
    session.flush()
    record(session, "crm.customer_created", actor=by, target_type="customer", target_id=customer.id,
           after={"code": code, **values}, detail=f"likely duplicate of {[c['code'] for c in candidates]}"
           if candidates else None)
    return customer


def update_customer(session, customer_id: int, *, by: str | None = None, **fields) -> Customer:
    """Change what is given (credit limit, rep, tier, ...); the change is written to the audit log."""
    customer = _get(session, Customer, customer_id)
    values = _customer_values(fields, partial=True)
    before = {name: getattr(customer, name) for name in values}
    for name, value in values.items():
        setattr(customer, name, value)
    customer.name_key = company_name_key(customer.name_zh)
    old, new = changes(before, values)
    if new:
        record(session, "crm.customer_changed", actor=by, target_type="customer", target_id=customer.id,
               before=old, after=new)
    session.flush()
    return customer


def add_contact(session, customer_id: int, *, contact_name: str, title: str | None = None,
                mobile: str | None = None, email: str | None = None, wechat_id: str | None = None,
                is_primary: bool = False) -> Contact:
    _get(session, Customer, customer_id)
    errors: dict[str, list[str]] = {}
    if not (contact_name or "").strip():
        errors["contact_name"] = ["required"]
    mobile = _checked(errors, "mobile", normalise_mobile, mobile)
    if email and ("@" not in email or " " in email.strip()):
        errors["email"] = ["not an email address"]
    if errors:
        raise InvalidInput("the contact is not valid", errors)
    if is_primary:
        session.execute(update(Contact).where(Contact.customer_id == customer_id).values(is_primary=False))
    contact = Contact(customer_id=customer_id, contact_name=contact_name.strip(), title=title, mobile=mobile,
                      email=email.strip() if email else None, wechat_id=wechat_id or None, is_primary=is_primary)
    session.add(contact)
    session.flush()
    return contact


def create_lead(session, *, contact_name: str, company_name: str | None = None, contact_phone: str | None = None,
                source: str | None = None, owner: str | None = None) -> Lead:
    errors: dict[str, list[str]] = {}
    if not (contact_name or "").strip():
        errors["contact_name"] = ["required"]
    contact_phone = _checked(errors, "contact_phone", normalise_phone, contact_phone)
    if errors:
        raise InvalidInput("the lead is not valid", errors)
    lead = Lead(contact_name=contact_name.strip(), company_name=company_name, contact_phone=contact_phone,
                source=source, owner=owner, status="new", created_at=clock.now())
    session.add(lead)
    session.flush()
    return lead


def set_lead_status(session, lead_id: int, status: str) -> Lead:
    lead = _get(session, Lead, lead_id)
    if status not in LEAD_STATUSES[:4]:
        raise InvalidInput(f"a lead's status is one of {', '.join(LEAD_STATUSES[:4])}", {"status": ["unknown"]})
    if lead.status == "converted":
        raise Conflict(f"lead {lead_id} has been converted already")
    lead.status = status
    return lead


def convert_lead(session, lead_id: int, *, by: str | None = None, customer_id: int | None = None,
                 opportunity_title: str | None = None, expected_revenue=Decimal("0"),
                 expected_close: date | None = None, confirm_duplicate: bool = False,
                 **customer_fields) -> tuple[Customer, Opportunity]:
    """Turn a lead into a customer (a new one, or `customer_id`) with its contact, and an opportunity."""
    lead = _get(session, Lead, lead_id)
    if lead.status in ("converted", "disqualified"):
        raise Conflict(f"lead {lead_id} is {lead.status}")
    if customer_id is not None:
        customer = _get(session, Customer, customer_id)
    else:
        customer = create_customer(session, by=by, confirm_duplicate=confirm_duplicate, **{
            "name_zh": lead.company_name or lead.contact_name, "phone": lead.contact_phone,
            "sales_rep": lead.owner, **customer_fields})
    mobile = lead.contact_phone if lead.contact_phone and _is_mobile(lead.contact_phone) else None
    add_contact(session, customer.id, contact_name=lead.contact_name, mobile=mobile,
                is_primary=not _has_contacts(session, customer.id))
    opportunity = create_opportunity(session, customer.id, title=opportunity_title or lead.company_name
                                     or lead.contact_name, expected_revenue=expected_revenue,
                                     expected_close=expected_close, owner=lead.owner or by, by=by)
    lead.status, lead.converted_at = "converted", clock.now()
    lead.customer_id, lead.opportunity_id = customer.id, opportunity.id
    session.flush()
    return customer, opportunity


def create_opportunity(session, customer_id: int, *, title: str, expected_revenue=Decimal("0"),
                       expected_close: date | None = None, owner: str | None = None, stage: str = "prospecting",
                       by: str | None = None) -> Opportunity:
    _get(session, Customer, customer_id)
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = ["required"]
    if stage not in OPEN_STAGES:
        errors["stage"] = [f"a new opportunity starts in one of {', '.join(OPEN_STAGES)}"]
    revenue = _checked(errors, "expected_revenue", _amount, expected_revenue)
    if errors:
        raise InvalidInput("the opportunity is not valid", errors)
    now = clock.now()
    opportunity = Opportunity(customer_id=customer_id, title=title.strip(), stage=stage, expected_revenue=revenue,
                              probability=STAGE_PROBABILITY[stage], expected_close=expected_close,
                              owner=owner or by, created_at=now)
    session.add(opportunity)
    session.flush()
    session.add(StageChange(opportunity_id=opportunity.id, from_stage=None, to_stage=stage, changed_by=by,
                            changed_at=now))
    session.flush()
    return opportunity


def move_opportunity(session, opportunity_id: int, stage: str, *, by: str | None = None,
                     lost_reason: str | None = None, note: str | None = None) -> Opportunity:
    """Move to another stage (forwards or back while open; won and lost are final); a lost one needs a
    reason. The change is kept in the stage history."""
    opportunity = _get(session, Opportunity, opportunity_id)
    if stage not in STAGES:
        raise InvalidInput(f"unknown stage {stage!r}", {"stage": [f"one of {', '.join(STAGES)}"]})
    if opportunity.stage not in OPEN_STAGES:
        raise Conflict(f"opportunity {opportunity_id} is {opportunity.stage} already")
    if stage == opportunity.stage:
        return opportunity
    if stage == "lost" and not (lost_reason or "").strip():
        raise InvalidInput("a lost opportunity needs the reason it was lost", {"lost_reason": ["required"]})
    now = clock.now()
    session.add(StageChange(opportunity_id=opportunity.id, from_stage=opportunity.stage, to_stage=stage,
                            changed_by=by, changed_at=now, note=note or (lost_reason if stage == "lost" else None)))
    opportunity.stage, opportunity.probability = stage, STAGE_PROBABILITY[stage]
    if stage in ("won", "lost"):
        opportunity.closed_at = now
    if stage == "lost":
        opportunity.lost_reason = lost_reason.strip()
    session.flush()
    return opportunity


def log_activity(session, *, kind: str, subject: str, owner: str, customer_id: int | None = None,
                 opportunity_id: int | None = None, notes: str | None = None, due_at=None, done_at=None) -> Activity:
    """A call, visit, email or meeting; with `due_at` and no `done_at` it is a follow-up still to do."""
    errors: dict[str, list[str]] = {}
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = [f"one of {', '.join(ACTIVITY_KINDS)}"]
    if not (subject or "").strip():
        errors["subject"] = ["required"]
    if not owner:
        errors["owner"] = ["required"]
    if customer_id is None and opportunity_id is None:
        errors["customer_id"] = ["an activity is about a customer, an opportunity or both"]
    if errors:
        raise InvalidInput("the activity is not valid", errors)
    if opportunity_id is not None:
        opportunity = _get(session, Opportunity, opportunity_id)
        if customer_id is not None and customer_id != opportunity.customer_id:
            raise InvalidInput("the opportunity belongs to another customer", {"opportunity_id": ["mismatch"]})
        customer_id = opportunity.customer_id
    else:
        _get(session, Customer, customer_id)
    activity = Activity(kind=kind, subject=subject.strip(), owner=owner, customer_id=customer_id,
                        opportunity_id=opportunity_id, notes=notes, due_at=due_at, done_at=done_at,
                        created_at=clock.now())
    session.add(activity)
    session.flush()
    return activity


def complete_activity(session, activity_id: int, *, notes: str | None = None) -> Activity:
    activity = _get(session, Activity, activity_id)
    if activity.done_at is None:
        activity.done_at = clock.now()
    if notes:
        activity.notes = f"{activity.notes}\n{notes}" if activity.notes else notes
    return activity


def record_satisfaction(session, customer_id: int, *, score: int | None = None, nps: int | None = None,
                        comment: str | None = None, channel: str | None = None, surveyed_on: date | None = None,
                        by: str | None = None) -> SatisfactionSurvey:
    _get(session, Customer, customer_id)
    errors: dict[str, list[str]] = {}
    if score is None and nps is None:
        errors[""] = ["a survey result needs a score (1-5) or an NPS answer (0-10)"]
    if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5):
        errors["score"] = ["a whole number from 1 to 5"]
    if nps is not None and (isinstance(nps, bool) or not isinstance(nps, int) or not 0 <= nps <= 10):
        errors["nps"] = ["a whole number from 0 to 10"]
    if channel is not None and channel not in SURVEY_CHANNELS:
        errors["channel"] = [f"one of {', '.join(SURVEY_CHANNELS)}"]
    if errors:
        raise InvalidInput("the survey result is not valid", errors)
    now = clock.now()
    survey = SatisfactionSurvey(customer_id=customer_id, score=score, nps=nps, comment=comment, channel=channel,
                                surveyed_on=surveyed_on or now.date(), recorded_by=by, created_at=now)
    session.add(survey)
    session.flush()
    return survey


_CUSTOMER_FIELD_SET = frozenset(CUSTOMER_FIELDS)


def _customer_values(fields: dict, partial: bool = False) -> dict:
    unknown = fields.keys() - _CUSTOMER_FIELD_SET
    if unknown:
        raise InvalidInput(f"unknown customer fields: {', '.join(sorted(unknown))}")
    values, errors = dict(fields), {}
    if "name_zh" in values or not partial:
        values["name_zh"] = (values.get("name_zh") or "").strip()
        if not values["name_zh"]:
            errors["name_zh"] = ["required"]
    if "tax_number" in values:
        values["tax_number"] = _checked(errors, "tax_number", normalise_credit_code, values["tax_number"])
    if "phone" in values:
        values["phone"] = _checked(errors, "phone", normalise_phone, values["phone"])
    if "tier" in values and values["tier"] not in TIERS:
        errors["tier"] = [f"one of {', '.join(TIERS)}"]
    if "credit_limit" in values:
        values["credit_limit"] = _checked(errors, "credit_limit", _amount, values["credit_limit"])
    terms = values.get("payment_terms_days")
    if "payment_terms_days" in values and (not isinstance(terms, int) or isinstance(terms, bool)
                                           or not 0 <= terms <= 365):
        errors["payment_terms_days"] = ["a whole number of days from 0 to 365"]
    if "tags" in values:
        values["tags"] = sorted({str(t).strip() for t in values["tags"] or () if str(t).strip()})
    if errors:
        raise InvalidInput("the customer is not valid", errors)
    return values


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not an amount") from None
    if amount < 0:
        raise ValueError("an amount cannot be negative")
    return amount


def _checked(errors: dict, field: str, check, value):
    try:
        return check(value)
    except ValueError as exc:
        errors[field] = [str(exc)]
        return None


def _is_mobile(phone: str) -> bool:
    try:
        return normalise_mobile(phone) is not None
    except ValueError:
        return False


def _has_contacts(session, customer_id: int) -> bool:
    return session.scalar(select(Contact.id).where(Contact.customer_id == customer_id).limit(1)) is not None


def _new_code(session) -> str:
    return next_code(session, Customer.code, "C")


def _checked_code(session, code: str) -> str:
    return checked_code(session, Customer.code, code, "customer")


def _get(session, model, id_):
    row = session.get(model, id_)
    if row is None:
        raise NotFound(f"no {model.__name__.lower()} {id_}")
    return row

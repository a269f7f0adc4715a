"""CRM tables: customers and their contacts, leads, opportunities with their stage history, activities
(follow-ups) and satisfaction survey results."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime

#: the keys that hold personal information (PIPL) in contacts, leads and the query results built from them;
#: erp.masking.mask_data(data, PERSONAL_FIELDS) hides them from roles that do not need them
PERSONAL_FIELDS = ("contact_name", "mobile", "contact_phone", "email", "wechat_id")
Money = Numeric(18, 2)
#: the pipeline (销售漏斗) in order; won and lost close an opportunity
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")
OPEN_STAGES = STAGES[:4]


class Customer(Base):
    """A company we sell to (客户)."""

    __tablename__ = "crm_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: C-000123; given or generated
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: company_name_key(name_zh): what duplicate warnings compare
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    #: 统一社会信用代码 (18 characters, check character verified), also the VAT taxpayer number
    tax_number: Mapped[str | None] = mapped_column(String(18), index=True)
    #: digits only: a mobile (13812345678) or a landline with its area code (01088886666)
    phone: Mapped[str | None] = mapped_column(String(20), index=True, info={"personal": "personal", "grade": "general"})
    address: Mapped[str | None] = mapped_column(String(500), info={"personal": "personal", "grade": "general"})
    city: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    #: A | B | C
    tier: Mapped[str] = mapped_column(String(1), default="C")
    #: 信用额度 in CNY; sales checks open orders against it
    credit_limit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    #: the username of the sales rep in charge
    sales_rep: Mapped[str | None] = mapped_column(String(100), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    segment: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))


class Contact(Base):
    """A person at a customer (联系人); the personal fields are listed in PERSONAL_FIELDS."""

    __tablename__ = "crm_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    contact_name: Mapped[str] = mapped_column(String(100), info={"personal": "personal", "grade": "general"})
    title: Mapped[str | None] = mapped_column(String(100))
    #: 11 digits
    mobile: Mapped[str | None] = mapped_column(String(11), info={"personal": "personal", "grade": "general"})
    email: Mapped[str | None] = mapped_column(String(320), info={"personal": "personal", "grade": "general"})
    wechat_id: Mapped[str | None] = mapped_column(String(100), info={"personal": "personal", "grade": "general"})
    #: the one to call first; at most one per customer
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Lead(Base):
    """A possible customer not yet qualified (线索)."""

    __tablename__ = "crm_lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_name: Mapped[str] = mapped_column(String(100), info={"personal": "personal", "grade": "general"})
    company_name: Mapped[str | None] = mapped_column(String(200))
    #: normalised like Customer.phone
    contact_phone: Mapped[str | None] = mapped_column(String(20), info={"personal": "personal", "grade": "general"})
    #: where it came from: trade fair, website, referral, ...
    source: Mapped[str | None] = mapped_column(String(100))
    #: new | contacted | qualified | disqualified | converted
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    converted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("crm_customer.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id", ondelete="SET NULL"))


class Opportunity(Base):
    """A sale being worked on (商机), moving through the stages of the pipeline (销售漏斗)."""

    __tablename__ = "crm_opportunity"
    __table_args__ = (Index("ix_crm_opportunity_stage_owner", "stage", "owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: prospecting → qualification → proposal → negotiation → won | lost
    stage: Mapped[str] = mapped_column(String(20))
    expected_revenue: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: per cent, set from the stage on every change (services.STAGE_PROBABILITY)
    probability: Mapped[int] = mapped_column(Integer)
    expected_close: Mapped[date | None] = mapped_column(Date)
    #: required when lost
    lost_reason: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StageChange(Base):
    """Who moved an opportunity to which stage, when (append-only)."""

    __tablename__ = "crm_stage_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("crm_opportunity.id", ondelete="CASCADE"), index=True)
    #: None for the opportunity's creation
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class Activity(Base):
    """A call, visit, email or meeting with a customer; with due_at and no done_at it is a follow-up to do."""

    __tablename__ = "crm_activity"
    __table_args__ = (Index("ix_crm_activity_follow_up", "done_at", "reminded_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: call | visit | email | meeting
    kind: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id", ondelete="CASCADE"),
                                                       index=True)
    subject: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: when the owner was reminded by mail (a follow-up is reminded once)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SatisfactionSurvey(Base):
    """One answer to a satisfaction survey (客户满意度): a score of 1-5 and/or an NPS answer of 0-10."""

    __tablename__ = "crm_satisfaction_survey"
    __table_args__ = (Index("ix_crm_satisfaction_survey_customer_day", "customer_id", "surveyed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id", ondelete="CASCADE"))
    score: Mapped[int | None] = mapped_column(Integer)
    #: "how likely are you to recommend us", 0-10
    nps: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    #: phone | email | wechat | visit | web
    channel: Mapped[str | None] = mapped_column(String(20))
    surveyed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

"""Reads for CRM pages, reports and the API: likely duplicates, customer search and detail with its timeline,
a rep's customers, the pipeline (销售漏斗) and forecast, and satisfaction averages and NPS."""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from difflib import SequenceMatcher
from json import dumps

from rapidfuzz import fuzz, process
from sqlalchemy import Text, cast, or_, select

from core import jsontext
from core.bulk import read_rows
from core.errors import NotFound
from erp.crm.models import (
    OPEN_STAGES,
    PERSONAL_FIELDS,
    STAGES,
    Activity,
    Contact,
    Customer,
    Opportunity,
    SatisfactionSurvey,
    StageChange,
)
from erp.crm.validation import SIMILAR_NAME_RATIO, SIMILAR_NAME_SCORE, company_name_key
from erp.masking import mask_data

CLOSED_STAGES = STAGES[4:]
CENT = Decimal("0.01")


def likely_duplicates(session, name_zh: str, *, phone: str | None = None, tax_number: str | None = None,
                      exclude_id: int | None = None) -> list[dict]:
    """Existing customers with a similar name (ratio ≥ 0.85 after normalising), the same phone or the same
    tax number (phone and tax number already normalised), most alike first; each with its reasons.

    Every customer's name key is read and scored in C by rapidfuzz (never below difflib's ratio), and only
    those passing are compared with difflib: after a migration of 10^5 customers, creating one stays quick."""
    key = company_name_key(name_zh)
    similar: dict[int, float] = {}
    if key:
        on_file = read_rows(session, select(Customer.id, Customer.name_key).where(Customer.name_key != ""))
        for name, _score, at in process.extract(key, [name for _, name in on_file], scorer=fuzz.ratio,
                                                score_cutoff=SIMILAR_NAME_SCORE, limit=None):
            ratio = _key_ratio(key, name)
            if ratio >= SIMILAR_NAME_RATIO:
                similar[on_file[at][0]] = ratio
    alike = [Customer.id.in_(similar)] if similar else []
    if phone:
        alike.append(Customer.phone == phone)
    if tax_number:
        alike.append(Customer.tax_number == tax_number)
    if not alike:
        return []
    found = []
    for row in session.execute(select(Customer.id, Customer.code, Customer.name_zh, Customer.name_key,
                                      Customer.phone, Customer.tax_number).where(or_(*alike))):
        if row.id == exclude_id:
            continue
        reasons = ["similar_name"] if row.id in similar else []
        if phone and row.phone == phone:
            reasons.append("same_phone")
        if tax_number and row.tax_number == tax_number:
            reasons.append("same_tax_number")
        if reasons:
            ratio = similar[row.id] if row.id in similar else \
                _key_ratio(key, row.name_key) if key and row.name_key else 0.0
            found.append({"id": row.id, "code": row.code, "name_zh": row.name_zh, "reasons": reasons,
                          "similarity": round(ratio, 3)})
    return sorted(found, key=lambda c: (-len(c["reasons"]), -c["similarity"], c["code"]))


def _key_ratio(key: str, other: str) -> float:
    return 1.0 if key == other else SequenceMatcher(None, key, other).ratio()


def search_customers(session, text: str | None = None, *, tag: str | None = None, tier: str | None = None,
                     rep: str | None = None, active: bool | None = True, limit: int = 50) -> list[dict]:
    """Customers whose name, code, tax number or phone contains `text`, filtered by tag, tier and rep."""
    query = select(Customer).order_by(Customer.code).limit(limit)
    if text and text.strip():
        needle = unicodedata.normalize("NFKC", text).strip()
        digits = "".join(c for c in needle if c.isdigit())
        conditions = [Customer.name_zh.contains(needle, autoescape=True),
                      Customer.name_en.ilike(f"%{_escape(needle)}%", escape="\\"),
                      Customer.code.ilike(f"%{_escape(needle)}%", escape="\\"),
                      Customer.tax_number == needle.upper().replace(" ", "")]
        if len(digits) >= 4:
            conditions.append(Customer.phone.contains(digits, autoescape=True))
        query = query.where(or_(*conditions))
    if tag:
        # tags are a JSON list: its text holds the tag as a JSON string, quotes included; written as UTF-8
        # (core.jsontext), or \u-escaped by earlier versions
        text = cast(Customer.tags, Text)
        query = query.where(or_(*(text.contains(spelling, autoescape=True)
                                  for spelling in {jsontext.dumps(tag.strip()), dumps(tag.strip())})))
    if tier:
        query = query.where(Customer.tier == tier)
    if rep:
        query = query.where(Customer.sales_rep == rep)
    if active is not None:
        query = query.where(Customer.active == active)
    return [customer_row(c) for c in session.scalars(query)]


def customers_of(session, rep: str, *, active: bool | None = True) -> list[dict]:
    """The customers a sales rep is in charge of."""
    return search_customers(session, rep=rep, active=active, limit=10_000)


def customer_row(customer: Customer) -> dict:
    return {"id": customer.id, "code": customer.code, "name_zh": customer.name_zh, "name_en": customer.name_en,
            "tax_number": customer.tax_number, "phone": customer.phone, "address": customer.address,
            "city": customer.city, "province": customer.province, "tier": customer.tier,
            "credit_limit": customer.credit_limit, "payment_terms_days": customer.payment_terms_days,
            "sales_rep": customer.sales_rep, "tags": list(customer.tags or []), "segment": customer.segment,
            "active": customer.active}


def customer_detail(session, customer_id: int) -> dict:
    """A customer with contacts (primary first), opportunities, satisfaction summary and its timeline:
    activities, stage changes and survey results in time order."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    contacts = session.scalars(select(Contact).where(Contact.customer_id == customer_id)
                               .order_by(Contact.is_primary.desc(), Contact.id))
    opportunities = list(session.scalars(select(Opportunity).where(Opportunity.customer_id == customer_id)
                                         .order_by(Opportunity.id)))
    return {**customer_row(customer),
            "contacts": [{"id": c.id, "contact_name": c.contact_name, "title": c.title, "mobile": c.mobile,
                          "email": c.email, "wechat_id": c.wechat_id, "is_primary": c.is_primary}
                         for c in contacts],
            "opportunities": [opportunity_row(o) for o in opportunities],
            "satisfaction": satisfaction(session, customer_id=customer_id),
            "timeline": timeline(session, customer_id, {o.id: o.title for o in opportunities})}


def opportunity_row(o: Opportunity) -> dict:
    return {"id": o.id, "customer_id": o.customer_id, "title": o.title, "stage": o.stage,
            "expected_revenue": o.expected_revenue, "probability": o.probability,
            "expected_close": o.expected_close, "lost_reason": o.lost_reason, "owner": o.owner}


def timeline(session, customer_id: int, titles: dict[int, str]) -> list[dict]:
    entries = []
    for a in session.scalars(select(Activity).where(Activity.customer_id == customer_id)):
        entries.append({"at": a.done_at or a.due_at or a.created_at, "type": "activity", "id": a.id,
                        "kind": a.kind, "subject": a.subject, "notes": a.notes, "owner": a.owner,
                        "due_at": a.due_at, "done_at": a.done_at, "opportunity_id": a.opportunity_id})
    if titles:
        for s in session.scalars(select(StageChange).where(StageChange.opportunity_id.in_(titles))):
            entries.append({"at": s.changed_at, "type": "stage_change", "id": s.id,
                            "opportunity_id": s.opportunity_id, "opportunity_title": titles[s.opportunity_id],
                            "from_stage": s.from_stage, "to_stage": s.to_stage, "by": s.changed_by,
                            "note": s.note})
    for r in session.scalars(select(SatisfactionSurvey).where(SatisfactionSurvey.customer_id == customer_id)):
        entries.append({"at": datetime.combine(r.surveyed_on, time(), UTC) if r.surveyed_on != r.created_at.date()
                        else r.created_at, "type": "satisfaction", "id": r.id, "score": r.score, "nps": r.nps,
                        "comment": r.comment, "channel": r.channel, "surveyed_on": r.surveyed_on})
    return sorted(entries, key=lambda e: (e["at"], e["type"], e["id"]))


def masked(data, may_see_personal: bool):
    """`data` as a viewer may see it: contacts' names, phones, emails and WeChat ids masked unless allowed."""
    return data if may_see_personal else mask_data(data, PERSONAL_FIELDS)


def pipeline(session, owner: str | None = None, *, include_closed: bool = False) -> dict:
    """Count, expected revenue and weighted revenue (× probability) per stage, with totals."""
    query = select(Opportunity.stage, Opportunity.expected_revenue, Opportunity.probability)
    if owner is not None:
        query = query.where(Opportunity.owner == owner)
    stages = OPEN_STAGES + (CLOSED_STAGES if include_closed else ())
    return _stage_sums(session.execute(query.where(Opportunity.stage.in_(stages))), stages)


def pipeline_by_owner(session, *, include_closed: bool = False) -> dict[str, dict]:
    """pipeline() for each owner (None: opportunities nobody owns)."""
    stages = OPEN_STAGES + (CLOSED_STAGES if include_closed else ())
    rows: dict[str | None, list] = defaultdict(list)
    for row in session.execute(select(Opportunity.owner, Opportunity.stage, Opportunity.expected_revenue,
                                      Opportunity.probability).where(Opportunity.stage.in_(stages))):
        rows[row.owner].append((row.stage, row.expected_revenue, row.probability))
    return {owner: _stage_sums(found, stages) for owner, found in sorted(rows.items(), key=lambda i: i[0] or "")}


def forecast(session, owner: str | None = None) -> list[dict]:
    """Open opportunities by month of expected close ("2026-04"; None: no date yet), weighted."""
    query = select(Opportunity.expected_close, Opportunity.expected_revenue, Opportunity.probability).where(
        Opportunity.stage.in_(OPEN_STAGES))
    if owner is not None:
        query = query.where(Opportunity.owner == owner)
    months: dict[str | None, list] = defaultdict(list)
    for row in session.execute(query):
        month = f"{row.expected_close:%Y-%m}" if row.expected_close else None
        months[month].append((row.expected_revenue, row.probability))
    return [{"month": month, **_sums(found)} for month, found in sorted(months.items(), key=lambda i: i[0] or "~")]


def _stage_sums(rows, stages) -> dict:
    by_stage: dict[str, list] = {stage: [] for stage in stages}
    for stage, amount, probability in rows:
        by_stage[stage].append((amount, probability))
    result = [{"stage": stage, **_sums(found)} for stage, found in by_stage.items()]
    return {"stages": result, **_sums([item for found in by_stage.values() for item in found])}


def _sums(items) -> dict:
    amount = sum((Decimal(a) for a, _ in items), Decimal("0"))
    weighted = sum((Decimal(a) * p / 100 for a, p in items), Decimal("0"))
    return {"count": len(items), "amount": amount.quantize(CENT),
            "weighted": weighted.quantize(CENT, rounding=ROUND_HALF_UP)}


def satisfaction(session, *, customer_id: int | None = None, since: date | None = None,
                 until: date | None = None) -> dict:
    """Responses, average score (1-5) and NPS (% promoters − % detractors) for one customer or all."""
    return _satisfaction_stats([(r.score, r.nps) for r in session.execute(
        _surveys(customer_id, since, until).with_only_columns(SatisfactionSurvey.score, SatisfactionSurvey.nps))])


def satisfaction_by_customer(session, *, since: date | None = None, until: date | None = None) -> list[dict]:
    groups: dict[int, list] = defaultdict(list)
    query = _surveys(None, since, until).with_only_columns(
        SatisfactionSurvey.customer_id, SatisfactionSurvey.score, SatisfactionSurvey.nps)
    for row in session.execute(query):
        groups[row.customer_id].append((row.score, row.nps))
    names = dict(session.execute(select(Customer.id, Customer.name_zh).where(Customer.id.in_(list(groups))))
                 .tuples().all()) if groups else {}
    return [{"customer_id": cid, "name_zh": names.get(cid), **_satisfaction_stats(found)}
            for cid, found in sorted(groups.items())]


def satisfaction_by_period(session, period: str = "month", *, customer_id: int | None = None,
                           since: date | None = None, until: date | None = None) -> list[dict]:
    """Per month ("2026-03") or quarter ("2026-Q1") of the survey date."""
    if period not in ("month", "quarter"):
        raise ValueError("period is month or quarter")
    groups: dict[str, list] = defaultdict(list)
    query = _surveys(customer_id, since, until).with_only_columns(
        SatisfactionSurvey.surveyed_on, SatisfactionSurvey.score, SatisfactionSurvey.nps)
    for row in session.execute(query):
        day = row.surveyed_on
        key = f"{day:%Y-%m}" if period == "month" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        groups[key].append((row.score, row.nps))
    return [{"period": key, **_satisfaction_stats(found)} for key, found in sorted(groups.items())]


def _surveys(customer_id, since, until):
    query = select(SatisfactionSurvey)
    if customer_id is not None:
        query = query.where(SatisfactionSurvey.customer_id == customer_id)
    if since is not None:
        query = query.where(SatisfactionSurvey.surveyed_on >= since)
    if until is not None:
        query = query.where(SatisfactionSurvey.surveyed_on <= until)
    return query


def _satisfaction_stats(answers: list[tuple[int | None, int | None]]) -> dict:
    scores = [s for s, _ in answers if s is not None]
    nps_answers = [n for _, n in answers if n is not None]
    promoters = sum(1 for n in nps_answers if n >= 9)
    detractors = sum(1 for n in nps_answers if n <= 6)
    return {
        "responses": len(answers),
        "average_score": (Decimal(sum(scores)) / len(scores)).quantize(CENT, rounding=ROUND_HALF_UP)
        if scores else None,
        "nps": (Decimal(100 * (promoters - detractors)) / len(nps_answers)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP) if nps_answers else None,
        "promoters": promoters, "passives": len(nps_answers) - promoters - detractors, "detractors": detractors,
    }


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

"""Reminder mails for follow-ups falling due (the periodic job `crm.follow_up_reminders`): one mail per
follow-up to its owner, in the owner's language, and the follow-up is marked so it is never reminded twice.
The mail names the customer's contact to call, masked unless the owner may see personal information."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core import clock
from erp.crm.models import PERSONAL_FIELDS, Activity, Contact, Customer, Opportunity
from notifications.outbox import enqueue
from notifications.personal import PersonalInfo

#: a follow-up is reminded once it falls due within this time (the job runs every 15 minutes)
REMIND_BEFORE = timedelta(minutes=30)
#: what the mail shows of the contact, labelled in both languages (each reader gets theirs)
CONTACT_LABELS = {"contact_name": "联系人 Contact", "title": "职务 Title", "mobile": "手机 Mobile",
                  "email": "邮箱 Email", "wechat_id": "微信 WeChat"}


def send_follow_up_reminders(session, now: datetime | None = None, *, limit: int = 500, config=None) -> dict:
    """Enqueue a `crm_follow_up` mail for each open follow-up due by now + REMIND_BEFORE not yet reminded.
    Rows are claimed with SKIP LOCKED on PostgreSQL, so two workers never remind the same follow-up."""
    now = now or clock.now()
    done = {"reminded": 0, "not_mailed": 0}
    for activity in session.scalars(_due(session, now + REMIND_BEFORE, limit)):
        mail = enqueue(session, "crm_follow_up", to_user=activity.owner, context=_context(session, activity),
                       dedupe_key=f"crm_follow_up:{activity.id}", config=config)
        activity.reminded_at = now
        done["reminded" if mail is not None else "not_mailed"] += 1  # no address, switched off, or sent before
    session.flush()
    return done


def _due(session, until: datetime, limit: int):
    query = (select(Activity)
             .where(Activity.done_at.is_(None), Activity.reminded_at.is_(None), Activity.due_at.is_not(None),
                    Activity.due_at <= until)
             .order_by(Activity.due_at, Activity.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


def _context(session, activity: Activity) -> dict:
    opportunity = session.get(Opportunity, activity.opportunity_id) if activity.opportunity_id else None
    customer_id = activity.customer_id or (opportunity.customer_id if opportunity else None)
    customer = session.get(Customer, customer_id) if customer_id else None
    context = {"activity_id": activity.id, "activity_kind": activity.kind, "subject": activity.subject,
               "customer_id": customer_id, "customer_name": customer.name_zh if customer else "—",
               "opportunity_title": opportunity.title if opportunity else None, "due_at": activity.due_at,
               "notes": activity.notes}
    contact = _contact_to_call(session, customer_id) if customer_id else None
    return {**context, "details": contact} if contact is not None else context


def _contact_to_call(session, customer_id: int) -> PersonalInfo | None:
    """The customer's primary contact (else the first one), as personal information of someone else."""
    contact = session.scalars(select(Contact).where(Contact.customer_id == customer_id)
                              .order_by(Contact.is_primary.desc(), Contact.id).limit(1)).first()
    if contact is None:
        return None
    return PersonalInfo("crm_contact", contact.id, {name: getattr(contact, name) for name in CONTACT_LABELS},
                        frozenset(PERSONAL_FIELDS), CONTACT_LABELS)

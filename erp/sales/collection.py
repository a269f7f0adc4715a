"""Collection (回款): telling the order-to-cash instance that waits on an invoice that money came in.

Whoever records a payment — the payments page, the API, the bank statement import — calls `announce_payment`
in the same transaction: the instance waiting for `payment_received` with that invoice number takes the
message; an invoice no process waits on (a manual invoice, an instance busy elsewhere) is simply not
announced, and the process reads the invoice's status when it next looks."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from engine.errors import InstanceNotActive, MessageNotDelivered
from erp.crm.models import Contact, Customer
from erp.crm.services import log_activity
from erp.finance.services import today
from erp.identity.queries import display_name
from erp.sales.fulfilment import find_invoice
from erp.sales.models import Payment
from erp.sales.payments import record_payment
from notifications.config import load_mail_config
from notifications.outbox import enqueue

#: the message the order-to-cash diagram waits for, correlated by the invoice number
PAYMENT_RECEIVED = "payment_received"


def announce_payment(session, engine, invoice, *, payment: str | None = None, user: str | None = None) -> list[int]:
    """Deliver `payment_received` for `invoice` (its number or id) after a payment was recorded; returns the
    ids of the instances that took it (none when no instance waits)."""
    found = find_invoice(session, invoice)
    payload = {"payment": payment, "invoice_status": found.status, "outstanding": str(found.outstanding)}
    try:
        delivered = engine.deliver_message(session, PAYMENT_RECEIVED, {"invoice": found.number}, payload, user=user)
    except (MessageNotDelivered, InstanceNotActive):
        return []
    return list(delivered.get("delivered_to") or [])


def announce_statement(session, engine, imported: dict, *, user: str | None = None) -> dict:
    """After `payments.import_bank_statement`: announce every matched row; adds "announced" (instance ids)
    to each matched row."""
    for row in imported["matched"]:
        row["announced"] = announce_payment(session, engine, row["invoice"], payment=row["payment"], user=user)
    return imported


# ---------------------------------------------------------------------- dunning (催款)

#: days overdue at which a dunning letter goes out: level 1, 2 and 3 (the third also escalates)
DUNNING_DAYS = (7, 15, 30)
#: after the last level, a further reminder every so many days until the invoice is paid
REMINDER_EVERY_DAYS = 30
#: letters go out in the morning, Beijing time
SEND_AT = time(9, 0)


def next_dunning_at(due_date: date, level: int) -> datetime:
    """When dunning letter `level + 1` is due for an invoice due on `due_date`: 09:00 Beijing time on the
    7th, 15th and 30th day overdue, then every 30 days."""
    if level < len(DUNNING_DAYS):
        days = DUNNING_DAYS[level]
    else:
        days = DUNNING_DAYS[-1] + REMINDER_EVERY_DAYS * (level - len(DUNNING_DAYS) + 1)
    return datetime.combine(due_date + timedelta(days=days), SEND_AT, tzinfo=BEIJING)


def collection_status(session, invoice, dunning_level: int = 0) -> dict:
    """Whether the invoice is paid, what is outstanding, and when the next dunning letter is due."""
    found = find_invoice(session, invoice)
    return {"invoice": found.number, "status": found.status, "paid": found.status == "paid",
            "outstanding": found.outstanding, "due_date": found.due_date,
            "next_dunning_at": next_dunning_at(found.due_date, int(dunning_level)).isoformat()}


def send_dunning(session, invoice, level: int, *, config=None) -> dict:
    """Write dunning letter `level` for an unpaid invoice to the outbox: to the customer's primary contact
    (or any contact with an address), in Chinese, and a copy to the sales rep. Each letter is written once
    (a repeated step writes nothing new). The letter is also logged on the customer's activity timeline."""
    found = find_invoice(session, invoice)
    customer = session.get(Customer, found.customer_id)
    config = config or load_mail_config()
    as_of = today()
    context = {"invoice": found.number, "invoice_id": found.id, "customer_name": customer.name_zh, "level": int(level),
               "issue_date": found.issue_date, "due_date": found.due_date,
               "days_overdue": max((as_of - found.due_date).days, 0), "gross_total": found.gross_total,
               "outstanding": found.outstanding, "company_name": config.company_name,
               "sales_rep_name": display_name(session, customer.sales_rep)}
    sent_to = []
    address = _customer_address(session, customer.id)
    if address and enqueue(session, "sales_dunning", to_email=address, locale="zh_CN",
                           context={**context, "copy": False}, config=config,
                           dedupe_key=f"sales_dunning:{found.number}:{level}:customer"):
        sent_to.append(address)
    if customer.sales_rep and enqueue(session, "sales_dunning", to_user=customer.sales_rep,
                                      context={**context, "copy": True}, config=config,
                                      dedupe_key=f"sales_dunning:{found.number}:{level}:rep"):
        sent_to.append(customer.sales_rep)
    if customer.sales_rep:
        log_activity(session, kind="email", subject=f"催款函（第 {level} 次）{found.number}",
                     owner=customer.sales_rep, customer_id=customer.id, done_at=clock.now(),
                     notes=f"逾期 {context['days_overdue']} 天，未收金额 ¥{found.outstanding:,.2f}"
                           + ("" if address else "；客户没有联系人邮箱，未发给客户"))
    return {"invoice": found.number, "level": int(level), "sent_to": sent_to, "customer_mailed": bool(address),
            "days_overdue": context["days_overdue"], "outstanding": found.outstanding}


def record_announced_payment(session, invoice, message: dict | None, *, by: str | None = None) -> dict:
    """A `payment_received` message taken by the process: when it names a payment already recorded (the
    payments page, the API, a bank statement) nothing is written; when it carries an amount (an integration
    sending `erp message` or POST /api/v1/messages) the payment is recorded, once per bank reference."""
    message = message or {}
    found = find_invoice(session, invoice)
    if message.get("payment"):
        return {"recorded": False, "payment": message["payment"], "status": found.status}
    if message.get("amount") in (None, ""):
        return {"recorded": False, "payment": None, "status": found.status}
    reference = (message.get("reference") or "").strip() or None
    if reference:
        earlier = session.scalar(select(Payment.number).where(Payment.invoice_id == found.id,
                                                              Payment.memo == reference))
        if earlier:
            return {"recorded": False, "payment": earlier, "status": found.status}
    received_on = message.get("received_on")
    payment = record_payment(session, found.number, str(message["amount"]),
                             received_on=date.fromisoformat(received_on) if received_on else None,
                             payer=message.get("payer"), memo=reference, by=by)
    return {"recorded": True, "payment": payment.number, "status": find_invoice(session, found.number).status}


def _customer_address(session, customer_id: int) -> str | None:
    return session.scalar(select(Contact.email).where(Contact.customer_id == customer_id,
                                                      Contact.email.is_not(None), Contact.email != "")
                          .order_by(Contact.is_primary.desc(), Contact.id).limit(1))

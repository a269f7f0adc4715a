"""Starting procurement (bpmn/procurement) for requisitions nobody started by hand: those raised from reorder
points and sales backorders. The periodic jobs `purchasing.reorder_requisitions` and
`purchasing.start_requisitions` (erp.wiring) call these."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import ProcessInstance
from erp.identity.queries import members_of
from erp.purchasing import services
from erp.purchasing.models import Requisition

PROCESS = "procurement"
#: the group whose members buy; the first of them is named requester of the requisitions the system raises
BUYERS = "purchasing"


def start_pending_requisitions(session, engine, *, limit: int = 50) -> list[str]:
    """Start procurement for every submitted requisition that has no instance yet (business key = the
    requisition number); returns their numbers. Rows are claimed with SKIP LOCKED on PostgreSQL, so two
    workers never start the same requisition twice."""
    started = select(ProcessInstance.business_key).where(ProcessInstance.process_key == PROCESS)
    query = (select(Requisition).where(Requisition.status == "submitted", Requisition.number.not_in(started))
             .order_by(Requisition.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Requisition)
    numbers = []
    for requisition in session.scalars(query).all():
        engine.start(session, PROCESS, {"requisition": requisition.number, "requester": requisition.requester},
                     business_key=requisition.number, user=requisition.requester)
        numbers.append(requisition.number)
    return numbers


def system_requester(session) -> str:
    """Who stands as requester of a requisition the system raises: the first buyer (a return for revision then
    reaches a person), else "system"."""
    buyers = sorted(members_of(session, [BUYERS]))
    return buyers[0] if buyers else "system"


def raise_reorder_requisitions(session, engine) -> dict:
    """The periodic job: requisitions for stock below its reorder points, and procurement started for every
    submitted requisition not yet started (also those raised for sales backorders)."""
    raised = services.requisition_for_reorder_points(session, requester=system_requester(session))
    return {"raised": [r.number for r in raised], "started": start_pending_requisitions(session, engine)}

"""Service-task operators for BPMN diagrams: what a process may read about a customer (`crm.customer_terms`).
Add "erp.crm.tasks" to erp.wiring.OPERATOR_MODULES when a diagram uses them."""
from __future__ import annotations

from core.errors import NotFound
from erp.crm.models import Customer


def customer_terms(ctx, customer_id: int) -> dict:
    """The customer's credit limit (CNY, as text), payment terms, tier and rep, for credit checks."""
    customer = ctx.session.get(Customer, int(customer_id))
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return {"customer_id": customer.id, "code": customer.code, "credit_limit": str(customer.credit_limit),
            "payment_terms_days": customer.payment_terms_days, "tier": customer.tier,
            "sales_rep": customer.sales_rep, "active": customer.active}


def register(registry) -> None:
    registry.register("crm.customer_terms", customer_terms)

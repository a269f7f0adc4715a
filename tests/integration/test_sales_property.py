"""Whatever sequence of sales operations happens, valid or refused, the books balance, stock stays
consistent and the receivable equals invoices − payments − credit notes."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound
from erp.finance.models import JournalLine
from erp.finance.queries import trial_balance
from erp.inventory.services import receive
from erp.sales import fulfilment, payments, services
from erp.sales.models import CreditNote, Invoice, Payment, SalesOrder
from tests.conftest import _empty
from tests.sales_data import customer, shop
from tests.stock_data import assert_stock_consistent

SKUS = ("A", "B", "S")
qty = st.integers(min_value=0, max_value=40)
line = st.fixed_dictionaries({"sku": st.sampled_from(SKUS), "quantity": qty,
                              "discount_percent": st.sampled_from(["0", "2.5", "10", "100"])})
operation = st.one_of(
    st.tuples(st.just("quote"), st.lists(line, min_size=1, max_size=3), st.sampled_from(["0", "5"])),
    st.tuples(st.just("order"), st.lists(line, min_size=1, max_size=3), st.sampled_from(["0", "7.5"])),
    st.tuples(st.just("reserve"), st.integers(0, 5)),
    st.tuples(st.just("deliver"), st.integers(0, 5), st.sampled_from(SKUS), qty),
    st.tuples(st.just("deliver_all"), st.integers(0, 5)),
    st.tuples(st.just("invoice"), st.integers(0, 5)),
    st.tuples(st.just("pay"), st.integers(0, 5), st.integers(1, 100000)),
    st.tuples(st.just("credit"), st.integers(0, 5), st.sampled_from(SKUS), qty, st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("close"), st.integers(0, 5)),
    st.tuples(st.just("receive"), st.sampled_from(SKUS), st.integers(1, 30)),
)


def run(session, op) -> None:
    kind, *args = op
    order_ids = session.scalars(select(SalesOrder.id).order_by(SalesOrder.id)).all()
    invoice_ids = session.scalars(select(Invoice.id).order_by(Invoice.id)).all()
    pick = lambda ids, i: ids[i % len(ids)] if ids else 0  # noqa: E731
    if kind == "quote":
        q = services.create_quotation(session, customer="C001", lines=args[0], discount_percent=args[1])
        services.set_quotation_status(session, q, "sent")
        services.set_quotation_status(session, q, "accepted")
        services.create_order_from_quotation(session, q)
    elif kind == "order":
        services.create_order(session, customer="C001", lines=args[0], discount_percent=args[1])
    elif kind == "reserve":
        services.reserve_order(session, pick(order_ids, args[0]))
    elif kind == "deliver":
        fulfilment.deliver(session, pick(order_ids, args[0]), [{"sku": args[1], "quantity": args[2]}])
    elif kind == "deliver_all":
        fulfilment.deliver(session, pick(order_ids, args[0]))
    elif kind == "invoice":
        fulfilment.invoice_order(session, pick(order_ids, args[0]))
    elif kind == "pay":
        payments.record_payment(session, pick(invoice_ids, args[0]), Decimal(args[1]).scaleb(-2))
    elif kind == "credit":
        fulfilment.credit_note(session, pick(invoice_ids, args[0]), [{"sku": args[1], "quantity": args[2]}],
                               return_to_stock=args[3], warehouse="BJ-01")
    elif kind == "cancel":
        services.cancel_order(session, pick(order_ids, args[0]))
    elif kind == "close":
        services.close_order(session, pick(order_ids, args[0]))
    else:
        receive(session, args[0], "BJ-01", args[1], unit_cost="7.77")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=14))
def test_any_sequence_of_sales_operations_keeps_the_books_and_stock_consistent(database, operations):
    _empty(database)
    with database.transaction() as session:
        shop(session, {"A": 30, "B": 5})
        customer(session)
    for op in operations:
        try:
            with database.transaction() as session:
                run(session, op)
        except (InvalidInput, NotFound):
            pass
    with database.transaction(readonly=True) as session:
        tb = trial_balance(session)
        assert tb["balanced"] and tb["total_debit"] == tb["total_credit"]
        for _, debit, credit in session.execute(select(JournalLine.entry_id, func.sum(JournalLine.debit),
                                                       func.sum(JournalLine.credit)).group_by(JournalLine.entry_id)):
            assert debit == credit
        assert_stock_consistent(session)
        receivable = {r["code"]: r["balance"] for r in tb["accounts"]}.get("1122", Decimal("0.00"))
        billed = session.scalar(select(func.coalesce(func.sum(Invoice.gross_total), 0)))
        paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)))
        credited = session.scalar(select(func.coalesce(func.sum(CreditNote.gross_total), 0)))
        assert receivable == Decimal(billed) - Decimal(paid) - Decimal(credited)
        for invoice in session.scalars(select(Invoice)):
            assert 0 <= invoice.paid <= invoice.gross_total and 0 <= invoice.credited <= invoice.gross_total

"""Whatever sequence of purchasing operations happens, valid or refused, every entry balances, stock stays
non-negative and consistent, AP equals the open invoices, and 1405 agrees with the stock.

The rounding rule for 1405: receipts put on 1405 exactly Σ line value (accepted quantity × PO price, to the
cent); the stock holds the same goods at a moving average cost kept to 4 places, so its value (Σ on hand ×
average cost, rounded once) differs from that sum by at most 1 分 per receipt line. Invoice price
differences, ordinary invoices' VAT and supplier credits are booked to 1405 without revaluing the stock, so
they are the only other 1405 postings."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound
from erp.finance.models import Account, JournalEntry, JournalLine
from erp.finance.queries import trial_balance
from erp.inventory.queries import stock_value
from erp.purchasing import invoicing, matching, payments, receiving
from erp.purchasing.models import GoodsReceipt, GoodsReceiptLine, PurchaseOrder, SupplierInvoice
from tests.conftest import _empty
from tests.purchasing_data import goods, order, supplier
from tests.stock_data import assert_stock_consistent

SKUS = ("A", "B")
cents = st.integers(min_value=1, max_value=5000)
operation = st.one_of(
    st.tuples(st.just("order"), st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 30), cents),
                                         min_size=1, max_size=2, unique_by=lambda x: x[0])),
    st.tuples(st.just("receive"), st.integers(0, 5), st.sampled_from(SKUS), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(st.just("invoice"), st.integers(0, 5), st.sampled_from(SKUS), st.integers(1, 20),
              st.integers(-10, 10), st.sampled_from(["special", "ordinary"])),
    st.tuples(st.just("match"), st.integers(0, 5), st.sampled_from(["accept", "dispute", "credit_note"])),
    st.tuples(st.just("credit"), st.integers(0, 5), cents),
    st.tuples(st.just("pay"), st.integers(0, 5), st.one_of(st.none(), cents)),
)


def run(session, op, counter) -> None:
    kind, *args = op
    order_ids = session.scalars(select(PurchaseOrder.id).order_by(PurchaseOrder.id)).all()
    bill_ids = session.scalars(select(SupplierInvoice.id).order_by(SupplierInvoice.id)).all()
    pick = lambda ids, i: ids[i % len(ids)] if ids else 0  # noqa: E731
    if kind == "order":
        order(session, [{"sku": sku, "quantity": qty, "estimated_unit_price": Decimal(price).scaleb(-2)}
                        for sku, qty, price in args[0]])
    elif kind == "receive":
        receiving.receive(session, pick(order_ids, args[0]), [{"sku": args[1], "quantity": args[2],
                                                               "rejected": args[3]}])
    elif kind == "invoice":
        po = receiving.find_order(session, pick(order_ids, args[0]))
        price = next((x.unit_price for x in po.lines
                      if receiving.skus_of(session, po)[x.product_id] == args[1]), Decimal("1.00"))
        counter[0] += 1
        invoicing.record_supplier_invoice(session, po, supplier_number=f"N{counter[0]}", kind=args[4], lines=[
            {"sku": args[1], "quantity": args[2],
             "unit_price": max(price * (100 + args[3]) / 100, Decimal(0)).quantize(Decimal("0.01"))}])
    elif kind == "match":
        bill = pick(bill_ids, args[0])
        if not matching.three_way_match(session, bill)["ok"]:
            invoicing.resolve_exception(session, bill, args[1])
    elif kind == "credit":
        counter[0] += 1
        invoicing.record_supplier_credit(session, pick(bill_ids, args[0]), supplier_number=f"C{counter[0]}",
                                         net=Decimal(args[1]).scaleb(-2))
    else:
        bill = pick(bill_ids, args[0])
        try:
            invoicing.approve_for_payment(session, bill)
        except InvalidInput:
            pass
        payments.pay_supplier(session, bill, None if args[1] is None else Decimal(args[1]).scaleb(-2))


def _balance(session, code: str, source_type: str | None = None) -> Decimal:
    query = (select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
             .join(Account, Account.id == JournalLine.account_id).where(Account.code == code))
    if source_type:
        query = query.join(JournalEntry, JournalEntry.id == JournalLine.entry_id).where(
            JournalEntry.source_type == source_type)
    return Decimal(str(session.scalar(query))).quantize(Decimal("0.01"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=14))
def test_any_sequence_of_purchasing_operations_keeps_the_books_and_stock_consistent(database, operations):
    _empty(database)
    with database.transaction() as session:
        goods(session)
        supplier(session)
    counter = [0]
    for op in operations:
        try:
            with database.transaction() as session:
                run(session, op, counter)
        except (InvalidInput, NotFound):
            pass
    with database.transaction(readonly=True) as session:
        tb = trial_balance(session)
        assert tb["balanced"]
        for _, debit, credit in session.execute(select(JournalLine.entry_id, func.sum(JournalLine.debit),
                                                       func.sum(JournalLine.credit)).group_by(JournalLine.entry_id)):
            assert debit == credit
        assert_stock_consistent(session)
        received = Decimal(str(session.scalar(select(func.coalesce(func.sum(GoodsReceipt.value), 0)))))
        assert _balance(session, "1405", "purchase_receipt") == received
        lines = session.scalar(select(func.count()).select_from(GoodsReceiptLine))
        assert abs(stock_value(session) - received) <= Decimal("0.01") * (lines + 1)
        others = sum((_balance(session, "1405", s) for s in ("purchase_invoice", "purchase_credit")), Decimal(0))
        assert _balance(session, "1405") == received + others
        owed = sum((x.outstanding for x in session.scalars(select(SupplierInvoice)
                                                           .where(SupplierInvoice.status != "disputed"))),
                   Decimal("0.00"))
        assert -_balance(session, "2202") == owed
        for invoice in session.scalars(select(SupplierInvoice)):
            assert 0 <= invoice.paid + invoice.credited <= invoice.gross_total

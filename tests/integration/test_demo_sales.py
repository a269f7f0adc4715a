"""The demo's order-to-cash instances: each stands at the step it is meant to show, none is stuck in an
incident, the overdue invoice has been dunned, and loading again starts nothing new."""
from __future__ import annotations

from sqlalchemy import func, select

from engine import queries
from engine.models import ProcessInstance
from erp.demo import load_demo
from erp.demo_sales import SCENARIOS
from erp.finance import queries as books
from erp.finance.export import journal_text
from notifications.models import OutboxMessage
from tests.integration.test_finance_reports import _hledger, hledger_balances


def _instances(session):
    return session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "order_to_cash")
                           .order_by(ProcessInstance.id)).all()


def test_the_demo_leaves_order_to_cash_at_every_step(tx, product_engine, monkeypatch):
    monkeypatch.setattr("erp.demo.APPROVALS", [])
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        shown = [queries.show(product_engine, session, i.id) for i in _instances(session)]
        assert len(shown) == len(SCENARIOS)
        assert [s for s in shown if s["incidents"]] == []
        steps = {goal: s for (_c, _l, _d, _a, goal), s in zip(SCENARIOS, shown, strict=True)}
        assert [t["element_id"] for t in steps["discount_review"]["tasks"]] == ["review"]
        assert [t["element_id"] for t in steps["credit_review"]["tasks"]] == ["credit_review"]
        assert [t["element_id"] for t in steps["delivery"]["tasks"]] == ["delivery"]
        assert [m["message"] for m in steps["backorder"]["subscriptions"]] == ["stock_available"]
        assert [m["message"] for m in steps["awaiting_payment"]["subscriptions"]] == ["payment_received"]
        assert steps["overdue"]["data"]["dunning_level"] == 2  # 25 days overdue: the 7- and 15-day letters
        assert steps["closed"]["status"] == "completed"
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.kind == "sales_dunning")) == 4  # customer and rep, twice
        assert books.trial_balance(session)["balanced"]
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        assert len(_instances(session)) == len(SCENARIOS)


def test_hledger_agrees_with_the_books_after_the_demo_order_to_cash(tx, product_engine, monkeypatch, tmp_path):
    hledger = _hledger()
    monkeypatch.setattr("erp.demo.APPROVALS", [])
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        journal, tb = journal_text(session), books.trial_balance(session)
    ours = {r["code"]: r["debit"] - r["credit"] for r in tb["accounts"]}
    theirs, total = hledger_balances(hledger, journal, tmp_path)
    assert theirs == ours and total == 0 and tb["balanced"]
    assert "sales_invoice/INV-" in journal and "sales_payment/RC-" in journal  # the process's own postings

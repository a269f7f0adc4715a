"""The demo's procurement: its suppliers, and instances standing at each step the demo is meant to show —
including the order that replenishes the demo's sales backorder — with nothing stuck and the books balanced."""
from __future__ import annotations

from sqlalchemy import func, select

from engine import queries
from engine.models import ProcessInstance
from erp.demo import load_demo
from erp.demo_purchasing import SUPPLIERS
from erp.finance import queries as books
from erp.purchasing.models import Requisition, Supplier


def test_the_demo_leaves_procurement_at_every_step(tx, product_engine, monkeypatch):
    monkeypatch.setattr("erp.demo.APPROVALS", [])
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        instances = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "procurement")
                                    .order_by(ProcessInstance.id)).all()
        shown = {i.business_key: queries.show(product_engine, session, i.id) for i in instances}
        assert [k for k, s in shown.items() if s["incidents"]] == []
        steps = sorted(t["element_id"] for s in shown.values() for t in s["tasks"])
        assert steps == ["compare_quotes", "match_exception", "receive_goods", "review"]
        assert [s["status"] for s in shown.values()].count("completed") == 1
        backorder = session.scalar(select(Requisition).where(Requisition.source == "backorder"))
        assert [t["element_id"] for t in shown[backorder.number]["tasks"]] == ["receive_goods"]
        assert session.scalar(select(func.count()).select_from(Supplier)) == len(SUPPLIERS)
        assert books.trial_balance(session)["balanced"]
        count = len(instances)
    with tx() as session:
        load_demo(session, product_engine)
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)
                              .where(ProcessInstance.process_key == "procurement")) == count

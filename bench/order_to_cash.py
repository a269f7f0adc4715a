"""`erp bench o2c`: order-to-cash end to end against the real domain, through the engine, per backend.

Per backend (SQLite file, and PostgreSQL when reachable), in a fresh migrated database with the product's
diagrams, operators and forms: a catalog of goods in stock and a few customers; then `--orders` orders, each
as four transactions as the web app would run them — create the quotation, start order-to-cash (discount
and credit checks, order, reservation), complete the warehouse's delivery (shipment, cost of sales, invoice
and its posting) and record the customer's payment (posting, message to the waiting instance, close).

Prints `name: value` lines: orders per second, the median milliseconds of each step, the SQL statements of
each step (transaction control not counted) and `late_vs_early_ratio`, the median time of a whole order over
the last tenth of the run against the first tenth: the books and order tables grow with every order, so a
ratio near 1 says no step slows down with history (the machine is noisy: compare ratios, not times).
"""
from __future__ import annotations

import statistics
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bench.engine import _counting, _databases
from core.db import Database
from core.migrate import upgrade
from engine.deploy import read_paths
from engine.models import HumanTask
from engine.queries import show
from engine.runtime import Engine
from erp.catalog.services import create_price_list, create_product, set_price
from erp.crm.services import create_customer
from erp.finance.services import ensure_chart
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.inventory.services import create_warehouse, receive
from erp.sales import collection, payments, services
from erp.sales.fulfilment import find_invoice
from erp.wiring import build_registry, script_globals, user_exists
from forms import FormCatalog

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("quote", "start", "deliver", "pay")
PRODUCTS = [("BEN-RICE", "0.09", "128.00", "85.00"), ("BEN-OIL", "0.09", "139.00", "95.00"),
            ("BEN-TOWEL", "0.13", "49.00", "32.00")]
CUSTOMERS = 5


def run(*, orders: int, postgres_url: str | None, out) -> dict:
    figures = {}
    for name, url, cleanup in _databases(postgres_url, out):
        try:
            figures.update(_measure(name, url, orders, out))
        finally:
            cleanup()
    return figures


def _measure(name: str, url: str, orders: int, out) -> dict:
    upgrade(url)
    database = Database(url)
    engine = Engine(build_registry(), FormCatalog(ROOT / "forms"), groups_of=groups_of,
                    script_globals=script_globals(), user_exists=user_exists)
    with database.transaction() as session:
        _seed(session, engine, orders)
    for i in range(3):  # warm caches and connections
        _order(database, engine, i)
    timings: list[dict[str, float]] = [_order(database, engine, i) for i in range(orders)]
    counts = _order(database, engine, orders, counting=True)
    totals = [sum(t.values()) for t in timings]
    tenth = max(len(totals) // 10, 1)
    figures = {f"{name}.orders_per_s": round(len(totals) / sum(totals), 1)}
    for step in STEPS:
        figures[f"{name}.{step}_ms_p50"] = round(statistics.median(t[step] for t in timings) * 1000, 2)
    for step in STEPS:
        figures[f"{name}.sql_per_{step}"] = counts[step]
    figures[f"{name}.late_vs_early_ratio"] = round(statistics.median(totals[-tenth:])
                                                   / statistics.median(totals[:tenth]), 3)
    for key, value in figures.items():
        out(f"{key}: {value}")
    database.dispose()
    return figures


def _seed(session, engine, orders: int) -> None:
    engine.deploy(session, read_paths([ROOT / "bpmn"]))
    ensure_chart(session)
    create_warehouse(session, code="BEN", name_zh="基准仓", name_en="Bench warehouse")
    create_price_list(session, name="基准价", is_default=True)
    for sku, vat, price, cost in PRODUCTS:
        create_product(session, sku=sku, name_zh=sku, name_en=sku, unit="件", unit_en="piece", vat_rate=vat)
        set_price(session, "基准价", sku, price)
        receive(session, sku, "BEN", 10 * (orders + 10), unit_cost=cost)
    for i in range(CUSTOMERS):
        create_customer(session, name_zh=f"基准客户{i}有限公司", code=f"BEN-C{i}", tier="A",
                        credit_limit=Decimal("100000000"), payment_terms_days=30, sales_rep="bench_rep", by="bench")
    for username, group in (("bench_rep", "sales"), ("bench_warehouse", "warehouse")):
        ensure_user(session, username, username, groups=[group])


def _order(database, engine, i: int, counting: bool = False) -> dict:
    """One order through the four steps; seconds per step (or, counting, SQL statements per step)."""
    result = {}

    def step(name, fn):
        began = time.perf_counter()
        if counting:
            with _counting(database) as statements:
                value = fn()
            result[name] = len(statements)
        else:
            value = fn()
            result[name] = time.perf_counter() - began
        return value

    def quote():
        with database.transaction() as session:
            lines = [{"sku": sku, "quantity": 1 + (i + n) % 7} for n, (sku, *_rest) in enumerate(PRODUCTS)]
            return services.create_quotation(session, customer=f"BEN-C{i % CUSTOMERS}", lines=lines,
                                             discount_percent="2", sales_rep="bench_rep").number

    number = step("quote", quote)

    def start():
        with database.transaction() as session:
            return engine.start(session, "order_to_cash", {"quotation": number, "requester": "bench_rep"},
                                business_key=number, user="bench_rep").id

    instance_id = step("start", start)

    with database.transaction(readonly=True) as session:  # what the task page shows the warehouse
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "open"))
        lines = [{"sku": x["sku"], "quantity": Decimal(x["quantity"])}
                 for x in show(engine, session, instance_id)["data"]["delivery_lines"]]

    def deliver():
        with database.transaction() as session:
            return engine.complete(session, task_id, {"delivery_lines": lines}, "bench_warehouse")

    step("deliver", deliver)
    with database.transaction(readonly=True) as session:
        invoice = show(engine, session, instance_id)["data"]["invoice"]
        amount = find_invoice(session, invoice).outstanding

    def pay():
        with database.transaction() as session:
            payment = payments.record_payment(session, invoice, amount, by="bench")
            delivered = collection.announce_payment(session, engine, invoice, payment=payment.number)
            assert delivered == [instance_id], delivered

    step("pay", pay)
    return result

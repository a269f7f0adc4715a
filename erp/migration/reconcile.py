"""Reconciliation (对账): after an import, what the source said is compared with what the system now holds —
the count of records found by their legacy id, and control totals per entity (open items against the
partners' ledger balances, stock quantity and value, opening balances against the trial balance). Takes a
session, never commits."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from core.errors import Conflict
from erp.catalog.models import Product
from erp.catalog.money import to_cents, to_decimal
from erp.crm.models import Contact, Customer
from erp.finance.models import Account, JournalEntry, JournalLine
from erp.finance.queries import trial_balance
from erp.inventory.queries import stock
from erp.migration.importer import refs, resolve
from erp.migration.models import MigrationRow, MigrationRun
from erp.purchasing.models import Supplier
from erp.sales.models import SalesOrder, SalesOrderLine

RECONCILABLE = ("imported", "reconciled", "signed_off")


def reconcile(session, run: MigrationRun) -> dict:
    """Compare run `run` with the system; the result is stored in run.reconciliation and the run is
    "reconciled" (ok is False when anything differs: the differences say what)."""
    if run.status not in RECONCILABLE:
        raise Conflict(f"migration run {run.id} is {run.status}: only an imported run is reconciled")
    rows = list(session.scalars(select(MigrationRow).where(MigrationRow.run_id == run.id,
                                                           MigrationRow.imported.is_(True))
                                .order_by(MigrationRow.id)))
    checks, differences = [], []
    _counts(session, run, rows, checks, differences)
    CONTROL_TOTALS.get(run.entity, lambda *_: None)(session, rows, checks, differences)
    result = {"ok": not differences and all(Decimal(c["difference"]) == 0 for c in checks),
              "checks": checks, "differences": differences}
    run.reconciliation, run.status = result, "reconciled"
    session.flush()
    return result


def _check(checks: list, name: str, source, system) -> None:
    difference = Decimal(str(system)) - Decimal(str(source))
    checks.append({"name": name, "source": str(source), "system": str(system), "difference": str(difference)})


def _key(run: MigrationRun, row: MigrationRow) -> str:
    if run.entity == "sales_orders":
        return str(row.values.get("order_external_id") or row.values["external_id"])
    return str(row.values["external_id"])


# ---------------------------------------------------------------------- counts

def _counts(session, run: MigrationRun, rows, checks, differences) -> None:
    """Every imported legacy id has its reference, and the reference points to a record that exists."""
    wanted: dict[str, MigrationRow] = {}
    for row in rows:
        wanted.setdefault(_key(run, row), row)
    found = refs(session, run.entity, wanted)
    existing = TARGETS[run.entity](session, set(found.values()))
    present = 0
    for external_id, row in wanted.items():
        target = found.get(external_id)
        if target is None:
            differences.append({"check": "records", "row_no": row.row_no, "external_id": external_id,
                                "target_id": row.target_id, "message": "no reference to the imported record"})
        elif target not in existing:
            differences.append({"check": "records", "row_no": row.row_no, "external_id": external_id,
                                "target_id": target, "message": "the imported record no longer exists"})
        else:
            present += 1
    _check(checks, "records", len(wanted), present)


def _existing(column):
    def existing(session, keys: set[str]) -> set[str]:
        keys, found = sorted(keys), set()
        for start in range(0, len(keys), 900):
            found.update(str(k) for k in session.scalars(select(column).where(column.in_(
                [_typed(column, k) for k in keys[start:start + 900]]))))
        return found
    return existing


def _typed(column, key: str):
    return int(key) if column is Contact.id else key


def _stock_levels(session, keys: set[str]) -> set[str]:
    return {f"{row.sku}@{row.warehouse}" for row in stock(session)} & keys


TARGETS = {"customers": _existing(Customer.code), "contacts": _existing(Contact.id),
           "products": _existing(Product.sku), "suppliers": _existing(Supplier.code), "stock": _stock_levels,
           "sales_orders": _existing(SalesOrder.number), "receivables": _existing(JournalEntry.number),
           "payables": _existing(JournalEntry.number), "opening_balances": _existing(JournalEntry.number)}


# ---------------------------------------------------------------------- control totals

def _stock_totals(session, rows, checks, differences) -> None:
    levels = {f"{r.sku}@{r.warehouse}": r for r in stock(session)}
    quantity = value = Decimal(0)
    system_quantity = system_value = Decimal(0)
    for row in rows:
        migrated = to_decimal(row.values.get("quantity") or 0, 3).quantize(Decimal("0.001"))
        quantity += migrated
        value += to_cents(migrated * to_decimal(row.values.get("unit_cost") or 0, 4))
        level = levels.get(row.target_id)
        on_hand = level.on_hand if level is not None else Decimal(0)
        system_quantity += on_hand
        system_value += level.value if level is not None else Decimal(0)
        if on_hand != migrated:
            differences.append({"check": "stock_quantity", "row_no": row.row_no,
                                "external_id": row.values["external_id"], "target_id": row.target_id,
                                "source": str(migrated), "system": str(on_hand),
                                "message": "on hand differs from the migrated quantity"})
    places = Decimal("0.001")
    _check(checks, "stock_quantity", quantity.quantize(places), system_quantity.quantize(places))
    _check(checks, "stock_value", value, system_value)


def _open_item_totals(partner: str, account: str, sign: int):
    def totals(session, rows, checks, differences) -> None:
        source: dict[str, Decimal] = defaultdict(Decimal)
        codes = resolve(session, f"{partner}s", (row.values.get(partner) for row in rows))
        for row in rows:
            source[codes[str(row.values.get(partner))]] += to_decimal(row.values.get("amount") or 0, 2)
        system = _partner_balances(session, account, set(source), sign)
        for code in sorted(source):
            if source[code] != system.get(code, Decimal("0.00")):
                differences.append({"check": f"{account}_balance", "partner_code": code, "source": str(source[code]),
                                    "system": str(system.get(code, Decimal("0.00"))),
                                    "message": f"the partner's {account} balance differs from the migrated items"})
        _check(checks, f"{account}_balance", sum(source.values(), Decimal("0.00")),
               sum(system.values(), Decimal("0.00")))
    return totals


def _partner_balances(session, account: str, partners: set[str], sign: int) -> dict[str, Decimal]:
    query = (select(JournalLine.partner_code, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
             .join(Account, Account.id == JournalLine.account_id)
             .where(Account.code == account, JournalLine.partner_code.in_(sorted(partners)))
             .group_by(JournalLine.partner_code))
    return {code: (Decimal(str(d or 0)) - Decimal(str(c or 0))).quantize(Decimal("0.01")) * sign
            for code, d, c in session.execute(query)}


def _opening_totals(session, rows, checks, differences) -> None:
    source: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        source[str(row.values.get("account")).strip()] += (to_decimal(row.values.get("debit") or 0, 2)
                                                          - to_decimal(row.values.get("credit") or 0, 2))
    balances = trial_balance(session)
    system = {a["code"]: a["debit"] - a["credit"] for a in balances["accounts"]}
    for code in sorted(source):
        if source[code] != system.get(code, Decimal("0.00")):
            differences.append({"check": "trial_balance", "account": code, "source": str(source[code]),
                                "system": str(system.get(code, Decimal("0.00"))),
                                "message": "the account's balance (debit − credit) differs from the migrated one"})
    _check(checks, "opening_debits", sum((v for v in source.values() if v > 0), Decimal("0.00")),
           sum((system.get(c, Decimal(0)) for c, v in source.items() if v > 0), Decimal("0.00")))
    _check(checks, "trial_balance_balanced", 1, int(balances["balanced"]))


def _sales_order_totals(session, rows, checks, differences) -> None:
    numbers = {row.target_id for row in rows}
    lines = session.scalar(select(func.count()).select_from(SalesOrderLine).join(SalesOrder)
                           .where(SalesOrder.number.in_(sorted(numbers)))) if numbers else 0
    _check(checks, "order_lines", len(rows), lines or 0)


CONTROL_TOTALS = {"stock": _stock_totals, "receivables": _open_item_totals("customer", "1122", 1),
                  "payables": _open_item_totals("supplier", "2202", -1), "opening_balances": _opening_totals,
                  "sales_orders": _sales_order_totals}

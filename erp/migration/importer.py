"""The import runner (导入): an approved run's valid rows written to the business tables in batches, one
transaction per batch, each row upserted by its legacy id. It is an entry point like a CLI command (it
commits): a crash or kill leaves no half batch, and running it again continues with the first row not yet
imported; importing the same data again updates and creates nothing."""
from __future__ import annotations

from collections import defaultdict
from contextlib import nullcontext
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text, update

from core import clock
from core.bulk import collector_paused, insert_rows
from core.errors import Conflict, InvalidInput, NotFound
from erp.audit.services import record as audit
from erp.catalog import services as catalog
from erp.catalog.models import PriceList, Product
from erp.catalog.money import to_cents, to_decimal
from erp.crm import services as crm
from erp.crm.models import Contact, Customer
from erp.crm.validation import company_name_key
from erp.finance.services import post_entry, today
from erp.inventory import services as inventory
from erp.inventory.models import StockLevel, Warehouse
from erp.migration.models import BATCH_SIZE, ExternalRef, ImportedRow, MigrationRow, MigrationRun
from erp.migration.staged import (
    INSERT_COLUMNS,
    CustomerBatch,
    CustomerBatches,
    PreparedCustomer,
    customer_fields,
    next_rows,
)
from erp.projects import kpis
from erp.projects.models import Project
from erp.purchasing import services as purchasing
from erp.purchasing.models import Supplier
from erp.sales import services as sales

USER = "migration"
OPENING = "3104"  # 利润分配: the other side of every opening item (期初)
DEFAULT_PRICE_LIST = "标准价格表"
CONTACT_FIELDS = ("title", "mobile", "email", "wechat_id")


def run_import(database, run_id: int, *, batch_size: int = BATCH_SIZE, progress=None,
               stop_after_batches: int | None = None) -> dict:
    """Import run `run_id` (approved, or importing when resumed); returns {"imported", "skipped", "batches"}.
    `progress(done, total)` is called after each committed batch."""
    with database.transaction() as session:
        run = _locked_run(session, run_id)
        if run.status == "imported":
            return {"imported": 0, "skipped": run.errors, "batches": 0}
        if run.status not in ("approved", "importing"):
            raise Conflict(f"migration run {run_id} is {run.status}: only an approved run is imported")
        run.status, run.error = "importing", None
        total = run.ok + run.warnings
        skipped = run.errors
    entity, number = _entity_and_last_batch(database, run_id)
    size = 10**9 if entity == "opening_balances" else max(int(batch_size), 1)
    imported = batches = 0
    memo: dict = {}  # what the batches of this call learn once and share (CustomerDirectory, CustomerBatches)
    if entity == "customers":
        memo["batches"] = CustomerBatches(database.url, run_id, size, total=total)
    with collector_paused(), memo.get("batches") or nullcontext():
        while stop_after_batches is None or batches < stop_after_batches:
            try:
                with database.transaction() as session:
                    done = _import_batch(session, _locked_run(session, run_id), size, number + batches + 1, memo)
            except (InvalidInput, NotFound, Conflict) as exc:
                _fail(database, run_id, exc)
                raise
            if done is None:
                break
            imported, batches = imported + done[0], batches + 1
            if batches & (batches - 1) == 0 and batches.bit_length() % 2:  # after batch 1, 4, 16, ...: the
                # tables grew since the planner looked
                _refresh_statistics(database, READS_BACK.get(entity, ()), staged=batches == 1)
            if progress is not None:
                progress(done[1], total)
        else:  # stopped by stop_after_batches (a test's crash): the run stays "importing"
            return {"imported": imported, "skipped": skipped, "batches": batches}
    with database.transaction() as session:
        _finish(session, _locked_run(session, run_id))
    return {"imported": imported, "skipped": skipped, "batches": batches}


def _refresh_statistics(database, columns, *, staged: bool) -> None:
    """PostgreSQL plans each lookup from table statistics gathered when the table was small: without a fresh
    ANALYZE an import of 10^5 rows scans the legacy-id table on every batch (quadratic). Only the columns the
    import looks rows up by are analysed (a whole customer table of 10^5 rows: 0.25 s, its keys: 0.07 s), and
    the staged rows, which do not change while they are imported, once (`staged`). SQLite needs none."""
    with database.transaction() as session:
        if session.bind.dialect.name != "postgresql":
            return
        keys = [*((MigrationRow.run_id, MigrationRow.id) if staged else ()), ImportedRow.row_id,
                ExternalRef.entity, ExternalRef.external_id, *columns]
        quote = session.bind.dialect.identifier_preparer.quote
        tables: dict[str, list[str]] = defaultdict(list)
        for column in keys:
            tables[quote(column.table.name)].append(quote(column.name))
        for table, names in tables.items():
            session.execute(text(f"ANALYZE {table} ({', '.join(names)})"))


def _entity_and_last_batch(database, run_id: int) -> tuple[str, int]:
    with database.transaction(readonly=True) as session:
        entity = session.scalar(select(MigrationRun.entity).where(MigrationRun.id == run_id))
        last = session.scalar(select(func.max(ImportedRow.batch))
                              .join(MigrationRow, ImportedRow.row_id == MigrationRow.id)
                              .where(MigrationRow.run_id == run_id))
        return entity, last or 0


def _locked_run(session, run_id: int) -> MigrationRun:
    run = session.scalar(select(MigrationRun).where(MigrationRun.id == run_id).with_for_update())
    if run is None:
        raise NotFound(f"no migration run {run_id}")
    return run


def _import_batch(session, run: MigrationRun, size: int, number: int, memo: dict) -> tuple[int, int] | None:
    """Import the next rows of `run`; (rows imported, rows of the run imported so far) or None when done."""
    if run.status != "importing":
        raise Conflict(f"migration run {run.id} is {run.status}, no longer importing")
    if run.entity == "customers":
        batch = memo["batches"].next(session)
        if batch is None:
            return None
        if "customers" not in memo:
            memo["customers"] = CustomerDirectory(session)
        rows = batch.rows
        targets = write_customers(session, run, batch, directory=memo["customers"])
    else:
        rows = next_rows(session, run.id, run.entity, size, after=memo.get("after", 0))
        if not rows:
            return None
        # every row up to the last of the first `size` is taken (an order's further lines may follow it)
        memo["after"] = rows[min(len(rows), size) - 1].id
        targets = WRITERS[run.entity](session, run, rows)
    insert_rows(session, ImportedRow.__table__, ("row_id", "batch", "target_id"),
                [(row.id, number, targets[row.id]) for row in rows])
    run.imported += len(rows)
    run.heartbeat_at = clock.now()
    return len(rows), run.imported


def _fail(database, run_id: int, exc: Exception) -> None:
    with database.transaction() as session:
        run = _locked_run(session, run_id)
        run.status, run.error = "failed", str(exc)[:4000]


def _finish(session, run: MigrationRun) -> None:
    run.status, run.imported_at = "imported", clock.now()
    rate = Decimal(run.errors * 100) / Decimal(run.total) if run.total else Decimal(0)
    for project in session.scalars(select(Project).where(Project.status == "active").order_by(Project.id)):
        kpis.record(session, project, "migration_error_rate", rate.quantize(Decimal("0.0001")), source="migration")


# ---------------------------------------------------------------------- external references

def refs(session, entity: str, external_ids) -> dict[str, str]:
    """external id → target key, for those of `external_ids` already imported."""
    ids = sorted({str(e) for e in external_ids if e not in (None, "")})
    found: dict[str, str] = {}
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        found.update(session.execute(select(ExternalRef.external_id, ExternalRef.target_id).where(
            ExternalRef.entity == entity, ExternalRef.external_id.in_(ids[start:start + 900]))).all())
    return found


def _remember(session, run: MigrationRun, entity: str, targets: dict[str, str], known: dict[str, str]) -> None:
    """Write the references not yet known (external id → target key); a changed key is updated."""
    now = clock.now()
    insert_rows(session, ExternalRef.__table__, ("entity", "external_id", "target_id", "run_id", "created_at"),
                [(entity, e, t, run.id, now) for e, t in targets.items() if e not in known])
    for external_id, target in targets.items():
        if external_id in known and known[external_id] != target:
            session.execute(update(ExternalRef).where(ExternalRef.entity == entity,
                                                      ExternalRef.external_id == external_id)
                            .values(target_id=target, run_id=run.id))


def resolve(session, entity: str, values) -> dict[str, str]:
    """Each referenced value → the target key: through migration_external_ref, else the value is the key."""
    values = {str(v) for v in values if v not in (None, "")}
    found = refs(session, entity, values)
    return {v: found.get(v, v) for v in values}


def _external_id(row: MigrationRow) -> str:
    return str(row.values["external_id"])


def _pick(values: dict, names) -> dict:
    return {name: values[name] for name in names if name in values}


def _yes(value) -> bool:
    return str(value).strip().lower() in ("yes", "y", "true", "1", "是") if value is not None else False


def _day(value) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------------- master data

class CustomerDirectory:
    """What an import of customers knows of the customers on file: legacy id → code, tax number → code, the
    codes taken and the last C-number. Read once per import and kept up to date by its batches, so a batch
    loads only the customers it updates instead of probing the tables for each of its rows (on PostgreSQL
    10^5 index probes per run cost more than writing the rows)."""

    def __init__(self, session):
        self.refs: dict[str, str] = dict(session.execute(
            select(ExternalRef.external_id, ExternalRef.target_id).where(ExternalRef.entity == "customers")).all())
        on_file = session.execute(select(Customer.code, Customer.tax_number)).all()
        self.codes: set[str] = {code for code, _ in on_file}
        self.taxes: dict[str, str] = {tax: code for code, tax in on_file if tax}
        self.number = _last_customer_number(session)


def write_customers(session, run: MigrationRun, batch: CustomerBatch, *,
                    directory: CustomerDirectory | None = None) -> dict[int, str]:
    """Known legacy ids (or an existing customer with the same tax number) are updated through
    crm.update_customer. New customers, checked by crm's own rules as the batch was prepared, are created
    together: create_customer compares each new name with every customer on file, which validation has done
    for the run already and which would make a large import quadratic."""
    directory = directory or CustomerDirectory(session)
    rows = batch.rows
    known = {r.external_id: directory.refs[r.external_id] for r in rows if r.external_id in directory.refs}
    taxes = {r.tax_number: directory.taxes[r.tax_number] for r in rows
             if r.external_id not in known and r.tax_number in directory.taxes}
    by_code = {c.code: c for c in _in(session, Customer, Customer.code, {*known.values(), *taxes.values()})}
    by_tax = {tax: by_code[code] for tax, code in taxes.items() if code in by_code}
    targets, created, result = {}, [], {}
    number, now = directory.number, clock.now()  # one creation time per batch (one transaction)
    staged: dict[int, dict] = {}

    def fields(row: PreparedCustomer) -> dict:  # few rows update or merge: their values are read when met
        if not staged:
            staged.update(batch.values_of([r.id for r in rows]))
        return customer_fields(staged[row.id])

    for row in rows:
        existing = by_code.get(known.get(row.external_id)) or by_tax.get(row.tax_number)
        if isinstance(existing, list):  # created earlier in this batch (the file repeats it): merged
            _merge_new_customer(existing, fields(row))
        elif existing is not None:
            crm.update_customer(session, existing.id, by=USER, **fields(row))
        else:
            code = row.code or f"C-{number + len(created) + 1:06d}"
            if code in by_code or code in directory.codes:
                raise Conflict(f"customer code {code} is taken")
            existing = _new_customer(row, code, now)
            created.append(existing)
            if existing[_TAX]:
                by_tax[existing[_TAX]] = existing
        code, tax = (existing[_CODE], existing[_TAX]) if isinstance(existing, list) else \
            (existing.code, existing.tax_number)
        by_code[code] = existing
        targets[row.external_id] = result[row.id] = code
        if tax:
            directory.taxes[tax] = code
    if created:
        # plain rows in one bulk write: the ORM's unit of work costs more than the insert itself here
        insert_rows(session, Customer.__table__, INSERT_COLUMNS, created)
        audit(session, "migration.customers_created", actor=USER, target_type="migration_run", target_id=run.id,
              after={"codes": [c[_CODE] for c in created]})
    _remember(session, run, "customers", targets, known)
    directory.refs.update(targets)
    directory.codes.update(c[_CODE] for c in created)
    directory.number = number + len(created)
    return result


def _new_customer(prepared: PreparedCustomer, code: str, now) -> list:
    """A new customer's row (INSERT_COLUMNS) as a list: a later row of the batch may merge into it."""
    if isinstance(prepared.new, InvalidInput):
        raise prepared.new
    return [code, now, USER, *prepared.new]


def _merge_new_customer(row: list, fields: dict) -> None:
    merged = dict(zip(INSERT_COLUMNS, row, strict=True))
    merged.update(crm._customer_values(fields, partial=True))
    merged["name_key"] = company_name_key(merged["name_zh"])
    row[:] = [merged[c] for c in INSERT_COLUMNS]


_CODE, _TAX = INSERT_COLUMNS.index("code"), INSERT_COLUMNS.index("tax_number")


def _last_customer_number(session) -> int:
    """The highest C-000123 number (through the code's index; crm's LIKE query reads every customer)."""
    codes = session.scalars(select(Customer.code).where(Customer.code.between("C-000000", "C-999999"))
                            .order_by(Customer.code.desc()).limit(20))
    return max((int(c[2:]) for c in codes if len(c) == 8 and c[2:].isdigit()), default=0)


def _in(session, model, column, keys) -> list:
    keys = sorted({k for k in keys if k})
    return [row for start in range(0, len(keys), 900)
            for row in session.scalars(select(model).where(column.in_(keys[start:start + 900])))]


def write_contacts(session, run: MigrationRun, rows: list[MigrationRow]) -> dict[int, str]:
    known = refs(session, "contacts", (_external_id(r) for r in rows))
    customers = resolve(session, "customers", (r.values.get("customer") for r in rows))
    ids = dict(session.execute(select(Customer.code, Customer.id)
                               .where(Customer.code.in_(set(customers.values())))).all())
    targets, result = {}, {}
    for row in rows:
        values, external_id = row.values, _external_id(row)
        customer_id = ids.get(customers.get(str(values.get("customer"))))
        if customer_id is None:
            raise NotFound(f"row {row.row_no}: no customer {values.get('customer')}")
        contact = session.get(Contact, int(known[external_id])) if external_id in known else None
        if contact is None:
            contact = crm.add_contact(session, customer_id, contact_name=values.get("contact_name"),
                                      is_primary=_yes(values.get("is_primary")), **_pick(values, CONTACT_FIELDS))
        else:
            contact.customer_id, contact.contact_name = customer_id, values.get("contact_name") or contact.contact_name
            for name, value in _pick(values, CONTACT_FIELDS).items():
                if value is not None:
                    setattr(contact, name, value)
        targets[external_id] = result[row.id] = str(contact.id)
    session.flush()
    _remember(session, run, "contacts", targets, known)
    return result


def write_products(session, run: MigrationRun, rows: list[MigrationRow]) -> dict[int, str]:
    known = refs(session, "products", (_external_id(r) for r in rows))
    skus = {r.id: known.get(_external_id(r)) or str(r.values.get("sku")).strip() for r in rows}
    existing = {p.sku for p in _in(session, Product, Product.sku, skus.values())}
    price_list = _default_price_list(session)
    targets, result = {}, {}
    for row in rows:
        values, sku = row.values, skus[row.id]
        fields = {k: v for k, v in _pick(values, catalog.PRODUCT_FIELDS).items() if v is not None}
        if "stocked" in fields:
            fields["stocked"] = _yes(fields["stocked"])
        if sku in existing:
            catalog.update_product(session, sku, **fields)
        else:
            fields.setdefault("name_en", fields.get("name_zh"))
            fields.setdefault("unit_en", fields.get("unit"))
            catalog.create_product(session, sku=sku, **fields)
            existing.add(sku)
        price = values.get("list_price")
        if price not in (None, ""):
            catalog.set_price(session, price_list, sku, price)
        targets[_external_id(row)] = result[row.id] = sku
    _remember(session, run, "products", targets, known)
    return result


def _default_price_list(session) -> str:
    name = session.scalar(select(PriceList.name).where(PriceList.is_default.is_(True)))
    if name is None:
        name = catalog.create_price_list(session, name=DEFAULT_PRICE_LIST, is_default=True).name
    return name


def write_suppliers(session, run: MigrationRun, rows: list[MigrationRow]) -> dict[int, str]:
    known = refs(session, "suppliers", (_external_id(r) for r in rows))
    by_code = {s.code: s for s in _in(session, Supplier, Supplier.code, known.values())}
    taxes = [r.values.get("tax_number") for r in rows if _external_id(r) not in known]
    by_tax = {s.tax_number: s for s in _in(session, Supplier, Supplier.tax_number, taxes)}
    targets, result = {}, {}
    for row in rows:
        fields = {k: v for k, v in _pick(row.values, purchasing.SUPPLIER_FIELDS).items() if v is not None}
        if "qualified_until" in fields:
            fields["qualified_until"] = _day(fields["qualified_until"])
        if "payment_terms_days" in fields:
            fields["payment_terms_days"] = int(Decimal(str(fields["payment_terms_days"])))
        supplier = by_code.get(known.get(_external_id(row))) or by_tax.get(fields.get("tax_number"))
        if supplier is not None:
            purchasing.update_supplier(session, supplier, by=USER, **fields)
        else:
            code = str(row.values["code"]).strip().upper() if row.values.get("code") else None
            supplier = purchasing.create_supplier(session, by=USER, code=code, **fields)
            if row.values.get("contact_name"):
                purchasing.add_supplier_contact(session, supplier.id, contact_name=row.values["contact_name"],
                                                mobile=row.values.get("mobile"), email=row.values.get("email"),
                                                is_primary=True)
            if supplier.tax_number:
                by_tax[supplier.tax_number] = supplier
        by_code[supplier.code] = supplier
        targets[_external_id(row)] = result[row.id] = supplier.code
    _remember(session, run, "suppliers", targets, known)
    return result


# ---------------------------------------------------------------------- stock and documents

def write_stock(session, run: MigrationRun, rows: list[MigrationRow]) -> dict[int, str]:
    """On hand becomes the migrated quantity (a receipt at the given unit cost, or a count adjustment); the
    change of stock value is posted once per batch: Dr 1405 库存商品 / Cr 3104 (期初)."""
    known = refs(session, "stock", (_external_id(r) for r in rows))
    skus = resolve(session, "products", (r.values.get("sku") for r in rows))
    default_warehouse = session.scalar(select(Warehouse.code).order_by(Warehouse.id).limit(1))
    targets, result, value = {}, {}, Decimal(0)
    for row in rows:
        sku, place = skus[str(row.values.get("sku"))], row.values.get("warehouse") or default_warehouse
        before = _level_value(session, sku, place)
        quantity = to_decimal(row.values.get("quantity") or 0, 3)
        on_hand = before[0]
        if quantity > on_hand:
            inventory.receive(session, sku, place, quantity - on_hand, unit_cost=row.values.get("unit_cost"),
                              reference=("migration_run", run.id), by=USER, note="期初库存 数据迁移")
        elif quantity < on_hand:
            inventory.adjust(session, sku, place, quantity, "期初库存 数据迁移", by=USER)
        value += _level_value(session, sku, place)[1] - before[1]
        targets[_external_id(row)] = result[row.id] = f"{sku}@{place}"
    if value:
        _post_opening(session, today(), [{"account": "1405", "debit": value}], "debit", value,
                      f"期初库存 数据迁移 #{run.id}", run)
    _remember(session, run, "stock", targets, known)
    return result


def _level_value(session, sku: str, warehouse: str) -> tuple[Decimal, Decimal]:
    level = session.execute(select(StockLevel.on_hand, StockLevel.average_cost)
                            .join(Product, Product.id == StockLevel.product_id)
                            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                            .where(Product.sku == sku, Warehouse.code == warehouse)).first()
    if level is None:
        return Decimal(0), Decimal("0.00")
    return level.on_hand, to_cents(level.on_hand * level.average_cost)


def write_sales_orders(session, run: MigrationRun, rows: list[MigrationRow]) -> dict[int, str]:
    """One open sales order per legacy order number (its rows are the lines), created by sales.create_order;
    an order imported before is left as it is."""
    orders: dict[str, list[MigrationRow]] = defaultdict(list)
    for row in rows:
        orders[str(row.values.get("order_external_id") or row.values["external_id"])].append(row)
    known = refs(session, "sales_orders", orders)
    customers = resolve(session, "customers", (r.values.get("customer") for r in rows))
    skus = resolve(session, "products", (r.values.get("sku") for r in rows))
    targets, result = {}, {}
    for external_id, lines in orders.items():
        number = known.get(external_id)
        if number is None:
            first = lines[0].values
            order = sales.create_order(
                session, customer=customers[str(first.get("customer"))], by=USER,
                order_date=_day(first.get("order_date")), sales_rep=first.get("sales_rep") or None,
                lines=[{"sku": skus[str(r.values.get("sku"))], "quantity": r.values.get("quantity"),
                        "unit_price": r.values.get("unit_price"),
                        "discount_percent": r.values.get("discount_percent") or "0"} for r in lines])
            number = order.number
        targets[external_id] = number
        result.update({r.id: number for r in lines})
    _remember(session, run, "sales_orders", targets, known)
    return result


def write_receivables(session, run, rows):
    return _open_items(session, run, rows, "receivables", "customer", "1122")


def write_payables(session, run, rows):
    return _open_items(session, run, rows, "payables", "supplier", "2202")


def _open_items(session, run: MigrationRun, rows: list[MigrationRow], entity: str, partner: str,
                account: str) -> dict[int, str]:
    """Open items not yet posted, one entry per batch and document date: each item a partner line with its
    due date on 1122 (debit) or 2202 (credit), against 3104 期初; an item posted before is left as it is."""
    known = refs(session, entity, (_external_id(r) for r in rows))
    partners = resolve(session, f"{partner}s", (r.values.get(partner) for r in rows))
    result = {r.id: known[_external_id(r)] for r in rows if _external_id(r) in known}
    by_date: dict[date, list[MigrationRow]] = defaultdict(list)
    for row in rows:
        if _external_id(row) not in known:
            by_date[_day(row.values.get("document_date")) or today()].append(row)
    side = "debit" if account == "1122" else "credit"
    targets = {}
    for day, items in sorted(by_date.items()):
        lines = [_partner_line(account, side, row, partner, partners[str(row.values.get(partner))])
                 for row in items]
        total = sum((to_decimal(row.values.get("amount") or 0, 2) for row in items), Decimal(0))
        entry = _post_opening(session, day, lines, side, total,
                              f"期初{'应收' if side == 'debit' else '应付'}账款 数据迁移 #{run.id}", run)
        targets.update({_external_id(r): entry.number for r in items})
        result.update({r.id: entry.number for r in items})
    _remember(session, run, entity, targets, known)
    return result


def _partner_line(account: str, side: str, row: MigrationRow, partner_type: str, partner_code: str) -> dict:
    values = row.values
    text = " ".join(str(v) for v in (values.get("document_no"), values.get("description")) if v)
    return {"account": account, side: to_decimal(values.get("amount") or 0, 2), "partner_type": partner_type,
            "partner_code": partner_code, "due_date": _day(values.get("due_date")),
            "description": text or "期初 数据迁移"}


def _post_opening(session, day: date, lines: list[dict], side: str, total: Decimal, description: str,
                  run: MigrationRun):
    """`lines` on `side` (a negative amount moves to the other side) against 3104 期初 for `total`."""
    other = "credit" if side == "debit" else "debit"
    for line in lines:
        if line[side] < 0:
            line[other] = -line.pop(side)
    lines.append({"account": OPENING, other: total} if total >= 0 else {"account": OPENING, side: -total})
    return post_entry(session, date=day, lines=lines, description=description, user=USER,
                      source=("migration_run", run.id))


def write_opening_balances(session, run: MigrationRun, rows: list[MigrationRow]) -> dict[int, str]:
    """All of a run's balances as one journal entry; an unbalanced set is refused as a whole."""
    known = refs(session, "opening_balances", (_external_id(r) for r in rows))
    result = {r.id: known[_external_id(r)] for r in rows if _external_id(r) in known}
    new = [r for r in rows if _external_id(r) not in known]
    if not new:
        return result
    lines = []
    for row in new:
        values = row.values
        line = {"account": str(values.get("account")).strip(),
                "debit": to_decimal(values.get("debit") or 0, 2), "credit": to_decimal(values.get("credit") or 0, 2),
                "description": values.get("description") or "期初余额 数据迁移"}
        if values.get("partner_code"):
            line.update(partner_type=values.get("partner_type"), partner_code=values["partner_code"],
                        due_date=_day(values.get("due_date")))
        lines.append(line)
    debit, credit = sum(line["debit"] for line in lines), sum(line["credit"] for line in lines)
    if debit != credit:
        raise InvalidInput(f"the opening balances do not balance: debits {debit}, credits {credit}",
                           {"lines": [f"debits {debit} and credits {credit} differ by {debit - credit}"]})
    when = _day(new[0].values.get("date"))
    entry = post_entry(session, date=when or today(), lines=lines, description=f"期初余额 数据迁移 #{run.id}",
                       user=USER, source=("migration_run", run.id))
    result.update({r.id: entry.number for r in new})
    _remember(session, run, "opening_balances", {_external_id(r): entry.number for r in new}, known)
    return result


#: the columns each entity's import looks its records up by (analysed as they grow)
READS_BACK = {"customers": (Customer.code, Customer.tax_number), "contacts": (Customer.code, Contact.id),
              "products": (Product.sku,), "suppliers": (Supplier.code, Supplier.tax_number),
              "stock": (StockLevel.product_id, StockLevel.warehouse_id)}

WRITERS = {"customers": write_customers, "contacts": write_contacts, "products": write_products,
           "suppliers": write_suppliers, "stock": write_stock, "sales_orders": write_sales_orders,
           "receivables": write_receivables, "payables": write_payables,
           "opening_balances": write_opening_balances}

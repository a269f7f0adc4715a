"""Changing purchasing master data and requisitions: suppliers and their contacts and qualification, purchase
requisitions (manual, from reorder points, from backordered sales orders), and finding documents. Take a
session, never commit. RFQs are in rfqs.py, orders in orders.py, receipts in receiving.py, supplier invoices
in invoicing.py and matching.py, payments in payments.py."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, update

from core import clock
from core.errors import InvalidInput, NotFound
from erp.audit.services import changes, record
from erp.catalog.models import Product
from erp.catalog.money import to_cents
from erp.codes import checked_code, next_code
from erp.crm.validation import normalise_credit_code, normalise_mobile, normalise_phone
from erp.inventory.models import StockLevel, Warehouse
from erp.inventory.queries import below_reorder_point
from erp.purchasing.models import (
    QUALIFICATIONS,
    PurchaseOrder,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
    Supplier,
    SupplierContact,
    SupplierInvoice,
)
from erp.sales import pricing
from erp.sales.models import SalesOrder

SUPPLIER_FIELDS = ("name_zh", "name_en", "tax_number", "phone", "address", "city", "province", "category",
                   "qualification", "qualified_until", "payment_terms_days", "bank_name", "bank_account", "buyer")
REQUISITION_MOVES = {  # status → the statuses set_requisition_status may move it to
    "draft": ("cancelled",),
    "submitted": ("approved", "rejected", "cancelled"),
    "approved": ("cancelled",),
}
OPEN_REQUISITION = ("draft", "submitted", "approved")
OPEN_ORDER = ("open", "partially_received")
SERVICES_REFUSED = "services are not purchased through procurement yet"


# ---------------------------------------------------------------------- suppliers

def create_supplier(session, *, name_zh: str, by: str | None = None, code: str | None = None,
                    **fields) -> Supplier:
    """A new supplier, pending qualification unless `qualification` is given."""
    values = _supplier_values({"name_zh": name_zh, **fields})
    code = _new_code(session) if code is None else _checked_code(session, code)
    supplier = Supplier(code=code, qualification="pending", payment_terms_days=30, created_at=clock.now(),
                        created_by=by)
    for name, value in values.items():
        setattr(supplier, name, value)
    session.add(supplier)
    session.flush()
    record(session, "purchasing.supplier_created", actor=by, target_type="supplier", target_id=supplier.id,
           after={"code": code, **{k: v for k, v in values.items() if k != "bank_account"}})
    return supplier


def update_supplier(session, supplier, *, by: str | None = None, **fields) -> Supplier:
    """Change what is given; the change is written to the audit log (the bank account only as changed)."""
    supplier = find_supplier(session, supplier)
    values = _supplier_values(fields, partial=True)
    before = {name: getattr(supplier, name) for name in values}
    for name, value in values.items():
        setattr(supplier, name, value)
    old, new = changes(before, values)
    for hidden in ("bank_account",):
        if hidden in new:
            old[hidden], new[hidden] = "***", "***(changed)"
    if new:
        record(session, "purchasing.supplier_changed", actor=by, target_type="supplier", target_id=supplier.id,
               before=old, after=new)
    session.flush()
    return supplier


def add_supplier_contact(session, supplier_id, *, contact_name: str, title: str | None = None,
                         mobile: str | None = None, email: str | None = None,
                         is_primary: bool = False) -> SupplierContact:
    supplier = find_supplier(session, supplier_id)
    errors: dict[str, list[str]] = {}
    if not (contact_name or "").strip():
        errors["contact_name"] = ["required"]
    mobile = _checked(errors, "mobile", normalise_mobile, mobile)
    if email and ("@" not in email or " " in email.strip()):
        errors["email"] = ["not an email address"]
    pricing.refuse_if(errors, "the contact is not valid")
    if is_primary:
        session.execute(update(SupplierContact).where(SupplierContact.supplier_id == supplier.id)
                        .values(is_primary=False))
    contact = SupplierContact(supplier_id=supplier.id, contact_name=contact_name.strip(), title=title,
                              mobile=mobile, email=email.strip() if email else None, is_primary=is_primary)
    session.add(contact)
    session.flush()
    session.expire(supplier, ["contacts"])
    return contact


def set_qualification(session, supplier, qualification: str, until: date | None = None) -> Supplier:
    """Qualify, suspend or disqualify a supplier (仅合格供应商可询价、下单)."""
    supplier = find_supplier(session, supplier)
    if qualification not in QUALIFICATIONS:
        raise InvalidInput(f"a qualification is one of {', '.join(QUALIFICATIONS)}",
                           {"qualification": ["unknown"]})
    if until is not None and until < _today():
        raise InvalidInput("a qualification cannot end in the past", {"until": ["today or later"]})
    supplier.qualification, supplier.qualified_until = qualification, until
    session.flush()
    return supplier


def is_qualified(supplier: Supplier, on: date | None = None) -> bool:
    on = on or _today()
    return supplier.qualification == "qualified" and (supplier.qualified_until is None
                                                      or supplier.qualified_until >= on)


def primary_email(session, supplier: Supplier) -> str | None:
    """The primary contact's address, else any contact's."""
    return session.scalar(select(SupplierContact.email).where(
        SupplierContact.supplier_id == supplier.id, SupplierContact.email.is_not(None), SupplierContact.email != "")
        .order_by(SupplierContact.is_primary.desc(), SupplierContact.id).limit(1))


# ---------------------------------------------------------------------- requisitions

def create_requisition(session, *, requester: str, lines, department: str | None = None,
                       needed_by: date | None = None, note: str | None = None, source: str = "manual",
                       source_reference: str | None = None, status: str = "draft") -> Requisition:
    """A draft requisition. `lines`: [{sku, quantity, warehouse?, estimated_unit_price?}]; the warehouse
    defaults to the first active one, the price to the product's last PO price, else its average cost in
    stock, else 0; the VAT rate is the product's."""
    errors: dict[str, list[str]] = {}
    if not (requester or "").strip():
        errors["requester"] = ["required"]
    if source not in ("manual", "reorder_point", "backorder"):
        errors["source"] = ["manual, reorder_point or backorder"]
    checked = _requisition_lines(session, lines, errors)
    pricing.refuse_if(errors, "the requisition was not saved")
    today = _today()
    requisition = Requisition(number=pricing.next_number(session, Requisition, "REQ", today),
                              requester=requester.strip(), department=department, source=source,
                              source_reference=source_reference, needed_by=needed_by, status=status, note=note,
                              created_at=clock.now())
    total = Decimal("0.00")
    for no, (product, qty, price, warehouse_id) in enumerate(checked, start=1):
        requisition.lines.append(RequisitionLine(line_no=no, product_id=product.id, quantity=qty,
                                                 estimated_unit_price=price, warehouse_id=warehouse_id,
                                                 vat_rate=product.vat_rate))
        total += pricing.line_amounts(qty, price, product.vat_rate).gross
    requisition.estimated_total = total
    session.add(requisition)
    session.flush()
    return requisition


def submit_requisition(session, requisition) -> Requisition:
    """Hand a draft (or a rejected, revised) requisition in for approval."""
    requisition = find_requisition(session, requisition)
    if requisition.status not in ("draft", "rejected"):
        raise InvalidInput(f"requisition {requisition.number} is {requisition.status}",
                           {"status": [f"not allowed from {requisition.status}"]})
    requisition.status = "submitted"
    session.flush()
    return requisition


def set_requisition_status(session, requisition, status: str) -> Requisition:
    """Approve, reject or cancel; "ordered" is set by orders.create_order only."""
    requisition = find_requisition(session, requisition)
    if status not in REQUISITION_MOVES.get(requisition.status, ()):
        raise InvalidInput(f"requisition {requisition.number} is {requisition.status} and cannot become {status}",
                           {"status": [f"not allowed from {requisition.status}"]})
    requisition.status = status
    session.flush()
    return requisition


def requisition_for_reorder_points(session, *, requester: str = "system") -> list[Requisition]:
    """One submitted requisition per warehouse for the products below their reorder point that nothing open
    (a requisition or a purchase order) is already bringing in; quantity: the reorder quantity."""
    wanted: dict[str, list[dict]] = {}
    for row in below_reorder_point(session):
        product = session.scalar(select(Product).where(Product.sku == row.sku))
        warehouse_id = session.scalar(select(Warehouse.id).where(Warehouse.code == row.warehouse))
        if not product.stocked or _on_its_way(session, product.id, warehouse_id):
            continue
        wanted.setdefault(row.warehouse, []).append({"sku": row.sku, "quantity": row.reorder_quantity,
                                                     "warehouse": row.warehouse})
    made = []
    for warehouse, lines in wanted.items():
        reference = f"{warehouse}/{','.join(x['sku'] for x in lines)}"[:200]
        made.append(create_requisition(session, requester=requester, lines=lines, source="reorder_point",
                                       source_reference=reference, status="submitted",
                                       note="低于再订货点 below the reorder point"))
    return made


def requisition_for_backorder(session, order, *, requester: str = "system") -> Requisition | None:
    """A submitted requisition for what a sales order still lacks (ordered − delivered − reserved of its
    stocked products); None when nothing is short or one is already open for that order."""
    found = _sales_order(session, order)
    if _open_for_reference(session, "backorder", found.number):
        return None
    stocked = {p.id: p for p in session.scalars(select(Product).where(
        Product.id.in_([x.product_id for x in found.lines]), Product.stocked.is_(True)))}
    lines = [{"sku": stocked[x.product_id].sku, "quantity": x.quantity - x.delivered - x.reserved,
              "warehouse": _warehouse_for(session, x.product_id)}
             for x in found.lines if x.product_id in stocked and x.quantity - x.delivered - x.reserved > 0]
    if not lines:
        return None
    return create_requisition(session, requester=requester, lines=lines, source="backorder",
                              source_reference=found.number, status="submitted",
                              note=f"销售订单 {found.number} 缺货 backorder")


# ---------------------------------------------------------------------- finding

def find_supplier(session, supplier) -> Supplier:
    if isinstance(supplier, Supplier):
        return supplier
    key = supplier.strip() if isinstance(supplier, str) else supplier
    query = select(Supplier).where(Supplier.id == int(key) if _is_id(key) else Supplier.code == str(key).upper())
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"no supplier {supplier}")
    return found


def find_requisition(session, requisition, *, lock: bool = False) -> Requisition:
    return find(session, Requisition, requisition, "requisition", lock)


def find_order(session, order, *, lock: bool = False) -> PurchaseOrder:
    return find(session, PurchaseOrder, order, "purchase order", lock)


def find_supplier_invoice(session, invoice, *, lock: bool = False) -> SupplierInvoice:
    return find(session, SupplierInvoice, invoice, "supplier invoice", lock)


def find(session, model, key, label: str, lock: bool = False):
    """A document by itself, its id (int or digits) or its number."""
    if isinstance(key, model):
        if lock:
            session.refresh(key, with_for_update=True)
        return key
    query = select(model).where(model.id == int(key) if _is_id(key) else model.number == str(key).strip())
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no {label} {key}")
    return found


def _is_id(key) -> bool:
    return (isinstance(key, int) and not isinstance(key, bool)) or (isinstance(key, str) and key.strip().isdigit())


# ---------------------------------------------------------------------- helpers

def _today() -> date:
    from erp.finance.services import today

    return today()


def last_po_price(session, product_id: int, supplier_id: int | None = None) -> Decimal | None:
    """The unit price on the latest purchase order line for the product (from that supplier, if given)."""
    query = (select(PurchaseOrderLine.unit_price).join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
             .where(PurchaseOrderLine.product_id == product_id, PurchaseOrder.status != "cancelled")
             .order_by(PurchaseOrder.order_date.desc(), PurchaseOrderLine.id.desc()).limit(1))
    if supplier_id is not None:
        query = query.where(PurchaseOrder.supplier_id == supplier_id)
    return session.scalar(query)


def _estimated_price(session, product_id: int, warehouse_id: int) -> Decimal:
    price = last_po_price(session, product_id)
    if price is not None:
        return price
    cost = session.scalar(select(StockLevel.average_cost).where(StockLevel.product_id == product_id,
                                                                StockLevel.average_cost > 0)
                          .order_by((StockLevel.warehouse_id == warehouse_id).desc(), StockLevel.id).limit(1))
    return to_cents(cost) if cost is not None else Decimal("0.00")


def _requisition_lines(session, lines, errors) -> list[tuple[Product, Decimal, Decimal, int]]:
    if not isinstance(lines, (list, tuple)) or not lines:
        errors["lines"] = ["give at least one line of {sku, quantity}"]
        return []
    checked, seen = [], set()
    for i, line in enumerate(lines):
        product = session.scalar(select(Product).where(Product.sku == line.get("sku")))
        qty = pricing.number(line.get("quantity"), 3, f"lines[{i}].quantity", errors)
        warehouse_id = _warehouse_id(session, line.get("warehouse"), f"lines[{i}].warehouse", errors)
        if product is None:
            errors.setdefault(f"lines[{i}].sku", []).append(f"no product with SKU {line.get('sku')}")
            continue
        if not product.stocked:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{product.sku}: {SERVICES_REFUSED}")
        if not product.active:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{product.sku} is no longer bought")
        if (product.id, warehouse_id) in seen:
            errors.setdefault(f"lines[{i}].sku", []).append(f"{product.sku} is already on another line")
        seen.add((product.id, warehouse_id))
        price = line.get("estimated_unit_price")
        if price is not None:
            price = pricing.number(price, 2, f"lines[{i}].estimated_unit_price", errors, positive=False)
            if price is not None and price < 0:
                errors.setdefault(f"lines[{i}].estimated_unit_price", []).append("must not be negative")
        elif warehouse_id is not None:
            price = _estimated_price(session, product.id, warehouse_id)
        if qty is not None and price is not None and warehouse_id is not None:
            checked.append((product, qty, price, warehouse_id))
    return checked


def _warehouse_id(session, code, field: str, errors) -> int | None:
    if code:
        found = session.scalar(select(Warehouse.id).where(Warehouse.code == code))
        if found is None:
            errors.setdefault(field, []).append(f"no warehouse {code}")
        return found
    found = session.scalar(select(Warehouse.id).where(Warehouse.active.is_(True)).order_by(Warehouse.code).limit(1))
    if found is None:
        errors.setdefault(field, []).append("no warehouse exists")
    return found


def _warehouse_for(session, product_id: int) -> str | None:
    """Where a backordered product is needed: the warehouse with its reorder point, else the default one."""
    from erp.inventory.models import ReorderPoint

    return session.scalar(select(Warehouse.code).join(ReorderPoint, ReorderPoint.warehouse_id == Warehouse.id)
                          .where(ReorderPoint.product_id == product_id).order_by(Warehouse.code).limit(1))


def _on_its_way(session, product_id: int, warehouse_id: int) -> bool:
    """An open requisition line or an open PO line already covers this product in this warehouse."""
    requested = session.scalar(
        select(func.count()).select_from(RequisitionLine)
        .join(Requisition, Requisition.id == RequisitionLine.requisition_id)
        .where(RequisitionLine.product_id == product_id, RequisitionLine.warehouse_id == warehouse_id,
               Requisition.status.in_(OPEN_REQUISITION)))
    ordered = session.scalar(
        select(func.count()).select_from(PurchaseOrderLine)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrderLine.product_id == product_id, PurchaseOrderLine.warehouse_id == warehouse_id,
               PurchaseOrder.status.in_(OPEN_ORDER), PurchaseOrderLine.received < PurchaseOrderLine.quantity))
    return bool(requested or ordered)


def _open_for_reference(session, source: str, reference: str) -> bool:
    """A requisition for `reference` still open, or ordered with its goods not all received."""
    for requisition in session.scalars(select(Requisition).where(Requisition.source == source,
                                                                  Requisition.source_reference == reference)):
        if requisition.status in OPEN_REQUISITION:
            return True
        if requisition.status == "ordered" and session.scalar(
                select(func.count()).select_from(PurchaseOrder).where(
                    PurchaseOrder.requisition_id == requisition.id, PurchaseOrder.status.in_(OPEN_ORDER))):
            return True
    return False


def _sales_order(session, order) -> SalesOrder:
    from erp.sales.services import find_order as find_sales_order

    return find_sales_order(session, int(order) if _is_id(order) else order)


def _supplier_values(fields: dict, partial: bool = False) -> dict:
    unknown = set(fields) - set(SUPPLIER_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown supplier fields: {', '.join(sorted(unknown))}",
                           {name: ["unknown field"] for name in unknown})
    values, errors = dict(fields), {}
    if "name_zh" in values or not partial:
        values["name_zh"] = (values.get("name_zh") or "").strip()
        if not values["name_zh"]:
            errors["name_zh"] = ["required"]
    if "tax_number" in values:
        values["tax_number"] = _checked(errors, "tax_number", normalise_credit_code, values["tax_number"])
    if "phone" in values:
        values["phone"] = _checked(errors, "phone", normalise_phone, values["phone"])
    if "qualification" in values and values["qualification"] not in QUALIFICATIONS:
        errors["qualification"] = [f"one of {', '.join(QUALIFICATIONS)}"]
    terms = values.get("payment_terms_days")
    if "payment_terms_days" in values and (not isinstance(terms, int) or isinstance(terms, bool)
                                           or not 0 <= terms <= 365):
        errors["payment_terms_days"] = ["a whole number of days from 0 to 365"]
    if "qualified_until" in values and values["qualified_until"] is not None \
            and not isinstance(values["qualified_until"], date):
        errors["qualified_until"] = ["a calendar date"]
    pricing.refuse_if(errors, "the supplier is not valid")
    return values


def _checked(errors: dict, field: str, check, value):
    try:
        return check(value)
    except ValueError as exc:
        errors[field] = [str(exc)]
        return None


def _new_code(session) -> str:
    return next_code(session, Supplier.code, "S")


def _checked_code(session, code: str) -> str:
    return checked_code(session, Supplier.code, code, "supplier")

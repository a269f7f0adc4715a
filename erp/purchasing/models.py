"""Purchasing tables: suppliers (供应商) and their contacts, purchase requisitions (采购申请), requests for
quotation (询价单) with the suppliers' quotes, purchase orders (采购订单), goods receipts (收货), supplier
invoices (供应商发票), supplier credits (红字发票) and payments (付款).

Amounts are net of VAT unless named gross; each line's net, VAT and gross are rounded half-up to the cent on
the line exactly as in sales (erp.sales.pricing), and a document's totals are the sums of its lines.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime
from erp.catalog import models as catalog_models  # noqa: F401  (the product table our foreign keys name)
from erp.finance import models as finance_models  # noqa: F401  (journal_entry)
from erp.inventory import models as inventory_models  # noqa: F401  (warehouse)

#: the keys holding personal or sensitive data in supplier query results (erp.masking.mask_data)
PERSONAL_FIELDS = ("contact_name", "mobile", "email", "bank_account")
Money = Numeric(18, 2)
Quantity = Numeric(18, 3)
Rate = Numeric(4, 2)
ZERO = Decimal("0.00")
QUALIFICATIONS = ("pending", "qualified", "suspended", "disqualified")
REQUISITION_SOURCES = ("manual", "reorder_point", "backorder")
REQUISITION_STATUSES = ("draft", "submitted", "approved", "rejected", "ordered", "cancelled")
RFQ_STATUSES = ("open", "awarded", "cancelled")
ORDER_STATUSES = ("open", "partially_received", "received", "closed", "cancelled")
INVOICE_KINDS = ("special", "ordinary")
INVOICE_STATUSES = ("received", "matched", "exception", "accepted", "disputed", "approved", "partially_paid",
                    "paid")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Supplier(Base):
    """A company we buy from (供应商). Its rating is computed from its receipts (queries.supplier_rating)."""

    __tablename__ = "purchasing_supplier"
    __table_args__ = (CheckConstraint(_in("qualification", QUALIFICATIONS), name="qualification_known"),
                      CheckConstraint("payment_terms_days >= 0", name="terms_nonnegative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: S-000123; given or generated
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: 统一社会信用代码 (check character verified), also the VAT taxpayer number on its invoices
    tax_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    #: what it supplies, compared with the products' category when inviting suppliers to an RFQ
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    #: pending | qualified | suspended | disqualified; only a qualified supplier gets RFQs and orders
    qualification: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    #: the last day the qualification holds (None: open-ended)
    qualified_until: Mapped[date | None] = mapped_column(Date)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    bank_name: Mapped[str | None] = mapped_column(String(200))
    #: sensitive (PERSONAL_FIELDS)
    bank_account: Mapped[str | None] = mapped_column(String(64), info={"personal": "sensitive", "grade": "general"})
    #: the username of the buyer in charge
    buyer: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    contacts: Mapped[list[SupplierContact]] = relationship(order_by="SupplierContact.id", viewonly=True)


class SupplierContact(Base):
    """A person at a supplier; the personal fields are listed in PERSONAL_FIELDS."""

    __tablename__ = "purchasing_supplier_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id", ondelete="CASCADE"), index=True)
    contact_name: Mapped[str] = mapped_column(String(100), info={"personal": "personal", "grade": "general"})
    title: Mapped[str | None] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(11), info={"personal": "personal", "grade": "general"})
    email: Mapped[str | None] = mapped_column(String(320), info={"personal": "personal", "grade": "general"})
    #: who gets RFQs, orders and reminders; at most one per supplier
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Requisition(Base):
    __tablename__ = "purchasing_requisition"
    __table_args__ = (CheckConstraint(_in("source", REQUISITION_SOURCES), name="source_known"),
                      CheckConstraint(_in("status", REQUISITION_STATUSES), name="status_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: REQ-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    requester: Mapped[str] = mapped_column(String(100), index=True)
    department: Mapped[str | None] = mapped_column(String(100))
    #: manual | reorder_point | backorder
    source: Mapped[str] = mapped_column(String(20), default="manual")
    #: what caused it: the sales order number (backorder) or "warehouse/sku,…" (reorder point)
    source_reference: Mapped[str | None] = mapped_column(String(200), index=True)
    needed_by: Mapped[date | None] = mapped_column(Date)
    #: draft | submitted | approved | rejected | ordered | cancelled
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    note: Mapped[str | None] = mapped_column(Text)
    #: gross at the estimated prices
    estimated_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    lines: Mapped[list[RequisitionLine]] = relationship(order_by="RequisitionLine.line_no",
                                                        cascade="all, delete-orphan")


class RequisitionLine(Base):
    __tablename__ = "purchasing_requisition_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("estimated_unit_price >= 0", name="price_nonnegative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("purchasing_requisition.id", ondelete="CASCADE"),
                                                index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: net; default the product's last PO price, else its average cost in stock, else 0
    estimated_unit_price: Mapped[Decimal] = mapped_column(Money)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    vat_rate: Mapped[Decimal] = mapped_column(Rate)


class Rfq(Base):
    """A request for quotation (询价单) sent to several suppliers for one requisition."""

    __tablename__ = "purchasing_rfq"
    __table_args__ = (CheckConstraint(_in("status", RFQ_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: RFQ-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("purchasing_requisition.id"), index=True)
    #: open | awarded | cancelled
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reply_by: Mapped[date | None] = mapped_column(Date)
    awarded_supplier_id: Mapped[int | None] = mapped_column(ForeignKey("purchasing_supplier.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    suppliers: Mapped[list[RfqSupplier]] = relationship(order_by="RfqSupplier.id", cascade="all, delete-orphan")


class RfqSupplier(Base):
    """A supplier invited to an RFQ."""

    __tablename__ = "purchasing_rfq_supplier"
    __table_args__ = (UniqueConstraint("rfq_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("purchasing_rfq.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"))


class SupplierQuote(Base):
    """A supplier's answer to an RFQ (one per supplier: a later quote replaces the earlier one)."""

    __tablename__ = "purchasing_supplier_quote"
    __table_args__ = (UniqueConstraint("rfq_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("purchasing_rfq.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"))
    received_on: Mapped[date] = mapped_column(Date)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    net_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    vat_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)

    lines: Mapped[list[SupplierQuoteLine]] = relationship(order_by="SupplierQuoteLine.id",
                                                          cascade="all, delete-orphan")


class SupplierQuoteLine(Base):
    __tablename__ = "purchasing_supplier_quote_line"
    __table_args__ = (CheckConstraint("unit_price >= 0", name="price_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier_quote.id", ondelete="CASCADE"),
                                          index=True)
    requisition_line_id: Mapped[int] = mapped_column(ForeignKey("purchasing_requisition_line.id"))
    #: net of VAT
    unit_price: Mapped[Decimal] = mapped_column(Money)
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)


class PurchaseOrder(Base):
    __tablename__ = "purchasing_order"
    __table_args__ = (CheckConstraint(_in("status", ORDER_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: PO-2026-00001; also the reference of its stock receipts' order
    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"), index=True)
    requisition_id: Mapped[int | None] = mapped_column(ForeignKey("purchasing_requisition.id"), index=True)
    rfq_id: Mapped[int | None] = mapped_column(ForeignKey("purchasing_rfq.id"))
    order_date: Mapped[date] = mapped_column(Date)
    #: when the goods should arrive; chasing the supplier starts the day after
    expected_date: Mapped[date] = mapped_column(Date)
    #: open | partially_received | received | closed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    buyer: Mapped[str | None] = mapped_column(String(100), index=True)
    net_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    vat_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[PurchaseOrderLine]] = relationship(order_by="PurchaseOrderLine.line_no",
                                                          cascade="all, delete-orphan")


class PurchaseOrderLine(Base):
    __tablename__ = "purchasing_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # a supplier may invoice before delivering (the match flags it), never more than was ordered
        CheckConstraint("received >= 0 AND received <= quantity", name="received_within_ordered"),
        CheckConstraint("invoiced >= 0 AND invoiced <= quantity", name="invoiced_within_ordered"),
        CheckConstraint("short_closed >= 0 AND received + short_closed <= quantity",
                        name="short_closed_within_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: net of VAT; what receipts are valued at (Dr 1405 / Cr 2241)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    vat_rate: Mapped[Decimal] = mapped_column(Rate)
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    #: accepted into stock so far (rejected goods are not counted: they are still owed)
    received: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    #: on supplier invoices that stand (a disputed invoice's quantities are taken off again)
    invoiced: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    #: given up: the supplier will not deliver it (短交关闭); the line counts as complete with what came
    short_closed: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0), server_default="0")


class GoodsReceipt(Base):
    """Goods received (收货入库): Dr 1405 / Cr 2241 (暂估应付) at the PO price."""

    __tablename__ = "purchasing_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: GR-2026-00001; the reference of its stock moves ("purchase_receipt", number)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    #: Σ accepted quantity × PO price, each line rounded to the cent
    value: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[GoodsReceiptLine]] = relationship(order_by="GoodsReceiptLine.id", cascade="all, delete-orphan")


class GoodsReceiptLine(Base):
    __tablename__ = "purchasing_receipt_line"
    __table_args__ = (CheckConstraint("quantity >= 0 AND rejected >= 0 AND quantity + rejected > 0",
                                      name="quantities_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("purchasing_receipt.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order_line.id"), index=True)
    #: accepted into stock
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: refused for quality; not in stock, still owed by the supplier
    rejected: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    #: quantity × unit cost, to the cent: what the line put on 2241
    value: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class SupplierInvoice(Base):
    """A supplier's VAT invoice (供应商发票): Dr 2241 at PO prices, Dr 222101 VAT, the price difference to
    1405, Cr 2202 gross."""

    __tablename__ = "purchasing_supplier_invoice"
    __table_args__ = (UniqueConstraint("supplier_id", "supplier_number"),
                      CheckConstraint(_in("kind", INVOICE_KINDS), name="kind_known"),
                      CheckConstraint(_in("status", INVOICE_STATUSES), name="status_known"),
                      CheckConstraint("credited >= 0 AND paid >= 0", name="amounts_nonnegative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: BILL-2026-00001 (ours)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    #: the supplier's 发票号码
    supplier_number: Mapped[str] = mapped_column(String(40))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order.id"), index=True)
    #: special (增值税专用发票: VAT deductible) or ordinary (普通发票: VAT is part of the cost)
    kind: Mapped[str] = mapped_column(String(10), default="special")
    issue_date: Mapped[date] = mapped_column(Date)
    #: issue date + the supplier's payment terms
    due_date: Mapped[date] = mapped_column(Date, index=True)
    net_total: Mapped[Decimal] = mapped_column(Money)
    vat_total: Mapped[Decimal] = mapped_column(Money)
    gross_total: Mapped[Decimal] = mapped_column(Money)
    #: gross of its supplier credits
    credited: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    paid: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    #: received | matched | exception | accepted | disputed | approved | partially_paid | paid
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    #: the last three-way match result (matching.three_way_match), amounts as text
    match: Mapped[dict | None] = mapped_column(JSON)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[SupplierInvoiceLine]] = relationship(order_by="SupplierInvoiceLine.id",
                                                            cascade="all, delete-orphan")

    @property
    def outstanding(self) -> Decimal:
        return self.gross_total - self.credited - self.paid


class SupplierInvoiceLine(Base):
    __tablename__ = "purchasing_supplier_invoice_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier_invoice.id", ondelete="CASCADE"),
                                            index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order_line.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: the supplier's net unit price
    unit_price: Mapped[Decimal] = mapped_column(Money)
    vat_rate: Mapped[Decimal] = mapped_column(Rate)
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    #: what the line took off 2241: its quantity at the PO price (the rest of the net is a price difference)
    cleared: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class SupplierCredit(Base):
    """A supplier's red-letter invoice (红字发票) against one of its invoices: Dr 2202 / Cr 1405 / Cr 222101."""

    __tablename__ = "purchasing_supplier_credit"
    __table_args__ = (CheckConstraint("net >= 0 AND vat >= 0 AND gross > 0", name="amounts_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SCN-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_invoice_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier_invoice.id"), index=True)
    supplier_number: Mapped[str] = mapped_column(String(40))
    issue_date: Mapped[date] = mapped_column(Date)
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))


class SupplierPayment(Base):
    """Money paid to a supplier (付款): Dr 2202 / Cr 1002."""

    __tablename__ = "purchasing_payment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: PAY-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_invoice_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier_invoice.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    #: the bank's reference of the transfer
    reference: Mapped[str | None] = mapped_column(String(200))
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

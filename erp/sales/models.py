"""Sales tables: quotations (报价单), sales orders (销售订单), deliveries (发货单), VAT invoices (增值税发票),
payments received (收款) and credit notes (红字发票), each with its lines.

Amounts are net of VAT unless named gross (价税合计); every line's net, VAT and gross are rounded half-up to
the cent on the line (see erp.sales.pricing), and a document's totals are the sums of its lines.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime
from erp.catalog import models as catalog_models  # noqa: F401  (the product table our foreign keys name)
from erp.crm import models as crm_models  # noqa: F401  (the customer table)

Money = Numeric(18, 2)
Quantity = Numeric(18, 3)
Percent = Numeric(5, 2)
QUOTATION_STATUSES = ("draft", "sent", "approved", "rejected", "accepted", "expired")
ORDER_STATUSES = ("open", "backordered", "partially_delivered", "delivered", "invoiced", "closed", "cancelled")
INVOICE_KINDS = ("special", "ordinary")
INVOICE_STATUSES = ("open", "partially_paid", "paid")
ZERO = Decimal("0.00")


class Quotation(Base):
    __tablename__ = "sales_quotation"
    __table_args__ = (CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: QT-2026-00001, numbered per year of the quotation date
    number: Mapped[str] = mapped_column(String(30), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True)
    quote_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    sales_rep: Mapped[str | None] = mapped_column(String(100), index=True)
    #: the price list the unit prices came from (None: the default list)
    price_list: Mapped[str | None] = mapped_column(String(200))
    #: applied to every line on top of the line's own discount
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    #: draft | sent | approved | rejected | accepted | expired
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    net_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    vat_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[QuotationLine]] = relationship(order_by="QuotationLine.line_no", cascade="all, delete-orphan")


class QuotationLine(Base):
    __tablename__ = "sales_quotation_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quotation_id: Mapped[int] = mapped_column(ForeignKey("sales_quotation.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: net of VAT, before discounts
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)


class SalesOrder(Base):
    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SO-2026-00001; also the reference of its stock reservations ("sales_order", number)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True)
    quotation_id: Mapped[int | None] = mapped_column(ForeignKey("sales_quotation.id"), index=True)
    order_date: Mapped[date] = mapped_column(Date)
    sales_rep: Mapped[str | None] = mapped_column(String(100))
    #: open | backordered | partially_delivered | delivered | invoiced | closed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    #: the overall discount carried over from the quotation (already inside the lines' amounts)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    net_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    vat_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[SalesOrderLine]] = relationship(order_by="SalesOrderLine.line_no",
                                                       cascade="all, delete-orphan")


class SalesOrderLine(Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("delivered <= quantity AND invoiced <= delivered", name="within_ordered"),
        CheckConstraint("reserved >= 0 AND reserved + delivered <= quantity", name="reserved_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    #: ordered
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: held in stock for this line and not yet delivered
    reserved: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    delivered: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    invoiced: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    #: cost of sales of what was delivered so far (for returns at the delivery's cost)
    delivered_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class Delivery(Base):
    __tablename__ = "sales_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: DN-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    delivery_date: Mapped[date] = mapped_column(Date)
    #: cost of sales at moving average cost, posted Dr 5401 / Cr 1405
    cost_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[DeliveryLine]] = relationship(cascade="all, delete-orphan")


class DeliveryLine(Base):
    __tablename__ = "sales_delivery_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("sales_delivery.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_line.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    cost: Mapped[Decimal] = mapped_column(Money)


class Invoice(Base):
    """A VAT invoice (增值税发票) for delivered goods: Dr 1122 gross / Cr 5001 net / Cr 222102 VAT."""

    __tablename__ = "sales_invoice"
    __table_args__ = (CheckConstraint("kind IN ('special', 'ordinary')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: INV-2026-00001; a bank transfer's memo names it
    number: Mapped[str] = mapped_column(String(30), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True)
    #: special (增值税专用发票) or ordinary (普通发票)
    kind: Mapped[str] = mapped_column(String(10), default="special")
    issue_date: Mapped[date] = mapped_column(Date)
    #: issue date + the customer's payment terms
    due_date: Mapped[date] = mapped_column(Date, index=True)
    net_total: Mapped[Decimal] = mapped_column(Money)
    vat_total: Mapped[Decimal] = mapped_column(Money)
    gross_total: Mapped[Decimal] = mapped_column(Money)
    #: payments applied (never more than gross − credited; the rest of a payment stays unapplied)
    paid: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    #: gross of its credit notes
    credited: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    #: open | partially_paid | paid (paid also when credit notes cover it)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.line_no", cascade="all, delete-orphan")

    @property
    def outstanding(self) -> Decimal:
        return self.gross_total - self.credited - self.paid


class InvoiceLine(Base):
    __tablename__ = "sales_invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_line.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    credited_quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))


class Payment(Base):
    """Money received (收款): Dr 1002 / Cr 1122 for the whole amount; what exceeds the invoice's outstanding
    amount is `unapplied` (the customer's credit, visible in the AR aging)."""

    __tablename__ = "sales_payment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: RC-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    applied: Mapped[Decimal] = mapped_column(Money)
    unapplied: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    payer: Mapped[str | None] = mapped_column(String(200), info={"personal": "personal", "grade": "general"})
    memo: Mapped[str | None] = mapped_column(String(500))
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))


class CreditNote(Base):
    """A red-letter invoice (红字发票): Dr 5001 net, Dr 222102 VAT / Cr 1122 gross; with goods returned also
    Dr 1405 / Cr 5401 at the delivery's cost."""

    __tablename__ = "sales_credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: CN-2026-00001
    number: Mapped[str] = mapped_column(String(30), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    net_total: Mapped[Decimal] = mapped_column(Money)
    vat_total: Mapped[Decimal] = mapped_column(Money)
    gross_total: Mapped[Decimal] = mapped_column(Money)
    returned_to_stock: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: cost of the goods taken back into stock
    return_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))

    lines: Mapped[list[CreditNoteLine]] = relationship(cascade="all, delete-orphan")


class CreditNoteLine(Base):
    __tablename__ = "sales_credit_note_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("sales_credit_note.id", ondelete="CASCADE"), index=True)
    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice_line.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)

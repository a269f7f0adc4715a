"""purchasing: suppliers and contacts, requisitions, RFQs and quotes, purchase orders, goods receipts, supplier
invoices, supplier credits and payments, with lines

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 17:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('purchasing_requisition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('requester', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_reference', sa.String(length=200), nullable=True),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('estimated_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('manual', 'reorder_point', 'backorder')", name=op.f('ck_purchasing_requisition_source_known')),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected', 'ordered', 'cancelled')", name=op.f('ck_purchasing_requisition_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_requisition')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_requisition_number'))
    )
    with op.batch_alter_table('purchasing_requisition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_requisition_requester'), ['requester'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_requisition_source_reference'), ['source_reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_requisition_status'), ['status'], unique=False)

    op.create_table('purchasing_supplier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('tax_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('province', sa.String(length=100), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('qualification', sa.String(length=20), nullable=False),
    sa.Column('qualified_until', sa.Date(), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('bank_name', sa.String(length=200), nullable=True),
    sa.Column('bank_account', sa.String(length=64), nullable=True),
    sa.Column('buyer', sa.String(length=100), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("qualification IN ('pending', 'qualified', 'suspended', 'disqualified')", name=op.f('ck_purchasing_supplier_qualification_known')),
    sa.CheckConstraint('payment_terms_days >= 0', name=op.f('ck_purchasing_supplier_terms_nonnegative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier')),
    sa.UniqueConstraint('code', name=op.f('uq_purchasing_supplier_code'))
    )
    with op.batch_alter_table('purchasing_supplier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_buyer'), ['buyer'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_qualification'), ['qualification'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_tax_number'), ['tax_number'], unique=False)

    op.create_table('purchasing_requisition_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requisition_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('estimated_unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.CheckConstraint('estimated_unit_price >= 0', name=op.f('ck_purchasing_requisition_line_price_nonnegative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchasing_requisition_line_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_purchasing_requisition_line_product_id_product')),
    sa.ForeignKeyConstraint(['requisition_id'], ['purchasing_requisition.id'], name=op.f('fk_purchasing_requisition_line_requisition_id_purchasing_requisition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_purchasing_requisition_line_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_requisition_line'))
    )
    with op.batch_alter_table('purchasing_requisition_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_requisition_line_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_requisition_line_requisition_id'), ['requisition_id'], unique=False)

    op.create_table('purchasing_rfq',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('requisition_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reply_by', sa.Date(), nullable=True),
    sa.Column('awarded_supplier_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('open', 'awarded', 'cancelled')", name=op.f('ck_purchasing_rfq_status_known')),
    sa.ForeignKeyConstraint(['awarded_supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_rfq_awarded_supplier_id_purchasing_supplier')),
    sa.ForeignKeyConstraint(['requisition_id'], ['purchasing_requisition.id'], name=op.f('fk_purchasing_rfq_requisition_id_purchasing_requisition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_rfq')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_rfq_number'))
    )
    with op.batch_alter_table('purchasing_rfq', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_rfq_requisition_id'), ['requisition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_rfq_status'), ['status'], unique=False)

    op.create_table('purchasing_supplier_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('is_primary', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_supplier_contact_supplier_id_purchasing_supplier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier_contact'))
    )
    with op.batch_alter_table('purchasing_supplier_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_contact_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('purchasing_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('requisition_id', sa.Integer(), nullable=True),
    sa.Column('rfq_id', sa.Integer(), nullable=True),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('buyer', sa.String(length=100), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('open', 'partially_received', 'received', 'closed', 'cancelled')", name=op.f('ck_purchasing_order_status_known')),
    sa.ForeignKeyConstraint(['requisition_id'], ['purchasing_requisition.id'], name=op.f('fk_purchasing_order_requisition_id_purchasing_requisition')),
    sa.ForeignKeyConstraint(['rfq_id'], ['purchasing_rfq.id'], name=op.f('fk_purchasing_order_rfq_id_purchasing_rfq')),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_order_supplier_id_purchasing_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_order')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_order_number'))
    )
    with op.batch_alter_table('purchasing_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_order_buyer'), ['buyer'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_order_requisition_id'), ['requisition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_order_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_order_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('purchasing_rfq_supplier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rfq_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rfq_id'], ['purchasing_rfq.id'], name=op.f('fk_purchasing_rfq_supplier_rfq_id_purchasing_rfq'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_rfq_supplier_supplier_id_purchasing_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_rfq_supplier')),
    sa.UniqueConstraint('rfq_id', 'supplier_id', name=op.f('uq_purchasing_rfq_supplier_rfq_id'))
    )
    with op.batch_alter_table('purchasing_rfq_supplier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_rfq_supplier_rfq_id'), ['rfq_id'], unique=False)

    op.create_table('purchasing_supplier_quote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rfq_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['rfq_id'], ['purchasing_rfq.id'], name=op.f('fk_purchasing_supplier_quote_rfq_id_purchasing_rfq'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_supplier_quote_supplier_id_purchasing_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier_quote')),
    sa.UniqueConstraint('rfq_id', 'supplier_id', name=op.f('uq_purchasing_supplier_quote_rfq_id'))
    )
    with op.batch_alter_table('purchasing_supplier_quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_quote_rfq_id'), ['rfq_id'], unique=False)

    op.create_table('purchasing_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('invoiced', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('short_closed', sa.Numeric(precision=18, scale=3), server_default='0', nullable=False),
    sa.CheckConstraint('invoiced >= 0 AND invoiced <= quantity', name=op.f('ck_purchasing_order_line_invoiced_within_ordered')),
    sa.CheckConstraint('short_closed >= 0 AND received + short_closed <= quantity', name=op.f('ck_purchasing_order_line_short_closed_within_ordered')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchasing_order_line_quantity_positive')),
    sa.CheckConstraint('received >= 0 AND received <= quantity', name=op.f('ck_purchasing_order_line_received_within_ordered')),
    sa.ForeignKeyConstraint(['order_id'], ['purchasing_order.id'], name=op.f('fk_purchasing_order_line_order_id_purchasing_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_purchasing_order_line_product_id_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_purchasing_order_line_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_order_line'))
    )
    with op.batch_alter_table('purchasing_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_order_line_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_order_line_product_id'), ['product_id'], unique=False)

    op.create_table('purchasing_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_purchasing_receipt_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['order_id'], ['purchasing_order.id'], name=op.f('fk_purchasing_receipt_order_id_purchasing_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_receipt')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_receipt_number'))
    )
    with op.batch_alter_table('purchasing_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_receipt_order_id'), ['order_id'], unique=False)

    op.create_table('purchasing_supplier_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('supplier_number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credited', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('match', sa.JSON(), nullable=True),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("kind IN ('special', 'ordinary')", name=op.f('ck_purchasing_supplier_invoice_kind_known')),
    sa.CheckConstraint("status IN ('received', 'matched', 'exception', 'accepted', 'disputed', 'approved', 'partially_paid', 'paid')", name=op.f('ck_purchasing_supplier_invoice_status_known')),
    sa.CheckConstraint('credited >= 0 AND paid >= 0', name=op.f('ck_purchasing_supplier_invoice_amounts_nonnegative')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_purchasing_supplier_invoice_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['order_id'], ['purchasing_order.id'], name=op.f('fk_purchasing_supplier_invoice_order_id_purchasing_order')),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_supplier_invoice_supplier_id_purchasing_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_supplier_invoice_number')),
    sa.UniqueConstraint('supplier_id', 'supplier_number', name=op.f('uq_purchasing_supplier_invoice_supplier_id'))
    )
    with op.batch_alter_table('purchasing_supplier_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_invoice_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_invoice_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_invoice_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_invoice_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('purchasing_supplier_quote_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('requisition_line_id', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_purchasing_supplier_quote_line_price_nonnegative')),
    sa.ForeignKeyConstraint(['quote_id'], ['purchasing_supplier_quote.id'], name=op.f('fk_purchasing_supplier_quote_line_quote_id_purchasing_supplier_quote'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requisition_line_id'], ['purchasing_requisition_line.id'], name=op.f('fk_purchasing_supplier_quote_line_requisition_line_id_purchasing_requisition_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier_quote_line'))
    )
    with op.batch_alter_table('purchasing_supplier_quote_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_quote_line_quote_id'), ['quote_id'], unique=False)

    op.create_table('purchasing_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('supplier_invoice_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_purchasing_payment_amount_positive')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_purchasing_payment_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_payment_supplier_id_purchasing_supplier')),
    sa.ForeignKeyConstraint(['supplier_invoice_id'], ['purchasing_supplier_invoice.id'], name=op.f('fk_purchasing_payment_supplier_invoice_id_purchasing_supplier_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_payment')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_payment_number'))
    )
    with op.batch_alter_table('purchasing_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_payment_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_payment_supplier_invoice_id'), ['supplier_invoice_id'], unique=False)

    op.create_table('purchasing_receipt_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('rejected', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity >= 0 AND rejected >= 0 AND quantity + rejected > 0', name=op.f('ck_purchasing_receipt_line_quantities_valid')),
    sa.ForeignKeyConstraint(['order_line_id'], ['purchasing_order_line.id'], name=op.f('fk_purchasing_receipt_line_order_line_id_purchasing_order_line')),
    sa.ForeignKeyConstraint(['receipt_id'], ['purchasing_receipt.id'], name=op.f('fk_purchasing_receipt_line_receipt_id_purchasing_receipt'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_receipt_line'))
    )
    with op.batch_alter_table('purchasing_receipt_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_receipt_line_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_receipt_line_receipt_id'), ['receipt_id'], unique=False)

    op.create_table('purchasing_supplier_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('supplier_invoice_id', sa.Integer(), nullable=False),
    sa.Column('supplier_number', sa.String(length=40), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint('net >= 0 AND vat >= 0 AND gross > 0', name=op.f('ck_purchasing_supplier_credit_amounts_valid')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_purchasing_supplier_credit_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['supplier_invoice_id'], ['purchasing_supplier_invoice.id'], name=op.f('fk_purchasing_supplier_credit_supplier_invoice_id_purchasing_supplier_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier_credit')),
    sa.UniqueConstraint('number', name=op.f('uq_purchasing_supplier_credit_number'))
    )
    with op.batch_alter_table('purchasing_supplier_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_credit_supplier_invoice_id'), ['supplier_invoice_id'], unique=False)

    op.create_table('purchasing_supplier_invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('cleared', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchasing_supplier_invoice_line_quantity_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['purchasing_supplier_invoice.id'], name=op.f('fk_purchasing_supplier_invoice_line_invoice_id_purchasing_supplier_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['purchasing_order_line.id'], name=op.f('fk_purchasing_supplier_invoice_line_order_line_id_purchasing_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_supplier_invoice_line'))
    )
    with op.batch_alter_table('purchasing_supplier_invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_invoice_line_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchasing_supplier_invoice_line_order_line_id'), ['order_line_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('purchasing_supplier_invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_invoice_line_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_invoice_line_invoice_id'))

    op.drop_table('purchasing_supplier_invoice_line')
    with op.batch_alter_table('purchasing_supplier_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_credit_supplier_invoice_id'))

    op.drop_table('purchasing_supplier_credit')
    with op.batch_alter_table('purchasing_receipt_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_receipt_line_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_receipt_line_order_line_id'))

    op.drop_table('purchasing_receipt_line')
    with op.batch_alter_table('purchasing_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_payment_supplier_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_payment_supplier_id'))

    op.drop_table('purchasing_payment')
    with op.batch_alter_table('purchasing_supplier_quote_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_quote_line_quote_id'))

    op.drop_table('purchasing_supplier_quote_line')
    with op.batch_alter_table('purchasing_supplier_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_invoice_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_invoice_status'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_invoice_order_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_invoice_due_date'))

    op.drop_table('purchasing_supplier_invoice')
    with op.batch_alter_table('purchasing_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_receipt_order_id'))

    op.drop_table('purchasing_receipt')
    with op.batch_alter_table('purchasing_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_order_line_product_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_order_line_order_id'))

    op.drop_table('purchasing_order_line')
    with op.batch_alter_table('purchasing_supplier_quote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_quote_rfq_id'))

    op.drop_table('purchasing_supplier_quote')
    with op.batch_alter_table('purchasing_rfq_supplier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_rfq_supplier_rfq_id'))

    op.drop_table('purchasing_rfq_supplier')
    with op.batch_alter_table('purchasing_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_order_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_order_status'))
        batch_op.drop_index(batch_op.f('ix_purchasing_order_requisition_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_order_buyer'))

    op.drop_table('purchasing_order')
    with op.batch_alter_table('purchasing_supplier_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_contact_supplier_id'))

    op.drop_table('purchasing_supplier_contact')
    with op.batch_alter_table('purchasing_rfq', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_rfq_status'))
        batch_op.drop_index(batch_op.f('ix_purchasing_rfq_requisition_id'))

    op.drop_table('purchasing_rfq')
    with op.batch_alter_table('purchasing_requisition_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_requisition_line_requisition_id'))
        batch_op.drop_index(batch_op.f('ix_purchasing_requisition_line_product_id'))

    op.drop_table('purchasing_requisition_line')
    with op.batch_alter_table('purchasing_supplier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_tax_number'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_qualification'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_category'))
        batch_op.drop_index(batch_op.f('ix_purchasing_supplier_buyer'))

    op.drop_table('purchasing_supplier')
    with op.batch_alter_table('purchasing_requisition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchasing_requisition_status'))
        batch_op.drop_index(batch_op.f('ix_purchasing_requisition_source_reference'))
        batch_op.drop_index(batch_op.f('ix_purchasing_requisition_requester'))

    op.drop_table('purchasing_requisition')

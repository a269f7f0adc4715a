"""sales: quotations, sales orders, deliveries, VAT invoices, payments received and credit notes, with lines

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 15:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sales_quotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('quote_date', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('sales_rep', sa.String(length=100), nullable=True),
    sa.Column('price_list', sa.String(length=200), nullable=True),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint('discount_percent >= 0 AND discount_percent <= 100', name=op.f('ck_sales_quotation_discount_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_sales_quotation_customer_id_crm_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_quotation')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_quotation_number'))
    )
    with op.batch_alter_table('sales_quotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_quotation_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_quotation_sales_rep'), ['sales_rep'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_quotation_status'), ['status'], unique=False)

    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('quotation_id', sa.Integer(), nullable=True),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('sales_rep', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_sales_order_customer_id_crm_customer')),
    sa.ForeignKeyConstraint(['quotation_id'], ['sales_quotation.id'], name=op.f('fk_sales_order_quotation_id_sales_quotation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_order_number'))
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_quotation_id'), ['quotation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_status'), ['status'], unique=False)

    op.create_table('sales_quotation_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quotation_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_quotation_line_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sales_quotation_line_product_id_product')),
    sa.ForeignKeyConstraint(['quotation_id'], ['sales_quotation.id'], name=op.f('fk_sales_quotation_line_quotation_id_sales_quotation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_quotation_line'))
    )
    with op.batch_alter_table('sales_quotation_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_quotation_line_quotation_id'), ['quotation_id'], unique=False)

    op.create_table('sales_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('cost_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_sales_delivery_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_delivery_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_delivery')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_delivery_number'))
    )
    with op.batch_alter_table('sales_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_delivery_order_id'), ['order_id'], unique=False)

    op.create_table('sales_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credited', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("kind IN ('special', 'ordinary')", name=op.f('ck_sales_invoice_kind_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_sales_invoice_customer_id_crm_customer')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_sales_invoice_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_invoice_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_invoice_number'))
    )
    with op.batch_alter_table('sales_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_invoice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_invoice_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_invoice_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_invoice_status'), ['status'], unique=False)

    op.create_table('sales_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('delivered', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('invoiced', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('delivered_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('delivered <= quantity AND invoiced <= delivered', name=op.f('ck_sales_order_line_within_ordered')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_order_line_quantity_positive')),
    sa.CheckConstraint('reserved >= 0 AND reserved + delivered <= quantity', name=op.f('ck_sales_order_line_reserved_within')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_order_line_order_id_sales_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sales_order_line_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_line'))
    )
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('sales_credit_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('returned_to_stock', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('return_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['sales_invoice.id'], name=op.f('fk_sales_credit_note_invoice_id_sales_invoice')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_sales_credit_note_journal_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_credit_note')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_credit_note_number'))
    )
    with op.batch_alter_table('sales_credit_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_credit_note_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('sales_delivery_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['sales_delivery.id'], name=op.f('fk_sales_delivery_line_delivery_id_sales_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_sales_delivery_line_order_line_id_sales_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_delivery_line'))
    )
    with op.batch_alter_table('sales_delivery_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_delivery_line_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('sales_invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credited_quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['sales_invoice.id'], name=op.f('fk_sales_invoice_line_invoice_id_sales_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], name=op.f('fk_sales_invoice_line_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sales_invoice_line_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_invoice_line'))
    )
    with op.batch_alter_table('sales_invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_invoice_line_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('sales_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('applied', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('unapplied', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('payer', sa.String(length=200), nullable=True),
    sa.Column('memo', sa.String(length=500), nullable=True),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_sales_payment_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_sales_payment_customer_id_crm_customer')),
    sa.ForeignKeyConstraint(['invoice_id'], ['sales_invoice.id'], name=op.f('fk_sales_payment_invoice_id_sales_invoice')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_sales_payment_journal_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_payment')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_payment_number'))
    )
    with op.batch_alter_table('sales_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_payment_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_payment_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('sales_credit_note_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_note_id', sa.Integer(), nullable=False),
    sa.Column('invoice_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('net', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('vat', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['credit_note_id'], ['sales_credit_note.id'], name=op.f('fk_sales_credit_note_line_credit_note_id_sales_credit_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['sales_invoice_line.id'], name=op.f('fk_sales_credit_note_line_invoice_line_id_sales_invoice_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_credit_note_line'))
    )
    with op.batch_alter_table('sales_credit_note_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_credit_note_line_credit_note_id'), ['credit_note_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sales_credit_note_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_credit_note_line_credit_note_id'))

    op.drop_table('sales_credit_note_line')
    with op.batch_alter_table('sales_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_payment_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_sales_payment_customer_id'))

    op.drop_table('sales_payment')
    with op.batch_alter_table('sales_invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_invoice_line_invoice_id'))

    op.drop_table('sales_invoice_line')
    with op.batch_alter_table('sales_delivery_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_delivery_line_delivery_id'))

    op.drop_table('sales_delivery_line')
    with op.batch_alter_table('sales_credit_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_credit_note_invoice_id'))

    op.drop_table('sales_credit_note')
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_line_order_id'))

    op.drop_table('sales_order_line')
    with op.batch_alter_table('sales_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_invoice_status'))
        batch_op.drop_index(batch_op.f('ix_sales_invoice_order_id'))
        batch_op.drop_index(batch_op.f('ix_sales_invoice_due_date'))
        batch_op.drop_index(batch_op.f('ix_sales_invoice_customer_id'))

    op.drop_table('sales_invoice')
    with op.batch_alter_table('sales_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_delivery_order_id'))

    op.drop_table('sales_delivery')
    with op.batch_alter_table('sales_quotation_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_quotation_line_quotation_id'))

    op.drop_table('sales_quotation_line')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_status'))
        batch_op.drop_index(batch_op.f('ix_sales_order_quotation_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))

    op.drop_table('sales_order')
    with op.batch_alter_table('sales_quotation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_quotation_status'))
        batch_op.drop_index(batch_op.f('ix_sales_quotation_sales_rep'))
        batch_op.drop_index(batch_op.f('ix_sales_quotation_customer_id'))

    op.drop_table('sales_quotation')

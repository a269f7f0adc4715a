"""catalog and inventory: products, price lists, warehouses, stock levels, moves, reservations, reorder points

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 14:50:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('unit_en', sa.String(length=20), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=True),
    sa.CheckConstraint('vat_rate IN (0.13, 0.09, 0.06, 0)', name=op.f('ck_product_vat_rate_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('sku', name=op.f('uq_product_sku'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_category'), ['category'], unique=False)

    op.create_table('price_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list')),
    sa.UniqueConstraint('name', name=op.f('uq_price_list_name'))
    )
    op.create_table('price_list_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('price_list_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('min_quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('min_quantity > 0', name=op.f('ck_price_list_item_min_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_price_list_item_unit_price_nonnegative')),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_list.id'], name=op.f('fk_price_list_item_price_list_id_price_list'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_price_list_item_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_item')),
    sa.UniqueConstraint('price_list_id', 'product_id', 'min_quantity', name=op.f('uq_price_list_item_price_list_id'))
    )
    with op.batch_alter_table('price_list_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_list_item_price_list_id'), ['price_list_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_list_item_product_id'), ['product_id'], unique=False)

    op.create_table('warehouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouse_code'))
    )
    op.create_table('stock_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('average_cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_level_on_hand_nonnegative')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_level_reserved_nonnegative')),
    sa.CheckConstraint('reserved <= on_hand', name=op.f('ck_stock_level_reserved_within_on_hand')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_level_product_id_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_level_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('product_id', 'warehouse_id', name=op.f('uq_stock_level_product_id'))
    )
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_level_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_level_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('stock_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('from_warehouse_id', sa.Integer(), nullable=True),
    sa.Column('to_warehouse_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('reference_type', sa.String(length=40), nullable=True),
    sa.Column('reference_id', sa.String(length=64), nullable=True),
    sa.Column('at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('by_user', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('receipt', 'issue', 'transfer', 'adjustment')", name=op.f('ck_stock_move_kind_known')),
    sa.CheckConstraint('from_warehouse_id IS NOT NULL OR to_warehouse_id IS NOT NULL', name=op.f('ck_stock_move_has_warehouse')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_move_quantity_positive')),
    sa.ForeignKeyConstraint(['from_warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_move_from_warehouse_id_warehouse')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_move_product_id_product')),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_move_to_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_move'))
    )
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.create_index('ix_stock_move_product_at', ['product_id', 'at'], unique=False)
        batch_op.create_index('ix_stock_move_reference', ['reference_type', 'reference_id'], unique=False)

    op.create_table('stock_reservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('consumed', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('reference_type', sa.String(length=40), nullable=False),
    sa.Column('reference_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('consumed >= 0 AND consumed <= quantity', name=op.f('ck_stock_reservation_consumed_within_quantity')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_reservation_quantity_positive')),
    sa.CheckConstraint("status IN ('active', 'consumed', 'released')", name=op.f('ck_stock_reservation_status_known')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_reservation_product_id_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_reservation_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_reservation'))
    )
    with op.batch_alter_table('stock_reservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_reservation_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_stock_reservation_reference', ['reference_type', 'reference_id', 'status'], unique=False)

    op.create_table('reorder_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('minimum', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('reorder_quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.CheckConstraint('minimum >= 0', name=op.f('ck_reorder_point_minimum_nonnegative')),
    sa.CheckConstraint('reorder_quantity > 0', name=op.f('ck_reorder_point_reorder_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_reorder_point_product_id_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_reorder_point_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reorder_point')),
    sa.UniqueConstraint('product_id', 'warehouse_id', name=op.f('uq_reorder_point_product_id'))
    )
    with op.batch_alter_table('reorder_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reorder_point_product_id'), ['product_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('reorder_point', ['ix_reorder_point_product_id']),
        ('stock_reservation', ['ix_stock_reservation_reference', 'ix_stock_reservation_product_id']),
        ('stock_move', ['ix_stock_move_reference', 'ix_stock_move_product_at']),
        ('stock_level', ['ix_stock_level_warehouse_id', 'ix_stock_level_product_id']),
        ('warehouse', []),
        ('price_list_item', ['ix_price_list_item_product_id', 'ix_price_list_item_price_list_id']),
        ('price_list', []),
        ('product', ['ix_product_category']),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)

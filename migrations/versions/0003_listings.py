"""listings and orders: disposal requests, storefront offers, service areas, quotes,
capacity reservations, orders and order lines

Revision ID: 0003_listings
Revises: 0002_ledger
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003_listings'
down_revision = '0002_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Human-readable numbers (RQ2026000123, HX2026000123) take their serial from these.
    op.execute("CREATE SEQUENCE disposal_request_number_seq")
    op.execute("CREATE SEQUENCE trade_order_number_seq")
    op.create_table('alert_preference',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('categories', postgresql.ARRAY(sa.String(length=4)), nullable=False),
    sa.Column('region_prefixes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_alert_preference_org_id_organisation')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_alert_preference'))
    )
    op.create_table('service_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('region_prefix', sa.String(length=6), nullable=False),
    sa.CheckConstraint("region_prefix ~ '^[0-9]{2}([0-9]{2}){0,2}$'", name=op.f('ck_service_area_prefix_format')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_service_area_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_area')),
    sa.UniqueConstraint('org_id', 'region_prefix', name='uq_service_area_org_prefix')
    )
    op.create_index(op.f('ix_service_area_org_id'), 'service_area', ['org_id'], unique=False)
    op.create_table('storefront_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('waste_code', sa.String(length=10), nullable=True),
    sa.Column('method_code', sa.String(length=4), nullable=False),
    sa.Column('service_region_prefixes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
    sa.Column('min_kg', sa.BigInteger(), nullable=False),
    sa.Column('max_kg', sa.BigInteger(), nullable=False),
    sa.Column('unit_price_fen_per_t', sa.BigInteger(), nullable=False),
    sa.Column('transport_fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('cardinality(service_region_prefixes) > 0', name=op.f('ck_storefront_offer_regions_present')),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_storefront_offer_lead_time_not_negative')),
    sa.CheckConstraint('max_kg >= min_kg', name=op.f('ck_storefront_offer_max_not_below_min')),
    sa.CheckConstraint('min_kg > 0', name=op.f('ck_storefront_offer_min_positive')),
    sa.CheckConstraint('transport_fee_fen >= 0', name=op.f('ck_storefront_offer_transport_not_negative')),
    sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'], name=op.f('fk_storefront_offer_category_code_waste_category')),
    sa.ForeignKeyConstraint(['method_code'], ['disposal_method.code'], name=op.f('fk_storefront_offer_method_code_disposal_method')),
    sa.ForeignKeyConstraint(['operator_id'], ['organisation.id'], name=op.f('fk_storefront_offer_operator_id_organisation')),
    sa.ForeignKeyConstraint(['waste_code'], ['waste_code.code'], name=op.f('fk_storefront_offer_waste_code_waste_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storefront_offer'))
    )
    op.create_index('ix_storefront_offer_category_active', 'storefront_offer', ['category_code', 'operator_id'], unique=False, postgresql_where=sa.text('active'))
    op.create_index(op.f('ix_storefront_offer_operator_id'), 'storefront_offer', ['operator_id'], unique=False)
    op.create_table('disposal_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('generator_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('waste_code', sa.String(length=10), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('form', sa.String(length=20), nullable=False),
    sa.Column('packaging', sa.String(length=100), nullable=False),
    sa.Column('hazards', postgresql.ARRAY(sa.String(length=2)), nullable=False),
    sa.Column('quantity_kg', sa.BigInteger(), nullable=False),
    sa.Column('small_lot', sa.Boolean(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('method_group', sa.String(length=5), nullable=True),
    sa.Column('requires_sampling', sa.Boolean(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('recurring', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('operators_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("form IN ('solid', 'sludge', 'liquid', 'gas_in_container')", name=op.f('ck_disposal_request_form')),
    sa.CheckConstraint("method_group IS NULL OR method_group IN ('R', 'D10', 'D1', 'D9', 'C1', 'other')", name=op.f('ck_disposal_request_method_group')),
    sa.CheckConstraint("recurring IN ('none', 'weekly', 'monthly')", name=op.f('ck_disposal_request_recurring')),
    sa.CheckConstraint("status IN ('draft', 'open', 'awarded', 'cancelled', 'expired')", name=op.f('ck_disposal_request_status')),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_disposal_request_coordinates')),
    sa.CheckConstraint('quantity_kg > 0', name=op.f('ck_disposal_request_quantity_positive')),
    sa.CheckConstraint('window_end >= window_start', name=op.f('ck_disposal_request_window_order')),
    sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'], name=op.f('fk_disposal_request_category_code_waste_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_disposal_request_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['generator_id'], ['organisation.id'], name=op.f('fk_disposal_request_generator_id_organisation')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_disposal_request_region_code_region')),
    sa.ForeignKeyConstraint(['waste_code'], ['waste_code.code'], name=op.f('fk_disposal_request_waste_code_waste_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_request')),
    sa.UniqueConstraint('number', name=op.f('uq_disposal_request_number'))
    )
    op.create_index(op.f('ix_disposal_request_generator_id'), 'disposal_request', ['generator_id'], unique=False)
    op.create_index('ix_disposal_request_status_category', 'disposal_request', ['status', 'category_code'], unique=False)
    op.create_table('quote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('licence_item_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('unit_price_fen_per_t', sa.BigInteger(), nullable=False),
    sa.Column('transport_fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('subject_to_sampling', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('submitted', 'withdrawn', 'rejected', 'expired', 'accepted')", name=op.f('ck_quote_status')),
    sa.CheckConstraint('transport_fee_fen >= 0', name=op.f('ck_quote_transport_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_quote_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['licence_item_id'], ['licence_item.id'], name=op.f('fk_quote_licence_item_id_licence_item')),
    sa.ForeignKeyConstraint(['operator_id'], ['organisation.id'], name=op.f('fk_quote_operator_id_organisation')),
    sa.ForeignKeyConstraint(['request_id'], ['disposal_request.id'], name=op.f('fk_quote_request_id_disposal_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote'))
    )
    op.create_index(op.f('ix_quote_operator_id'), 'quote', ['operator_id'], unique=False)
    op.create_index(op.f('ix_quote_request_id'), 'quote', ['request_id'], unique=False)
    op.create_index('uq_quote_accepted_per_request', 'quote', ['request_id'], unique=True, postgresql_where=sa.text("status = 'accepted'"))
    op.create_index('uq_quote_live_per_operator', 'quote', ['request_id', 'operator_id'], unique=True, postgresql_where=sa.text("status = 'submitted'"))
    op.create_table('trade_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('generator_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('licence_item_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('waste_code', sa.String(length=10), nullable=True),
    sa.Column('quantity_kg', sa.BigInteger(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('subject_to_sampling', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('created', 'sampling', 'price_confirmed', 'contract_pending', 'contract_signed', 'funding', 'funded', 'in_transfer', 'received', 'settled', 'closed', 'cancelled', 'disputed', 'resolved')", name=op.f('ck_trade_order_status')),
    sa.CheckConstraint('(quote_id IS NOT NULL AND request_id IS NOT NULL AND offer_id IS NULL) OR (quote_id IS NULL AND request_id IS NULL AND offer_id IS NOT NULL)', name=op.f('ck_trade_order_one_source')),
    sa.CheckConstraint('generator_id <> operator_id', name=op.f('ck_trade_order_distinct_parties')),
    sa.CheckConstraint('quantity_kg > 0', name=op.f('ck_trade_order_quantity_positive')),
    sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'], name=op.f('fk_trade_order_category_code_waste_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_trade_order_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['generator_id'], ['organisation.id'], name=op.f('fk_trade_order_generator_id_organisation')),
    sa.ForeignKeyConstraint(['licence_item_id'], ['licence_item.id'], name=op.f('fk_trade_order_licence_item_id_licence_item')),
    sa.ForeignKeyConstraint(['offer_id'], ['storefront_offer.id'], name=op.f('fk_trade_order_offer_id_storefront_offer')),
    sa.ForeignKeyConstraint(['operator_id'], ['organisation.id'], name=op.f('fk_trade_order_operator_id_organisation')),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_trade_order_quote_id_quote')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_trade_order_region_code_region')),
    sa.ForeignKeyConstraint(['request_id'], ['disposal_request.id'], name=op.f('fk_trade_order_request_id_disposal_request')),
    sa.ForeignKeyConstraint(['waste_code'], ['waste_code.code'], name=op.f('fk_trade_order_waste_code_waste_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trade_order')),
    sa.UniqueConstraint('number', name=op.f('uq_trade_order_number')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_trade_order_quote_id'))
    )
    op.create_index(op.f('ix_trade_order_generator_id'), 'trade_order', ['generator_id'], unique=False)
    op.create_index(op.f('ix_trade_order_offer_id'), 'trade_order', ['offer_id'], unique=False)
    op.create_index(op.f('ix_trade_order_operator_id'), 'trade_order', ['operator_id'], unique=False)
    op.create_index(op.f('ix_trade_order_request_id'), 'trade_order', ['request_id'], unique=False)
    op.create_index(op.f('ix_trade_order_status'), 'trade_order', ['status'], unique=False)
    op.create_table('capacity_reservation',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('licence_item_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kg', sa.BigInteger(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('kg > 0', name=op.f('ck_capacity_reservation_kg_positive')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_capacity_reservation_year_range')),
    sa.ForeignKeyConstraint(['licence_item_id'], ['licence_item.id'], name=op.f('fk_capacity_reservation_licence_item_id_licence_item')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_capacity_reservation_order_id_trade_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_reservation')),
    sa.UniqueConstraint('order_id', name=op.f('uq_capacity_reservation_order_id'))
    )
    op.create_index('ix_capacity_reservation_active', 'capacity_reservation', ['licence_item_id', 'year'], unique=False, postgresql_where=sa.text('released_at IS NULL'), postgresql_include=['kg'])
    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('payee_org_id', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen_per_t', sa.BigInteger(), nullable=True),
    sa.Column('quantity_kg', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(kind = 'disposal') = (unit_price_fen_per_t IS NOT NULL)", name=op.f('ck_order_line_priced_disposal')),
    sa.CheckConstraint("kind = 'disposal' OR amount_fen >= 0", name=op.f('ck_order_line_fees_not_negative')),
    sa.CheckConstraint("kind IN ('disposal', 'transport', 'sampling')", name=op.f('ck_order_line_kind')),
    sa.CheckConstraint('quantity_kg > 0', name=op.f('ck_order_line_quantity_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_order_line_order_id_trade_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payee_org_id'], ['organisation.id'], name=op.f('fk_order_line_payee_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    op.create_index(op.f('ix_order_line_order_id'), 'order_line', ['order_id'], unique=False)
    op.create_index(op.f('ix_order_line_payee_org_id'), 'order_line', ['payee_org_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_order_line_payee_org_id'), table_name='order_line')
    op.drop_index(op.f('ix_order_line_order_id'), table_name='order_line')
    op.drop_table('order_line')
    op.drop_index('ix_capacity_reservation_active', table_name='capacity_reservation', postgresql_where=sa.text('released_at IS NULL'), postgresql_include=['kg'])
    op.drop_table('capacity_reservation')
    op.drop_index(op.f('ix_trade_order_status'), table_name='trade_order')
    op.drop_index(op.f('ix_trade_order_request_id'), table_name='trade_order')
    op.drop_index(op.f('ix_trade_order_operator_id'), table_name='trade_order')
    op.drop_index(op.f('ix_trade_order_offer_id'), table_name='trade_order')
    op.drop_index(op.f('ix_trade_order_generator_id'), table_name='trade_order')
    op.drop_table('trade_order')
    op.drop_index('uq_quote_live_per_operator', table_name='quote', postgresql_where=sa.text("status = 'submitted'"))
    op.drop_index('uq_quote_accepted_per_request', table_name='quote', postgresql_where=sa.text("status = 'accepted'"))
    op.drop_index(op.f('ix_quote_request_id'), table_name='quote')
    op.drop_index(op.f('ix_quote_operator_id'), table_name='quote')
    op.drop_table('quote')
    op.drop_index('ix_disposal_request_status_category', table_name='disposal_request')
    op.drop_index(op.f('ix_disposal_request_generator_id'), table_name='disposal_request')
    op.drop_table('disposal_request')
    op.drop_index(op.f('ix_storefront_offer_operator_id'), table_name='storefront_offer')
    op.drop_index('ix_storefront_offer_category_active', table_name='storefront_offer', postgresql_where=sa.text('active'))
    op.drop_table('storefront_offer')
    op.drop_index(op.f('ix_service_area_org_id'), table_name='service_area')
    op.drop_table('service_area')
    op.drop_table('alert_preference')
    op.execute("DROP SEQUENCE trade_order_number_seq")
    op.execute("DROP SEQUENCE disposal_request_number_seq")

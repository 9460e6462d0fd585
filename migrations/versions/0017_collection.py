"""collection: rounds, their categories, bookings and trips; an order may come from a booking

Revision ID: 0017_collection
Revises: 0010_identity

A collector publishes collection rounds; small generators book a place; each booking is settled on
its own as an order whose source is the booking (trade_order.booking_id) and whose disposal line
may carry a minimum charge (order_line.minimum_fen). A started round's trip links the bookings'
manifests (manifest.trip_id, now a foreign key).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017_collection'
down_revision = '0013_integrations'
branch_labels = None
depends_on = None

OLD_SOURCE = ('(quote_id IS NOT NULL AND request_id IS NOT NULL AND offer_id IS NULL) OR '
              '(quote_id IS NULL AND request_id IS NULL AND offer_id IS NOT NULL)')
NEW_SOURCE = ('(quote_id IS NOT NULL AND request_id IS NOT NULL AND offer_id IS NULL AND booking_id IS NULL)'
              ' OR (quote_id IS NULL AND request_id IS NULL AND offer_id IS NOT NULL AND booking_id IS NULL)'
              ' OR (quote_id IS NULL AND request_id IS NULL AND offer_id IS NULL AND booking_id IS NOT NULL)')


RELEASE_CHECK = """
CREATE OR REPLACE FUNCTION escrow_release_needs_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_kind text;
    line_order integer;
    order_status text;
    order_number text;
BEGIN
    SELECT ol.kind, ol.order_id, o.status, o.number
      INTO line_kind, line_order, order_status, order_number
      FROM order_line ol JOIN trade_order o ON o.id = ol.order_id
     WHERE ol.id = NEW.line_id;
    IF line_order IS DISTINCT FROM NEW.order_id THEN
        RAISE EXCEPTION 'release of line % does not belong to order %', NEW.line_id, NEW.order_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF line_kind NOT IN ('disposal', 'transport') THEN
        RETURN NEW;
    END IF;
    %(no_show)s
    IF order_status NOT IN ('received', 'settled', 'disputed', 'resolved') THEN
        RAISE EXCEPTION 'order % is %: no % line is released before its waste is received',
            order_number, order_status, line_kind USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM manifest m WHERE m.order_id = NEW.order_id
                  AND m.status NOT IN ('received', 'closed', 'cancelled')) THEN
        RAISE EXCEPTION 'order % has a manifest not yet received: no % line is released',
            order_number, line_kind USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
"""
# A collection booking that ended without waste (a no-show, a cancellation after the deadline)
# pays the collector its no-show fee from the disposal line of its funded order.
NO_SHOW = """IF order_status = 'funded' AND line_kind = 'disposal' AND EXISTS (
        SELECT 1 FROM trade_order o JOIN collection_booking b ON b.id = o.booking_id
         WHERE o.id = NEW.order_id AND b.status IN ('no_show', 'cancelled')) THEN
        RETURN NEW;
    END IF;"""


# A round collects a category only under a collection (收集) licence item of its own operator for
# that category: a round picking up what its licence does not cover cannot exist.
ROUND_ITEM_CHECK = """
CREATE FUNCTION collection_round_item_licensed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM licence_item li
          JOIN licence l ON l.id = li.licence_id
          JOIN collection_round r ON r.id = NEW.round_id
         WHERE li.id = NEW.licence_item_id AND li.category_code = NEW.category_code
           AND '收集' = ANY(li.operations) AND l.org_id = r.operator_id) THEN
        RAISE EXCEPTION 'round % may not collect %: no collection licence item of its operator covers it',
            NEW.round_id, NEW.category_code USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER collection_round_item_licensed BEFORE INSERT OR UPDATE ON collection_round_item
    FOR EACH ROW EXECUTE FUNCTION collection_round_item_licensed();
"""


def upgrade():
    op.create_table(
        'collection_round',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('series_id', sa.Integer(), nullable=True),
        sa.Column('repeat', sa.String(length=10), nullable=False),
        sa.Column('region_codes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('window_start', sa.Time(), nullable=False),
        sa.Column('window_end', sa.Time(), nullable=False),
        sa.Column('price_fen_per_kg', sa.BigInteger(), nullable=False),
        sa.Column('minimum_fen', sa.BigInteger(), nullable=False),
        sa.Column('vehicle_capacity_kg', sa.BigInteger(), nullable=False),
        sa.Column('booking_closes_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("status IN ('published', 'started', 'received', 'cancelled')", name=op.f('ck_collection_round_status')),
        sa.CheckConstraint("repeat IN ('none', 'weekly', 'monthly')", name=op.f('ck_collection_round_repeat')),
        sa.CheckConstraint('vehicle_capacity_kg > 0', name=op.f('ck_collection_round_capacity_positive')),
        sa.CheckConstraint('minimum_fen >= 0', name=op.f('ck_collection_round_minimum_not_negative')),
        sa.CheckConstraint('price_fen_per_kg >= 0 OR minimum_fen = 0', name=op.f('ck_collection_round_no_minimum_when_paid')),
        sa.CheckConstraint('window_start < window_end', name=op.f('ck_collection_round_window')),
        sa.CheckConstraint('cardinality(region_codes) > 0', name=op.f('ck_collection_round_regions')),
        sa.ForeignKeyConstraint(['operator_id'], ['organisation.id'], name=op.f('fk_collection_round_operator_id_organisation')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_collection_round_created_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_round')),
        sa.UniqueConstraint('number', name=op.f('uq_collection_round_number')),
    )
    op.create_index(op.f('ix_collection_round_operator_id'), 'collection_round', ['operator_id'])
    op.create_index(op.f('ix_collection_round_series_id'), 'collection_round', ['series_id'])
    op.create_index(op.f('ix_collection_round_day'), 'collection_round', ['day'])
    op.create_index(op.f('ix_collection_round_status'), 'collection_round', ['status'])
    op.create_table(
        'collection_round_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('category_code', sa.String(length=4), nullable=False),
        sa.Column('codes', postgresql.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column('licence_item_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['collection_round.id'], name=op.f('fk_collection_round_item_round_id_collection_round'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'], name=op.f('fk_collection_round_item_category_code_waste_category')),
        sa.ForeignKeyConstraint(['licence_item_id'], ['licence_item.id'], name=op.f('fk_collection_round_item_licence_item_id_licence_item')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_round_item')),
        sa.UniqueConstraint('round_id', 'category_code', name='one_per_category'),
    )
    op.create_index(op.f('ix_collection_round_item_round_id'), 'collection_round_item', ['round_id'])
    op.execute(ROUND_ITEM_CHECK)
    op.create_table(
        'collection_booking',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('generator_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('category_code', sa.String(length=4), nullable=False),
        sa.Column('waste_code', sa.String(length=10), nullable=True),
        sa.Column('estimated_kg', sa.BigInteger(), nullable=False),
        sa.Column('containers', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('weighed_kg', sa.BigInteger(), nullable=True),
        sa.Column('received_kg', sa.BigInteger(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("status IN ('open', 'picked_up', 'no_show', 'received', 'cancelled', 'lapsed')", name=op.f('ck_collection_booking_status')),
        sa.CheckConstraint('estimated_kg > 0', name=op.f('ck_collection_booking_estimate_positive')),
        sa.CheckConstraint('containers > 0', name=op.f('ck_collection_booking_containers_positive')),
        sa.CheckConstraint('weighed_kg IS NULL OR weighed_kg > 0', name=op.f('ck_collection_booking_weighed_positive')),
        sa.CheckConstraint('received_kg IS NULL OR received_kg >= 0', name=op.f('ck_collection_booking_received_not_negative')),
        sa.ForeignKeyConstraint(['round_id'], ['collection_round.id'], name=op.f('fk_collection_booking_round_id_collection_round')),
        sa.ForeignKeyConstraint(['generator_id'], ['organisation.id'], name=op.f('fk_collection_booking_generator_id_organisation')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_collection_booking_created_by_id_app_user')),
        sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'], name=op.f('fk_collection_booking_category_code_waste_category')),
        sa.ForeignKeyConstraint(['waste_code'], ['waste_code.code'], name=op.f('fk_collection_booking_waste_code_waste_code')),
        sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_collection_booking_region_code_region')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_booking')),
    )
    op.create_index(op.f('ix_collection_booking_round_id'), 'collection_booking', ['round_id'])
    op.create_index(op.f('ix_collection_booking_generator_id'), 'collection_booking', ['generator_id'])
    op.create_index(op.f('ix_collection_booking_status'), 'collection_booking', ['status'])
    op.create_table(
        'collection_trip',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('carrier_org_id', sa.Integer(), nullable=False),
        sa.Column('vehicle_plate', sa.String(length=10), nullable=False),
        sa.Column('driver_name', sa.String(length=50), nullable=False),
        sa.Column('driver_phone', sa.String(length=20), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['collection_round.id'], name=op.f('fk_collection_trip_round_id_collection_round')),
        sa.ForeignKeyConstraint(['carrier_org_id'], ['organisation.id'], name=op.f('fk_collection_trip_carrier_org_id_organisation')),
        sa.ForeignKeyConstraint(['started_by_id'], ['app_user.id'], name=op.f('fk_collection_trip_started_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_trip')),
        sa.UniqueConstraint('round_id', name=op.f('uq_collection_trip_round_id')),
    )
    op.create_foreign_key(op.f('fk_manifest_trip_id_collection_trip'), 'manifest', 'collection_trip',
                          ['trip_id'], ['id'])
    op.add_column('trade_order', sa.Column('booking_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_trade_order_booking_id_collection_booking'), 'trade_order',
                          'collection_booking', ['booking_id'], ['id'])
    op.create_unique_constraint(op.f('uq_trade_order_booking_id'), 'trade_order', ['booking_id'])
    op.drop_constraint(op.f('ck_trade_order_one_source'), 'trade_order', type_='check')
    op.create_check_constraint(op.f('ck_trade_order_one_source'), 'trade_order', NEW_SOURCE)
    op.execute(RELEASE_CHECK.replace('%(no_show)s', NO_SHOW))
    op.add_column('order_line', sa.Column('minimum_fen', sa.BigInteger(), nullable=True))
    op.create_check_constraint(op.f('ck_order_line_minimum'), 'order_line',
                               "minimum_fen IS NULL OR (kind = 'disposal' AND minimum_fen >= 0)")


def downgrade():
    op.execute(RELEASE_CHECK.replace('%(no_show)s', ''))
    op.drop_constraint(op.f('ck_order_line_minimum'), 'order_line', type_='check')
    op.drop_column('order_line', 'minimum_fen')
    op.drop_constraint(op.f('ck_trade_order_one_source'), 'trade_order', type_='check')
    op.execute("DELETE FROM trade_order WHERE booking_id IS NOT NULL")
    op.create_check_constraint(op.f('ck_trade_order_one_source'), 'trade_order', OLD_SOURCE)
    op.drop_constraint(op.f('uq_trade_order_booking_id'), 'trade_order', type_='unique')
    op.drop_constraint(op.f('fk_trade_order_booking_id_collection_booking'), 'trade_order', type_='foreignkey')
    op.drop_column('trade_order', 'booking_id')
    op.drop_constraint(op.f('fk_manifest_trip_id_collection_trip'), 'manifest', type_='foreignkey')
    op.drop_table('collection_trip')
    op.drop_table('collection_booking')
    op.drop_table('collection_round_item')
    op.execute("DROP FUNCTION collection_round_item_licensed()")
    op.drop_table('collection_round')

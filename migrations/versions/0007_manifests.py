"""manifests: transfer manifests, their lines, signatures, driver codes, numbering counters,
discrepancies and provincial reports; 三流合一 alerts

Revision ID: 0007_manifests
Revises: 0006_ledger_post

A manifest signature is evidence: the database refuses to change or delete one, whatever the
caller (as the ledger refuses for postings).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

APPEND_ONLY = """
CREATE FUNCTION manifest_signature_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'manifest signatures are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER manifest_signature_append_only BEFORE UPDATE OR DELETE ON manifest_signature
    FOR EACH ROW EXECUTE FUNCTION manifest_signature_append_only();
"""

revision = '0007_manifests'
down_revision = '0006_ledger_post'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('manifest_counter',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('city_code', sa.String(length=4), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_serial BETWEEN 1 AND 999999', name=op.f('ck_manifest_counter_serial_range')),
    sa.PrimaryKeyConstraint('year', 'city_code', name=op.f('pk_manifest_counter'))
    )
    op.create_table('manifest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=14), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('trip_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('verify_token', sa.String(length=32), nullable=False),
    sa.Column('generator_org_id', sa.Integer(), nullable=False),
    sa.Column('planned_pickup_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pickup_address', sa.String(length=300), nullable=False),
    sa.Column('carrier_org_id', sa.Integer(), nullable=False),
    sa.Column('carrier_permit_number', sa.String(length=60), nullable=False),
    sa.Column('vehicle_plate', sa.String(length=10), nullable=False),
    sa.Column('driver_name', sa.String(length=50), nullable=False),
    sa.Column('driver_phone', sa.String(length=20), nullable=False),
    sa.Column('driver_email', sa.String(length=254), nullable=True),
    sa.Column('receiver_org_id', sa.Integer(), nullable=False),
    sa.Column('licence_number', sa.String(length=60), nullable=False),
    sa.Column('method_code', sa.String(length=4), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.Column('provincial_number', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("number ~ '^[0-9]{14}$'", name=op.f('ck_manifest_number_format')),
    sa.CheckConstraint("status <> 'shipped' OR shipped_at IS NOT NULL", name=op.f('ck_manifest_shipped_at')),
    sa.CheckConstraint("status IN ('draft', 'shipped', 'received', 'closed', 'cancelled')", name=op.f('ck_manifest_status')),
    sa.CheckConstraint("status NOT IN ('received', 'closed') OR (received_at IS NOT NULL AND method_code IS NOT NULL)", name=op.f('ck_manifest_received')),
    sa.ForeignKeyConstraint(['carrier_org_id'], ['organisation.id'], name=op.f('fk_manifest_carrier_org_id_organisation')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_manifest_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['generator_org_id'], ['organisation.id'], name=op.f('fk_manifest_generator_org_id_organisation')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_manifest_order_id_trade_order')),
    sa.ForeignKeyConstraint(['receiver_org_id'], ['organisation.id'], name=op.f('fk_manifest_receiver_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest')),
    sa.UniqueConstraint('number', name=op.f('uq_manifest_number'))
    )
    op.create_index(op.f('ix_manifest_carrier_org_id'), 'manifest', ['carrier_org_id'], unique=False)
    op.create_index(op.f('ix_manifest_generator_org_id'), 'manifest', ['generator_org_id'], unique=False)
    op.create_index(op.f('ix_manifest_order_id'), 'manifest', ['order_id'], unique=False)
    op.create_index(op.f('ix_manifest_receiver_org_id'), 'manifest', ['receiver_org_id'], unique=False)
    op.create_index(op.f('ix_manifest_status'), 'manifest', ['status'], unique=False)
    op.create_index(op.f('ix_manifest_trip_id'), 'manifest', ['trip_id'], unique=False)
    op.create_table('manifest_driver_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.SmallInteger(), nullable=False),
    sa.Column('sent_to', sa.String(length=254), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('failed_attempts BETWEEN 0 AND 5', name=op.f('ck_manifest_driver_code_attempts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_manifest_driver_code_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_driver_code_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_driver_code'))
    )
    op.create_index(op.f('ix_manifest_driver_code_manifest_id'), 'manifest_driver_code', ['manifest_id'], unique=False)
    op.create_table('manifest_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('waste_code', sa.String(length=10), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('form', sa.String(length=20), nullable=False),
    sa.Column('packaging', sa.String(length=100), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sent_kg', sa.BigInteger(), nullable=False),
    sa.Column('hazards', postgresql.ARRAY(sa.String(length=2)), nullable=False),
    sa.Column('received_kg', sa.BigInteger(), nullable=True),
    sa.Column('refused_kg', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('(received_kg IS NULL) = (refused_kg IS NULL)', name=op.f('ck_manifest_line_weighed_together')),
    sa.CheckConstraint('count > 0', name=op.f('ck_manifest_line_count_positive')),
    sa.CheckConstraint('received_kg IS NULL OR received_kg >= 0', name=op.f('ck_manifest_line_received_not_negative')),
    sa.CheckConstraint('refused_kg IS NULL OR refused_kg <= received_kg', name=op.f('ck_manifest_line_refused_within')),
    sa.CheckConstraint('refused_kg IS NULL OR refused_kg >= 0', name=op.f('ck_manifest_line_refused_not_negative')),
    sa.CheckConstraint('sent_kg > 0', name=op.f('ck_manifest_line_sent_positive')),
    sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'], name=op.f('fk_manifest_line_category_code_waste_category')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_line_manifest_id_manifest'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_manifest_line_order_line_id_order_line')),
    sa.ForeignKeyConstraint(['waste_code'], ['waste_code.code'], name=op.f('fk_manifest_line_waste_code_waste_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_line'))
    )
    op.create_index(op.f('ix_manifest_line_manifest_id'), 'manifest_line', ['manifest_id'], unique=False)
    op.create_index(op.f('ix_manifest_line_order_line_id'), 'manifest_line', ['order_line_id'], unique=False)
    op.create_table('manifest_provincial_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provincial_number', sa.String(length=60), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("event IN ('shipped', 'received')", name=op.f('ck_manifest_provincial_report_event')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_manifest_provincial_report_status')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_provincial_report_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_provincial_report')),
    sa.UniqueConstraint('manifest_id', 'event', name='uq_manifest_provincial_report_event')
    )
    op.create_index(op.f('ix_manifest_provincial_report_manifest_id'), 'manifest_provincial_report', ['manifest_id'], unique=False)
    op.create_index('ix_manifest_provincial_report_unsent', 'manifest_provincial_report', ['id'], unique=False, postgresql_where=sa.text("status <> 'sent'"))
    op.create_table('manifest_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('signer_name', sa.String(length=100), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.CheckConstraint("(method = 'login' AND user_id IS NOT NULL) OR (method = 'driver_code' AND user_id IS NULL AND part = 'carrier')", name=op.f('ck_manifest_signature_method_user')),
    sa.CheckConstraint("method IN ('login', 'driver_code')", name=op.f('ck_manifest_signature_method')),
    sa.CheckConstraint("part IN ('generator', 'carrier', 'receiver')", name=op.f('ck_manifest_signature_part')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_signature_manifest_id_manifest')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_manifest_signature_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_signature')),
    sa.UniqueConstraint('manifest_id', 'part', name='uq_manifest_signature_part')
    )
    op.create_index(op.f('ix_manifest_signature_manifest_id'), 'manifest_signature', ['manifest_id'], unique=False)
    op.create_table('oversight_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('manifest_id', sa.Integer(), nullable=True),
    sa.Column('generator_org_id', sa.Integer(), nullable=True),
    sa.Column('operator_org_id', sa.Integer(), nullable=True),
    sa.Column('carrier_org_id', sa.Integer(), nullable=True),
    sa.Column('generator_region', sa.String(length=6), nullable=True),
    sa.Column('pickup_region', sa.String(length=6), nullable=True),
    sa.Column('operator_region', sa.String(length=6), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("severity IN ('info', 'warning', 'critical')", name=op.f('ck_oversight_alert_severity')),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name=op.f('ck_oversight_alert_status')),
    sa.ForeignKeyConstraint(['carrier_org_id'], ['organisation.id'], name=op.f('fk_oversight_alert_carrier_org_id_organisation')),
    sa.ForeignKeyConstraint(['generator_org_id'], ['organisation.id'], name=op.f('fk_oversight_alert_generator_org_id_organisation')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_oversight_alert_manifest_id_manifest')),
    sa.ForeignKeyConstraint(['operator_org_id'], ['organisation.id'], name=op.f('fk_oversight_alert_operator_org_id_organisation')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_oversight_alert_order_id_trade_order')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_oversight_alert_updated_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oversight_alert')),
    sa.UniqueConstraint('rule_id', 'subject', name='uq_oversight_alert_rule_subject')
    )
    op.create_index(op.f('ix_oversight_alert_manifest_id'), 'oversight_alert', ['manifest_id'], unique=False)
    op.create_index('ix_oversight_alert_open', 'oversight_alert', ['created_at'], unique=False, postgresql_where=sa.text("status = 'open'"))
    op.create_index(op.f('ix_oversight_alert_order_id'), 'oversight_alert', ['order_id'], unique=False)
    op.create_index(op.f('ix_oversight_alert_rule_id'), 'oversight_alert', ['rule_id'], unique=False)
    op.create_index(op.f('ix_oversight_alert_status'), 'oversight_alert', ['status'], unique=False)
    op.create_table('manifest_discrepancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_line_id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('sent_kg', sa.BigInteger(), nullable=False),
    sa.Column('received_kg', sa.BigInteger(), nullable=False),
    sa.Column('refused_kg', sa.BigInteger(), nullable=False),
    sa.Column('receiver_comment', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('generator_comment', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispute_id', sa.Integer(), nullable=True),
    sa.Column('refusal_disposition', sa.String(length=20), nullable=True),
    sa.Column('refusal_destination_org_id', sa.Integer(), nullable=True),
    sa.Column('refusal_manifest_id', sa.Integer(), nullable=True),
    sa.Column('refusal_note', sa.Text(), nullable=True),
    sa.Column('refusal_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('weight', 'refusal')", name=op.f('ck_manifest_discrepancy_kind')),
    sa.CheckConstraint("refusal_disposition IS NULL OR refusal_disposition IN ('return', 'new_destination')", name=op.f('ck_manifest_discrepancy_refusal_disposition')),
    sa.CheckConstraint("status IN ('open', 'confirmed', 'disputed', 'resolved')", name=op.f('ck_manifest_discrepancy_status')),
    sa.CheckConstraint('length(btrim(receiver_comment)) > 0', name=op.f('ck_manifest_discrepancy_receiver_comment')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_manifest_discrepancy_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['dispute_id'], ['escrow_dispute.id'], name=op.f('fk_manifest_discrepancy_dispute_id_escrow_dispute')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_discrepancy_manifest_id_manifest')),
    sa.ForeignKeyConstraint(['manifest_line_id'], ['manifest_line.id'], name=op.f('fk_manifest_discrepancy_manifest_line_id_manifest_line')),
    sa.ForeignKeyConstraint(['refusal_destination_org_id'], ['organisation.id'], name=op.f('fk_manifest_discrepancy_refusal_destination_org_id_organisation')),
    sa.ForeignKeyConstraint(['refusal_manifest_id'], ['manifest.id'], name=op.f('fk_manifest_discrepancy_refusal_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_discrepancy')),
    sa.UniqueConstraint('manifest_line_id', name=op.f('uq_manifest_discrepancy_manifest_line_id'))
    )
    op.create_index(op.f('ix_manifest_discrepancy_manifest_id'), 'manifest_discrepancy', ['manifest_id'], unique=False)
    op.create_index(op.f('ix_manifest_discrepancy_status'), 'manifest_discrepancy', ['status'], unique=False)
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER manifest_signature_append_only ON manifest_signature")
    op.execute("DROP FUNCTION manifest_signature_append_only()")
    op.drop_index(op.f('ix_manifest_discrepancy_status'), table_name='manifest_discrepancy')
    op.drop_index(op.f('ix_manifest_discrepancy_manifest_id'), table_name='manifest_discrepancy')
    op.drop_table('manifest_discrepancy')
    op.drop_index(op.f('ix_oversight_alert_status'), table_name='oversight_alert')
    op.drop_index(op.f('ix_oversight_alert_rule_id'), table_name='oversight_alert')
    op.drop_index(op.f('ix_oversight_alert_order_id'), table_name='oversight_alert')
    op.drop_index('ix_oversight_alert_open', table_name='oversight_alert', postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_oversight_alert_manifest_id'), table_name='oversight_alert')
    op.drop_table('oversight_alert')
    op.drop_index(op.f('ix_manifest_signature_manifest_id'), table_name='manifest_signature')
    op.drop_table('manifest_signature')
    op.drop_index('ix_manifest_provincial_report_unsent', table_name='manifest_provincial_report', postgresql_where=sa.text("status <> 'sent'"))
    op.drop_index(op.f('ix_manifest_provincial_report_manifest_id'), table_name='manifest_provincial_report')
    op.drop_table('manifest_provincial_report')
    op.drop_index(op.f('ix_manifest_line_order_line_id'), table_name='manifest_line')
    op.drop_index(op.f('ix_manifest_line_manifest_id'), table_name='manifest_line')
    op.drop_table('manifest_line')
    op.drop_index(op.f('ix_manifest_driver_code_manifest_id'), table_name='manifest_driver_code')
    op.drop_table('manifest_driver_code')
    op.drop_index(op.f('ix_manifest_trip_id'), table_name='manifest')
    op.drop_index(op.f('ix_manifest_status'), table_name='manifest')
    op.drop_index(op.f('ix_manifest_receiver_org_id'), table_name='manifest')
    op.drop_index(op.f('ix_manifest_order_id'), table_name='manifest')
    op.drop_index(op.f('ix_manifest_generator_org_id'), table_name='manifest')
    op.drop_index(op.f('ix_manifest_carrier_org_id'), table_name='manifest')
    op.drop_table('manifest')
    op.drop_table('manifest_counter')

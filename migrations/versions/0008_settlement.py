"""settlement: an order's settlement and its lines, the disposal certificate; and the database's
refusal of a release for a line whose waste has not been received

Revision ID: 0008_settlement
Revises: 0007_manifests

Money for the disposal or transport line leaves escrow only for waste that arrived (DESIGN.md §6,
issue 10): a BEFORE INSERT trigger on escrow_movement refuses a release of such a line unless its
order is received, settled, disputed or resolved and none of its manifests is still on the way
(every manifest not cancelled is received or closed). The sampling line (the lab's fee) is not
bound to the waste and stays releasable.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_settlement'
down_revision = '0007_manifests'
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION escrow_release_needs_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
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

TRIGGERS = """
CREATE TRIGGER escrow_release_needs_receipt BEFORE INSERT ON escrow_movement
    FOR EACH ROW WHEN (NEW.kind = 'release')
    EXECUTE FUNCTION escrow_release_needs_receipt();
"""


def upgrade() -> None:
    op.create_table('settlement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('accepted_kg', sa.BigInteger(), nullable=False),
    sa.Column('disposal_fen', sa.BigInteger(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('topup_fen', sa.BigInteger(), nullable=False),
    sa.Column('retained_fen', sa.BigInteger(), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retention_released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('certificate_file', sa.String(length=80), nullable=True),
    sa.Column('certificate_mime', sa.String(length=40), nullable=True),
    sa.Column('certificate_name', sa.String(length=200), nullable=True),
    sa.Column('certificate_by_id', sa.Integer(), nullable=True),
    sa.Column('certificate_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('topup_due', 'settled')", name=op.f('ck_settlement_status')),
    sa.CheckConstraint('accepted_kg >= 0', name=op.f('ck_settlement_accepted_not_negative')),
    sa.CheckConstraint('fee_fen >= 0 AND refunded_fen >= 0 AND topup_fen >= 0 AND retained_fen >= 0', name=op.f('ck_settlement_amounts')),
    sa.CheckConstraint("status <> 'settled' OR (settled_at IS NOT NULL AND topup_fen = 0)", name=op.f('ck_settlement_settled')),
    sa.CheckConstraint('(certificate_file IS NULL) = (certificate_at IS NULL)', name=op.f('ck_settlement_certificate')),
    sa.ForeignKeyConstraint(['certificate_by_id'], ['app_user.id'], name=op.f('fk_settlement_certificate_by_id_app_user')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_settlement_order_id_trade_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement')),
    sa.UniqueConstraint('order_id', name=op.f('uq_settlement_order_id'))
    )
    op.create_table('settlement_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('payer_org_id', sa.Integer(), nullable=False),
    sa.Column('payee_org_id', sa.Integer(), nullable=False),
    sa.Column('value_fen', sa.BigInteger(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('retained_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('value_fen >= 0 AND fee_fen >= 0 AND retained_fen BETWEEN 0 AND value_fen', name=op.f('ck_settlement_line_amounts')),
    sa.ForeignKeyConstraint(['line_id'], ['order_line.id'], name=op.f('fk_settlement_line_line_id_order_line')),
    sa.ForeignKeyConstraint(['payee_org_id'], ['organisation.id'], name=op.f('fk_settlement_line_payee_org_id_organisation')),
    sa.ForeignKeyConstraint(['payer_org_id'], ['organisation.id'], name=op.f('fk_settlement_line_payer_org_id_organisation')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlement.id'], name=op.f('fk_settlement_line_settlement_id_settlement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_line')),
    sa.UniqueConstraint('line_id', name=op.f('uq_settlement_line_line_id'))
    )
    op.create_index(op.f('ix_settlement_line_settlement_id'), 'settlement_line', ['settlement_id'], unique=False)
    op.create_index(op.f('ix_settlement_line_payee_org_id'), 'settlement_line', ['payee_org_id'], unique=False)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS escrow_release_needs_receipt ON escrow_movement")
    op.execute("DROP FUNCTION IF EXISTS escrow_release_needs_receipt()")
    op.drop_index(op.f('ix_settlement_line_payee_org_id'), table_name='settlement_line')
    op.drop_index(op.f('ix_settlement_line_settlement_id'), table_name='settlement_line')
    op.drop_table('settlement_line')
    op.drop_table('settlement')

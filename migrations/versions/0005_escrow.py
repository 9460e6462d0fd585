"""escrow: funding requests, card payments, receipts, movements, payouts, disputes, cancellations,
webhook events; and the database's guarantee that a closed or cancelled order holds no money

Revision ID: 0005_escrow
Revises: 0004_sampling_contracts

escrow:O = 0 once an order is closed or cancelled (DESIGN.md §6) is checked at commit by a
deferred constraint trigger on the order's status, against the balance the ledger's posting
trigger keeps on the escrow account under its row lock; so a use case that cancels and refunds in
one transaction passes, and one that forgets the refund is rolled back.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005_escrow'
down_revision = '0004_sampling_contracts'
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION escrow_empty_when_closed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    held bigint;
BEGIN
    SELECT cached_balance_fen INTO held FROM ledger_account WHERE code = 'escrow:' || NEW.number;
    IF COALESCE(held, 0) <> 0 THEN
        RAISE EXCEPTION 'order % is % but its escrow still holds % fen', NEW.number, NEW.status, held
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE CONSTRAINT TRIGGER escrow_empty_when_closed AFTER UPDATE OF status ON trade_order
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status IN ('closed', 'cancelled'))
    EXECUTE FUNCTION escrow_empty_when_closed();
"""


def upgrade() -> None:
    op.create_table('escrow_webhook_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('received', 'processed', 'ignored', 'alerted')", name=op.f('ck_escrow_webhook_event_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_webhook_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_escrow_webhook_event_event_id'))
    )
    op.create_table('escrow_payout_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_escrow_payout_account_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_payout_account')),
    sa.UniqueConstraint('org_id', 'gateway', name='uq_escrow_payout_account_org')
    )
    op.create_table('escrow_cancellation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_org_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'agreed', 'withdrawn')", name=op.f('ck_escrow_cancellation_status')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['app_user.id'], name=op.f('fk_escrow_cancellation_decided_by_user_id_app_user')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_escrow_cancellation_order_id_trade_order')),
    sa.ForeignKeyConstraint(['proposed_by_org_id'], ['organisation.id'], name=op.f('fk_escrow_cancellation_proposed_by_org_id_organisation')),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['app_user.id'], name=op.f('fk_escrow_cancellation_proposed_by_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_cancellation'))
    )
    op.create_index(op.f('ix_escrow_cancellation_order_id'), 'escrow_cancellation', ['order_id'], unique=False)
    op.create_index('uq_escrow_cancellation_open', 'escrow_cancellation', ['order_id'], unique=True, postgresql_where=sa.text("status = 'open'"))
    op.create_table('escrow_dispute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_org_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('held_fen', sa.BigInteger(), nullable=True),
    sa.Column('split', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f('ck_escrow_dispute_status')),
    sa.ForeignKeyConstraint(['opened_by_org_id'], ['organisation.id'], name=op.f('fk_escrow_dispute_opened_by_org_id_organisation')),
    sa.ForeignKeyConstraint(['opened_by_user_id'], ['app_user.id'], name=op.f('fk_escrow_dispute_opened_by_user_id_app_user')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_escrow_dispute_order_id_trade_order')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['app_user.id'], name=op.f('fk_escrow_dispute_resolved_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_dispute'))
    )
    op.create_index(op.f('ix_escrow_dispute_order_id'), 'escrow_dispute', ['order_id'], unique=False)
    op.create_index('uq_escrow_dispute_open', 'escrow_dispute', ['order_id'], unique=True, postgresql_where=sa.text("status = 'open'"))
    op.create_table('escrow_funding_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('payer_org_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'paid', 'cancelled')", name=op.f('ck_escrow_funding_request_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_escrow_funding_request_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_escrow_funding_request_order_id_trade_order')),
    sa.ForeignKeyConstraint(['payer_org_id'], ['organisation.id'], name=op.f('fk_escrow_funding_request_payer_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_funding_request')),
    sa.UniqueConstraint('order_id', 'payer_org_id', name='uq_escrow_funding_request_payer'),
    sa.UniqueConstraint('reference', name=op.f('uq_escrow_funding_request_reference'))
    )
    op.create_index(op.f('ix_escrow_funding_request_order_id'), 'escrow_funding_request', ['order_id'], unique=False)
    op.create_index(op.f('ix_escrow_funding_request_payer_org_id'), 'escrow_funding_request', ['payer_org_id'], unique=False)
    op.create_table('escrow_dispute_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('mime', sa.String(length=40), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['escrow_dispute.id'], name=op.f('fk_escrow_dispute_evidence_dispute_id_escrow_dispute')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_escrow_dispute_evidence_uploaded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_dispute_evidence'))
    )
    op.create_index(op.f('ix_escrow_dispute_evidence_dispute_id'), 'escrow_dispute_evidence', ['dispute_id'], unique=False)
    op.create_table('escrow_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('funding_request_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('client_secret', sa.String(length=200), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('created', 'succeeded', 'failed')", name=op.f('ck_escrow_payment_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_escrow_payment_amount_positive')),
    sa.ForeignKeyConstraint(['funding_request_id'], ['escrow_funding_request.id'], name=op.f('fk_escrow_payment_funding_request_id_escrow_funding_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_payment')),
    sa.UniqueConstraint('external_id', name=op.f('uq_escrow_payment_external_id'))
    )
    op.create_index(op.f('ix_escrow_payment_funding_request_id'), 'escrow_payment', ['funding_request_id'], unique=False)
    op.create_table('escrow_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('funding_request_id', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('payer_name', sa.String(length=200), nullable=False),
    sa.Column('bank_ref', sa.String(length=100), nullable=False),
    sa.Column('applied_fen', sa.BigInteger(), nullable=False),
    sa.Column('suspense_fen', sa.BigInteger(), nullable=False),
    sa.Column('suspense_cleared_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('funded', 'partial', 'excess', 'unmatched')", name=op.f('ck_escrow_receipt_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_escrow_receipt_amount_positive')),
    sa.CheckConstraint('applied_fen >= 0 AND suspense_fen >= 0 AND applied_fen + suspense_fen = amount_fen', name=op.f('ck_escrow_receipt_split')),
    sa.CheckConstraint('suspense_cleared_fen BETWEEN 0 AND suspense_fen', name=op.f('ck_escrow_receipt_cleared')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['app_user.id'], name=op.f('fk_escrow_receipt_confirmed_by_id_app_user')),
    sa.ForeignKeyConstraint(['funding_request_id'], ['escrow_funding_request.id'], name=op.f('fk_escrow_receipt_funding_request_id_escrow_funding_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_receipt')),
    sa.UniqueConstraint('gateway', 'bank_ref', name='uq_escrow_receipt_bank_ref')
    )
    op.create_index(op.f('ix_escrow_receipt_funding_request_id'), 'escrow_receipt', ['funding_request_id'], unique=False)
    op.create_index('ix_escrow_receipt_open_suspense', 'escrow_receipt', ['id'], unique=False, postgresql_where=sa.text('suspense_cleared_fen < suspense_fen'))
    op.create_table('escrow_movement',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('value_fen', sa.BigInteger(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('dispute_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'suspense_return') = (order_id IS NULL)", name=op.f('ck_escrow_movement_order_present')),
    sa.CheckConstraint("kind <> 'release' OR line_id IS NOT NULL", name=op.f('ck_escrow_movement_release_has_line')),
    sa.CheckConstraint("kind IN ('fund', 'release', 'refund', 'suspense_return')", name=op.f('ck_escrow_movement_kind')),
    sa.CheckConstraint('amount_fen > 0 AND value_fen >= 0 AND fee_fen >= 0', name=op.f('ck_escrow_movement_amounts')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['app_user.id'], name=op.f('fk_escrow_movement_actor_user_id_app_user')),
    sa.ForeignKeyConstraint(['dispute_id'], ['escrow_dispute.id'], name=op.f('fk_escrow_movement_dispute_id_escrow_dispute')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_escrow_movement_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['line_id'], ['order_line.id'], name=op.f('fk_escrow_movement_line_id_order_line')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_escrow_movement_order_id_trade_order')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_escrow_movement_org_id_organisation')),
    sa.ForeignKeyConstraint(['receipt_id'], ['escrow_receipt.id'], name=op.f('fk_escrow_movement_receipt_id_escrow_receipt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_movement')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_escrow_movement_entry_id')),
    sa.UniqueConstraint('key', name=op.f('uq_escrow_movement_key'))
    )
    op.create_index(op.f('ix_escrow_movement_dispute_id'), 'escrow_movement', ['dispute_id'], unique=False)
    op.create_index(op.f('ix_escrow_movement_line_id'), 'escrow_movement', ['line_id'], unique=False)
    op.create_index(op.f('ix_escrow_movement_order_id'), 'escrow_movement', ['order_id'], unique=False)
    op.create_index(op.f('ix_escrow_movement_org_id'), 'escrow_movement', ['org_id'], unique=False)
    op.create_index(op.f('ix_escrow_movement_receipt_id'), 'escrow_movement', ['receipt_id'], unique=False)
    op.create_table('escrow_payout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("method <> 'stripe_refund' OR payment_id IS NOT NULL", name=op.f('ck_escrow_payout_refund_has_payment')),
    sa.CheckConstraint("method IN ('bank', 'stripe_refund', 'stripe_transfer')", name=op.f('ck_escrow_payout_method')),
    sa.CheckConstraint("status IN ('pending', 'executed', 'failed')", name=op.f('ck_escrow_payout_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_escrow_payout_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_escrow_payout_order_id_trade_order')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_escrow_payout_org_id_organisation')),
    sa.ForeignKeyConstraint(['payment_id'], ['escrow_payment.id'], name=op.f('fk_escrow_payout_payment_id_escrow_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_payout')),
    sa.UniqueConstraint('key', name=op.f('uq_escrow_payout_key'))
    )
    op.create_index(op.f('ix_escrow_payout_order_id'), 'escrow_payout', ['order_id'], unique=False)
    op.create_index(op.f('ix_escrow_payout_org_id'), 'escrow_payout', ['org_id'], unique=False)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS escrow_empty_when_closed ON trade_order")
    op.execute("DROP FUNCTION IF EXISTS escrow_empty_when_closed()")
    op.drop_index(op.f('ix_escrow_payout_org_id'), table_name='escrow_payout')
    op.drop_index(op.f('ix_escrow_payout_order_id'), table_name='escrow_payout')
    op.drop_table('escrow_payout')
    op.drop_index(op.f('ix_escrow_movement_receipt_id'), table_name='escrow_movement')
    op.drop_index(op.f('ix_escrow_movement_org_id'), table_name='escrow_movement')
    op.drop_index(op.f('ix_escrow_movement_order_id'), table_name='escrow_movement')
    op.drop_index(op.f('ix_escrow_movement_line_id'), table_name='escrow_movement')
    op.drop_index(op.f('ix_escrow_movement_dispute_id'), table_name='escrow_movement')
    op.drop_table('escrow_movement')
    op.drop_index('ix_escrow_receipt_open_suspense', table_name='escrow_receipt', postgresql_where=sa.text('suspense_cleared_fen < suspense_fen'))
    op.drop_index(op.f('ix_escrow_receipt_funding_request_id'), table_name='escrow_receipt')
    op.drop_table('escrow_receipt')
    op.drop_index(op.f('ix_escrow_payment_funding_request_id'), table_name='escrow_payment')
    op.drop_table('escrow_payment')
    op.drop_index(op.f('ix_escrow_dispute_evidence_dispute_id'), table_name='escrow_dispute_evidence')
    op.drop_table('escrow_dispute_evidence')
    op.drop_index(op.f('ix_escrow_funding_request_payer_org_id'), table_name='escrow_funding_request')
    op.drop_index(op.f('ix_escrow_funding_request_order_id'), table_name='escrow_funding_request')
    op.drop_table('escrow_funding_request')
    op.drop_index('uq_escrow_dispute_open', table_name='escrow_dispute', postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_escrow_dispute_order_id'), table_name='escrow_dispute')
    op.drop_table('escrow_dispute')
    op.drop_index('uq_escrow_cancellation_open', table_name='escrow_cancellation', postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_escrow_cancellation_order_id'), table_name='escrow_cancellation')
    op.drop_table('escrow_cancellation')
    op.drop_table('escrow_payout_account')
    op.drop_table('escrow_webhook_event')

"""sampling orders and results; contracts, versions, documents, signatures, revisions

Revision ID: 0004_sampling_contracts
Revises: 0003_listings

A signed contract never changes, and the database holds to it: signatures are append-only, a
version's terms are frozen once written, and a rendered document's bytes and hash never change
nor disappear. Like the ledger's, these are ordinary triggers, so a maintenance session running
with session_replication_role = replica (the test suite's truncate_all) can still empty the tables.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004_sampling_contracts'
down_revision = '0003_listings'
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION contract_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION contract_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.terms IS DISTINCT FROM OLD.terms OR NEW.version <> OLD.version
       OR NEW.contract_id <> OLD.contract_id THEN
        RAISE EXCEPTION 'the terms of contract version % are frozen', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION contract_document_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'contract documents are never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status = 'ready' AND (NEW.status <> 'ready' OR NEW.pdf IS DISTINCT FROM OLD.pdf
                                 OR NEW.sha256 IS DISTINCT FROM OLD.sha256) THEN
        RAISE EXCEPTION 'contract document % is rendered and immutable', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER contract_signature_append_only BEFORE UPDATE OR DELETE ON contract_signature
    FOR EACH ROW EXECUTE FUNCTION contract_refuse_change();
CREATE TRIGGER contract_version_frozen BEFORE UPDATE ON contract_version
    FOR EACH ROW EXECUTE FUNCTION contract_version_guard();
CREATE TRIGGER contract_document_immutable BEFORE UPDATE OR DELETE ON contract_document
    FOR EACH ROW EXECUTE FUNCTION contract_document_guard();
"""


def upgrade() -> None:
    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_contract_order_id_trade_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('number', name=op.f('uq_contract_number')),
    sa.UniqueConstraint('order_id', name=op.f('uq_contract_order_id'))
    )
    op.create_table('contract_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('terms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending_signatures', 'signed', 'superseded')", name=op.f('ck_contract_version_status')),
    sa.CheckConstraint('version > 0', name=op.f('ck_contract_version_version_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_version_contract_id_contract')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_version')),
    sa.UniqueConstraint('contract_id', 'version', name='uq_contract_version_number')
    )
    op.create_index(op.f('ix_contract_version_contract_id'), 'contract_version', ['contract_id'], unique=False)
    op.create_table('sampling_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('lab_id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_role', sa.String(length=20), nullable=False),
    sa.Column('analytes', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=True),
    sa.Column('fee_line_id', sa.Integer(), nullable=True),
    sa.Column('fee_status', sa.String(length=10), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collected_on', sa.Date(), nullable=True),
    sa.Column('sampler', sa.String(length=100), nullable=True),
    sa.Column('custody_number', sa.String(length=60), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_file', sa.String(length=80), nullable=True),
    sa.Column('report_sha256', sa.String(length=64), nullable=True),
    sa.Column('quoted_price_fen_per_t', sa.BigInteger(), nullable=True),
    sa.Column('confirmed_price_fen_per_t', sa.BigInteger(), nullable=True),
    sa.Column('price_decision', sa.String(length=20), nullable=True),
    sa.Column('price_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('generator_response', sa.String(length=20), nullable=True),
    sa.Column('generator_responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('generator_reason', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("fee_status IS NULL OR fee_status IN ('due', 'paid', 'void')", name=op.f('ck_sampling_order_fee_status')),
    sa.CheckConstraint("generator_response IS NULL OR generator_response IN ('accepted', 'rejected')", name=op.f('ck_sampling_order_generator_response')),
    sa.CheckConstraint("price_decision IS NULL OR price_decision IN ('confirmed', 'changed', 'declined')", name=op.f('ck_sampling_order_price_decision')),
    sa.CheckConstraint("requested_by_role IN ('generator', 'operator')", name=op.f('ck_sampling_order_requested_by_role')),
    sa.CheckConstraint("status IN ('requested', 'accepted', 'sample_collected', 'reported', 'closed', 'cancelled')", name=op.f('ck_sampling_order_status')),
    sa.CheckConstraint("status NOT IN ('reported', 'closed') OR report_file IS NOT NULL", name=op.f('ck_sampling_order_reported_has_report')),
    sa.CheckConstraint('cardinality(analytes) > 0', name=op.f('ck_sampling_order_analytes_present')),
    sa.CheckConstraint('fee_fen IS NULL OR fee_fen >= 0', name=op.f('ck_sampling_order_fee_not_negative')),
    sa.ForeignKeyConstraint(['fee_line_id'], ['order_line.id'], name=op.f('fk_sampling_order_fee_line_id_order_line'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lab_id'], ['organisation.id'], name=op.f('fk_sampling_order_lab_id_organisation')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_sampling_order_order_id_trade_order')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_sampling_order_permit_id_permit')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_sampling_order_requested_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_order')),
    sa.UniqueConstraint('number', name=op.f('uq_sampling_order_number'))
    )
    op.create_index(op.f('ix_sampling_order_lab_id'), 'sampling_order', ['lab_id'], unique=False)
    op.create_index(op.f('ix_sampling_order_order_id'), 'sampling_order', ['order_id'], unique=False)
    op.create_index(op.f('ix_sampling_order_status'), 'sampling_order', ['status'], unique=False)
    op.create_index('uq_sampling_order_live_per_order', 'sampling_order', ['order_id'], unique=True, postgresql_where=sa.text("status IN ('requested', 'accepted', 'sample_collected', 'reported')"))
    op.create_table('contract_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('draft', 'final')", name=op.f('ck_contract_document_kind')),
    sa.CheckConstraint("status <> 'ready' OR (pdf IS NOT NULL AND sha256 IS NOT NULL)", name=op.f('ck_contract_document_ready_has_pdf')),
    sa.CheckConstraint("status IN ('pending', 'ready', 'failed')", name=op.f('ck_contract_document_status')),
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], name=op.f('fk_contract_document_version_id_contract_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_document')),
    sa.UniqueConstraint('version_id', 'kind', name='uq_contract_document_version_kind')
    )
    op.create_index(op.f('ix_contract_document_sha256'), 'contract_document', ['sha256'], unique=False)
    op.create_index(op.f('ix_contract_document_version_id'), 'contract_document', ['version_id'], unique=False)
    op.create_table('contract_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposer_party', sa.String(length=10), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('new_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("proposer_party IN ('generator', 'operator')", name=op.f('ck_contract_revision_proposer_party')),
    sa.CheckConstraint("status IN ('proposed', 'accepted', 'rejected')", name=op.f('ck_contract_revision_status')),
    sa.ForeignKeyConstraint(['base_version_id'], ['contract_version.id'], name=op.f('fk_contract_revision_base_version_id_contract_version')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_revision_contract_id_contract')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_contract_revision_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['new_version_id'], ['contract_version.id'], name=op.f('fk_contract_revision_new_version_id_contract_version')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['app_user.id'], name=op.f('fk_contract_revision_proposed_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_revision'))
    )
    op.create_index(op.f('ix_contract_revision_contract_id'), 'contract_revision', ['contract_id'], unique=False)
    op.create_index('uq_contract_revision_open', 'contract_revision', ['contract_id'], unique=True, postgresql_where=sa.text("status = 'proposed'"))
    op.create_table('sampling_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sampling_order_id', sa.Integer(), nullable=False),
    sa.Column('analyte', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['sampling_order_id'], ['sampling_order.id'], name=op.f('fk_sampling_result_sampling_order_id_sampling_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_result')),
    sa.UniqueConstraint('sampling_order_id', 'analyte', name='uq_sampling_result_order_analyte')
    )
    op.create_index(op.f('ix_sampling_result_sampling_order_id'), 'sampling_result', ['sampling_order_id'], unique=False)
    op.create_table('contract_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=10), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("party IN ('generator', 'operator')", name=op.f('ck_contract_signature_party')),
    sa.ForeignKeyConstraint(['document_id'], ['contract_document.id'], name=op.f('fk_contract_signature_document_id_contract_document')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_contract_signature_org_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_contract_signature_user_id_app_user')),
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], name=op.f('fk_contract_signature_version_id_contract_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_signature')),
    sa.UniqueConstraint('version_id', 'party', name='uq_contract_signature_version_party')
    )
    op.create_index(op.f('ix_contract_signature_sha256'), 'contract_signature', ['sha256'], unique=False)
    op.create_index(op.f('ix_contract_signature_version_id'), 'contract_signature', ['version_id'], unique=False)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER contract_document_immutable ON contract_document")
    op.execute("DROP TRIGGER contract_version_frozen ON contract_version")
    op.execute("DROP TRIGGER contract_signature_append_only ON contract_signature")
    op.execute("DROP FUNCTION contract_document_guard(), contract_version_guard(), "
               "contract_refuse_change()")
    op.drop_index(op.f('ix_contract_signature_version_id'), table_name='contract_signature')
    op.drop_index(op.f('ix_contract_signature_sha256'), table_name='contract_signature')
    op.drop_table('contract_signature')
    op.drop_index(op.f('ix_sampling_result_sampling_order_id'), table_name='sampling_result')
    op.drop_table('sampling_result')
    op.drop_index('uq_contract_revision_open', table_name='contract_revision', postgresql_where=sa.text("status = 'proposed'"))
    op.drop_index(op.f('ix_contract_revision_contract_id'), table_name='contract_revision')
    op.drop_table('contract_revision')
    op.drop_index(op.f('ix_contract_document_version_id'), table_name='contract_document')
    op.drop_index(op.f('ix_contract_document_sha256'), table_name='contract_document')
    op.drop_table('contract_document')
    op.drop_index('uq_sampling_order_live_per_order', table_name='sampling_order', postgresql_where=sa.text("status IN ('requested', 'accepted', 'sample_collected', 'reported')"))
    op.drop_index(op.f('ix_sampling_order_status'), table_name='sampling_order')
    op.drop_index(op.f('ix_sampling_order_order_id'), table_name='sampling_order')
    op.drop_index(op.f('ix_sampling_order_lab_id'), table_name='sampling_order')
    op.drop_table('sampling_order')
    op.drop_index(op.f('ix_contract_version_contract_id'), table_name='contract_version')
    op.drop_table('contract_version')
    op.drop_table('contract')

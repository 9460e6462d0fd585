"""finance jobs: a large statement file is imported by a job that records its progress; a
statement line keeps who the bank says its counterparty is (a person or an organisation)

Revision ID: 0019_finance_jobs
Revises: 0017_collection
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019_finance_jobs'
down_revision = '0021_notification_messages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('recon_line', sa.Column('party_kind', sa.String(length=20), server_default='',
                                          nullable=False))
    op.create_table('recon_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('lines_total', sa.Integer(), nullable=False),
    sa.Column('lines_parsed', sa.Integer(), nullable=False),
    sa.Column('lines_matched', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('error', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("phase IN ('queued', 'parsing', 'storing', 'matching', 'done', 'failed')", name=op.f('ck_recon_upload_phase')),
    sa.CheckConstraint('percent BETWEEN 0 AND 100', name=op.f('ck_recon_upload_percent')),
    sa.ForeignKeyConstraint(['import_id'], ['recon_import.id'], name=op.f('fk_recon_upload_import_id_recon_import')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_recon_upload_requested_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_upload'))
    )


def downgrade() -> None:
    op.drop_table('recon_upload')
    op.drop_column('recon_line', 'party_kind')

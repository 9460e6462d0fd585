"""oversight: regulators' sanctions (blacklisting) and each organisation's credit score with its
components

Revision ID: 0015_oversight
Revises: 0010_identity
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0015_oversight'
down_revision = '0016_reconciliation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oversight_sanction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('regulator_org_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('blacklist')", name=op.f('ck_oversight_sanction_kind')),
    sa.CheckConstraint('valid_to >= valid_from', name=op.f('ck_oversight_sanction_dates')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_oversight_sanction_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_oversight_sanction_org_id_organisation')),
    sa.ForeignKeyConstraint(['regulator_org_id'], ['organisation.id'], name=op.f('fk_oversight_sanction_regulator_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oversight_sanction'))
    )
    op.create_index(op.f('ix_oversight_sanction_org_id'), 'oversight_sanction', ['org_id'], unique=False)
    op.create_table('oversight_credit_score',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('components', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 0 AND 100', name=op.f('ck_oversight_credit_score_score')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_oversight_credit_score_org_id_organisation')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_oversight_credit_score'))
    )


def downgrade() -> None:
    op.drop_table('oversight_credit_score')
    op.drop_index(op.f('ix_oversight_sanction_org_id'), table_name='oversight_sanction')
    op.drop_table('oversight_sanction')

"""corporate groups: organisations of one group count as one contributor in the price index

Revision ID: 0023_corporate_groups
Revises: 0017_collection

A platform admin sets an organisation's corporate group (organisation.corporate_group_id); the
index's p %-rule and dominance rule (pricing/disclosure.py) add the group's operators together.
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_corporate_groups'
down_revision = '0018_payouts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'corporate_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("btrim(name) <> ''", name=op.f('ck_corporate_group_name_not_blank')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_corporate_group')),
        sa.UniqueConstraint('name', name=op.f('uq_corporate_group_name')),
    )
    op.add_column('organisation', sa.Column('corporate_group_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_organisation_corporate_group_id_corporate_group'), 'organisation',
                          'corporate_group', ['corporate_group_id'], ['id'])
    op.create_index(op.f('ix_organisation_corporate_group_id'), 'organisation', ['corporate_group_id'])


def downgrade():
    op.drop_index(op.f('ix_organisation_corporate_group_id'), table_name='organisation')
    op.drop_constraint(op.f('fk_organisation_corporate_group_id_corporate_group'), 'organisation',
                       type_='foreignkey')
    op.drop_column('organisation', 'corporate_group_id')
    op.drop_table('corporate_group')

"""identity: organisation change requests; invitations into the platform carry a role

Revision ID: 0010_identity
Revises: 0006_ledger_post

A verified organisation's name, credit code, types and region change only through a change request
that an admin approves (org_change_request; one pending per organisation). An invitation into the
platform organisation names the platform role the inviting admin grants.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010_identity'
down_revision = '0008_settlement'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('invitation', sa.Column('platform_role', sa.String(length=20), nullable=True))
    op.create_check_constraint(
        op.f('ck_invitation_platform_role'), 'invitation', "platform_role IS NULL OR platform_role IN ('admin','finance')")
    op.create_table(
        'org_change_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('previous', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                           name=op.f('ck_org_change_request_status')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'],
                                name=op.f('fk_org_change_request_decided_by_id_app_user')),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id'],
                                name=op.f('fk_org_change_request_org_id_organisation')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'],
                                name=op.f('fk_org_change_request_requested_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_org_change_request')),
    )
    op.create_index(op.f('ix_org_change_request_org_id'), 'org_change_request', ['org_id'],
                    unique=False)
    op.create_index('uq_org_change_request_pending', 'org_change_request', ['org_id'], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade():
    op.drop_index('uq_org_change_request_pending', table_name='org_change_request')
    op.drop_index(op.f('ix_org_change_request_org_id'), table_name='org_change_request')
    op.drop_table('org_change_request')
    op.drop_constraint('ck_invitation_platform_role', 'invitation', type_='check')
    op.drop_column('invitation', 'platform_role')

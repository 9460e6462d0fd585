"""sessions: server-side login sessions and revocable API tokens

Revision ID: 0011_sessions
Revises: 0006_ledger_post

Each browser login gets a user_session row (the cookie holds a random id, the row its SHA-256), so
logout, a password change or the idle timeout end it on the server. API tokens gain revoked_at.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_sessions'
down_revision = '0010_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_session_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_user_session_sid_hash'))
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'], unique=False)
    op.add_column('api_token', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('api_token', 'revoked_at')
    op.drop_index(op.f('ix_user_session_user_id'), table_name='user_session')
    op.drop_table('user_session')

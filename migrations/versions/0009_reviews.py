"""reviews: each party of a settled order rates the other once (scores 1–5 by side)

Revision ID: 0009_reviews
Revises: 0008_settlement
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_reviews'
down_revision = '0008_settlement'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('order_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('reviewer_org_id', sa.Integer(), nullable=False),
    sa.Column('subject_org_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.SmallInteger(), nullable=True),
    sa.Column('as_agreed', sa.SmallInteger(), nullable=True),
    sa.Column('communication', sa.SmallInteger(), nullable=True),
    sa.Column('as_declared', sa.SmallInteger(), nullable=True),
    sa.Column('payment', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(side = 'generator' AND on_time IS NOT NULL AND as_agreed IS NOT NULL AND communication IS NOT NULL AND as_declared IS NULL AND payment IS NULL) OR (side = 'operator' AND as_declared IS NOT NULL AND payment IS NOT NULL AND on_time IS NULL AND as_agreed IS NULL AND communication IS NULL)", name=op.f('ck_order_review_side_scores')),
    sa.CheckConstraint("side IN ('generator', 'operator')", name=op.f('ck_order_review_side')),
    sa.CheckConstraint('(on_time IS NULL OR on_time BETWEEN 1 AND 5) AND (as_agreed IS NULL OR as_agreed BETWEEN 1 AND 5) AND (communication IS NULL OR communication BETWEEN 1 AND 5) AND (as_declared IS NULL OR as_declared BETWEEN 1 AND 5) AND (payment IS NULL OR payment BETWEEN 1 AND 5)', name=op.f('ck_order_review_score_range')),
    sa.CheckConstraint('reviewer_org_id <> subject_org_id', name=op.f('ck_order_review_distinct_parties')),
    sa.ForeignKeyConstraint(['author_id'], ['app_user.id'], name=op.f('fk_order_review_author_id_app_user')),
    sa.ForeignKeyConstraint(['order_id'], ['trade_order.id'], name=op.f('fk_order_review_order_id_trade_order')),
    sa.ForeignKeyConstraint(['reviewer_org_id'], ['organisation.id'], name=op.f('fk_order_review_reviewer_org_id_organisation')),
    sa.ForeignKeyConstraint(['subject_org_id'], ['organisation.id'], name=op.f('fk_order_review_subject_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_review')),
    sa.UniqueConstraint('order_id', 'side', name='uq_order_review_side')
    )
    op.create_index('ix_order_review_subject', 'order_review', ['subject_org_id', 'side'],
                    unique=False, postgresql_include=['on_time', 'as_agreed', 'communication',
                                                      'as_declared', 'payment'])
    # An operator's track record is read with every match: index-only scans of both tables.
    op.create_index('ix_manifest_shipped_receiver', 'manifest', ['receiver_org_id'], unique=False,
                    postgresql_include=['planned_pickup_at', 'shipped_at'],
                    postgresql_where=sa.text("status IN ('shipped', 'received', 'closed') "
                                             "AND shipped_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('ix_manifest_shipped_receiver', table_name='manifest')
    op.drop_index('ix_order_review_subject', table_name='order_review')
    op.drop_table('order_review')

"""prices: index publications (versions, releases, revisions), their cells, the runs that build
them, and the government tariffs of categories priced by the state (DESIGN.md §7, issue 11)

Revision ID: 0014_prices
Revises: 0010_identity
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0014_prices'
down_revision = '0011_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'price_publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference_month', sa.Date(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('release', sa.String(length=20), nullable=False),
        sa.Column('revised', sa.Boolean(), nullable=False),
        sa.Column('methodology_version', sa.String(length=20), nullable=False),
        sa.Column('params_hash', sa.String(length=64), nullable=False),
        sa.Column('inputs_hash', sa.String(length=64), nullable=False),
        sa.Column('quality', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('index_series', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('floors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('outliers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("release IN ('preliminary', 'final')",
                           name=op.f('ck_price_publication_release')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_price_publication_version_positive')),
        sa.CheckConstraint('NOT revised OR version > 1',
                           name=op.f('ck_price_publication_revision_follows')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'],
                                name=op.f('fk_price_publication_created_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_price_publication')),
        sa.UniqueConstraint('reference_month', 'version', name='uq_price_publication_month_version'),
    )
    op.create_index(op.f('ix_price_publication_reference_month'), 'price_publication',
                    ['reference_month'], unique=False)
    op.create_table(
        'price_cell',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('category', sa.String(length=4), nullable=False),
        sa.Column('method', sa.String(length=5), nullable=False),
        sa.Column('region', sa.String(length=2), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('trades', sa.Integer(), nullable=True),
        sa.Column('kg', sa.BigInteger(), nullable=True),
        sa.Column('vwap', sa.BigInteger(), nullable=True),
        sa.Column('median', sa.BigInteger(), nullable=True),
        sa.Column('p10', sa.BigInteger(), nullable=True),
        sa.Column('p25', sa.BigInteger(), nullable=True),
        sa.Column('p75', sa.BigInteger(), nullable=True),
        sa.Column('p90', sa.BigInteger(), nullable=True),
        sa.Column('nearest_published', sa.String(length=30), nullable=True),
        sa.CheckConstraint("status IN ('published', 'primary', 'secondary')",
                           name=op.f('ck_price_cell_status')),
        sa.CheckConstraint("(status = 'published') = (vwap IS NOT NULL)",
                           name=op.f('ck_price_cell_numbers_when_published')),
        sa.ForeignKeyConstraint(['publication_id'], ['price_publication.id'], ondelete='CASCADE',
                                name=op.f('fk_price_cell_publication_id_price_publication')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_price_cell')),
    )
    op.create_index('ix_price_cell_lookup', 'price_cell',
                    ['publication_id', 'category', 'method', 'region', 'period'], unique=False)
    op.create_table(
        'price_publication_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference_month', sa.Date(), nullable=False),
        sa.Column('release', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_price_publication_run_status')),
        sa.CheckConstraint("release IN ('preliminary', 'final')",
                           name=op.f('ck_price_publication_run_release')),
        sa.CheckConstraint('progress BETWEEN 0 AND 100',
                           name=op.f('ck_price_publication_run_progress')),
        sa.ForeignKeyConstraint(['publication_id'], ['price_publication.id'],
                                name=op.f('fk_price_publication_run_publication_id_price_publication')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'],
                                name=op.f('fk_price_publication_run_requested_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_price_publication_run')),
    )
    op.create_table(
        'government_tariff',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category_code', sa.String(length=4), nullable=False),
        sa.Column('region_prefix', sa.String(length=6), nullable=False),
        sa.Column('unit_price_fen_per_t', sa.BigInteger(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint('length(region_prefix) IN (2, 4, 6)',
                           name=op.f('ck_government_tariff_region_prefix')),
        sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'],
                                name=op.f('fk_government_tariff_category_code_waste_category')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_government_tariff')),
        sa.UniqueConstraint('category_code', 'region_prefix', 'valid_from',
                            name='uq_government_tariff_cell'),
    )


def downgrade():
    op.drop_table('government_tariff')
    op.drop_table('price_publication_run')
    op.drop_index('ix_price_cell_lookup', table_name='price_cell')
    op.drop_table('price_cell')
    op.drop_index(op.f('ix_price_publication_reference_month'), table_name='price_publication')
    op.drop_table('price_publication')

"""waste synonyms: everyday words for kinds of waste, mapped to categories and codes

Revision ID: 0020_synonyms
Revises: 0017_collection
"""
import sqlalchemy as sa
from alembic import op

revision = '0020_synonyms'
down_revision = '0022_feeds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'waste_synonym',
        sa.Column('term', sa.String(length=50), nullable=False),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('category_code', sa.String(length=4), nullable=False),
        sa.Column('waste_code', sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(['category_code'], ['waste_category.code'],
                                name=op.f('fk_waste_synonym_category_code_waste_category')),
        sa.PrimaryKeyConstraint('term', name=op.f('pk_waste_synonym')),
    )
    op.create_index(op.f('ix_waste_synonym_category_code'), 'waste_synonym', ['category_code'])


def downgrade():
    op.drop_index('ix_waste_synonym_category_code', table_name='waste_synonym')
    op.drop_table('waste_synonym')

"""notification_messages: notifications keep their message key and parameters

Revision ID: 0021_notification_messages
Revises: 0017_collection

A notification is rendered in the reader's language when read: the row keeps the English msgid
and the parameters (JSON; money, dates, kilograms and code words stored raw with their kind) of its
title and body. Older rows have none and show their stored text. Hazardous-waste categories and
disposal methods gain their English names (National Catalogue of Hazardous Wastes 2021; Basel
Convention Annex IV), loaded from market/catalog/data by the reference-data loader.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0021_notification_messages'
down_revision = '0023_corporate_groups'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('notification', sa.Column('title_msgid', sa.Text(), nullable=True))
    op.add_column('notification', sa.Column('title_params', postgresql.JSONB(), nullable=True))
    op.add_column('notification', sa.Column('body_msgid', sa.Text(), nullable=True))
    op.add_column('notification', sa.Column('body_params', postgresql.JSONB(), nullable=True))
    op.add_column('waste_category', sa.Column('name_en', sa.String(200), nullable=True))
    op.add_column('disposal_method', sa.Column('name_en', sa.String(300), nullable=True))
    op.add_column('disposal_method', sa.Column('group_name_en', sa.String(100), nullable=True))


def downgrade():
    op.drop_column('disposal_method', 'group_name_en')
    op.drop_column('disposal_method', 'name_en')
    op.drop_column('waste_category', 'name_en')
    for column in ('body_params', 'body_msgid', 'title_params', 'title_msgid'):
        op.drop_column('notification', column)

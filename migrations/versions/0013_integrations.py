"""integrations: outbound webhooks (endpoints, events, deliveries, attempts), the change feeds'
row_change table with the triggers that fill and number it, and bulk-import batches

Revision ID: 0013_integrations
Revises: 0010_identity

Every INSERT or UPDATE of a listed table upserts (table, row id) into row_change with the writing
transaction's id (pg_current_xact_id()). At commit, a deferred trigger numbers the transaction's
changes from row_change_seq while holding a transaction-level advisory lock, so numbers are handed
out in commit order: once a reader sees number N, every change numbered below N is visible too.
The API's change feeds page by (seq, row id) (market/api/changes.py).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0013_integrations'
down_revision = '0015_oversight'
branch_labels = None
depends_on = None


# Listed tables that exist on this branch; a table of a later context gets its trigger in its
# own migration by calling row_change_trigger(name).
FEED_TABLES = ("disposal_request", "quote", "trade_order", "storefront_offer")

# The advisory lock's key: any constant no other code uses ("hzfeed").
FEED_LOCK = 0x687A66656564

FUNCTION = f"""
CREATE SEQUENCE row_change_seq;

CREATE FUNCTION note_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_change (tbl, row_id, xid, seq, changed_at)
    VALUES (TG_TABLE_NAME, NEW.id, pg_current_xact_id()::text::bigint, NULL, clock_timestamp())
    ON CONFLICT (tbl, row_id) DO UPDATE
        SET xid = EXCLUDED.xid, seq = NULL, changed_at = EXCLUDED.changed_at;
    RETURN NULL;
END $$;

CREATE FUNCTION sequence_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Held until the transaction has committed: the next committer numbers after us.
    PERFORM pg_advisory_xact_lock({FEED_LOCK});
    UPDATE row_change SET seq = nextval('row_change_seq')
     WHERE tbl = NEW.tbl AND row_id = NEW.row_id AND seq IS NULL;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER row_change_sequence AFTER INSERT OR UPDATE OF xid ON row_change
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sequence_row_change();
"""


def row_change_trigger(table: str) -> str:
    return (f"CREATE TRIGGER {table}_row_change AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION note_row_change();"
            f"INSERT INTO row_change (tbl, row_id, xid, seq, changed_at) "
            f"SELECT '{table}', id, pg_current_xact_id()::text::bigint, nextval('row_change_seq'), "
            f"now() FROM {table} ORDER BY id ON CONFLICT DO NOTHING;")


def upgrade() -> None:
    op.create_table('row_change',
    sa.Column('tbl', sa.String(length=63), nullable=False),
    sa.Column('row_id', sa.BigInteger(), nullable=False),
    sa.Column('xid', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tbl', 'row_id', name=op.f('pk_row_change'))
    )
    op.create_index('ix_row_change_feed', 'row_change', ['tbl', 'seq', 'row_id'], unique=False)
    op.create_table('webhook_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("type IN ('quote.submitted', 'order.status_changed', 'contract.signed', 'funding.confirmed', 'manifest.status_changed', 'settlement.completed', 'payout.status_changed', 'alert.raised')", name=op.f('ck_webhook_event_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_event')),
    sa.UniqueConstraint('public_id', name=op.f('uq_webhook_event_public_id'))
    )
    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_webhook_endpoint_created_by_app_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_webhook_endpoint_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    op.create_index(op.f('ix_webhook_endpoint_org_id'), 'webhook_endpoint', ['org_id'], unique=False)
    op.create_table('webhook_delivery',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('object_key', sa.String(length=130), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replay_of', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_webhook_delivery_status')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint')),
    sa.ForeignKeyConstraint(['event_id'], ['webhook_event.id'], name=op.f('fk_webhook_delivery_event_id_webhook_event')),
    sa.ForeignKeyConstraint(['replay_of'], ['webhook_delivery.id'], name=op.f('fk_webhook_delivery_replay_of_webhook_delivery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_webhook_delivery_endpoint_id'), 'webhook_delivery', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_webhook_delivery_event_id'), 'webhook_delivery', ['event_id'], unique=False)
    op.create_index('ix_webhook_delivery_sequence', 'webhook_delivery', ['endpoint_id', 'object_key', 'id'], unique=False)
    op.create_table('webhook_attempt',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('delivery_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], name=op.f('fk_webhook_attempt_delivery_id_webhook_delivery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    op.create_index(op.f('ix_webhook_attempt_delivery_id'), 'webhook_attempt', ['delivery_id'], unique=False)
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_import_batch_created_by_app_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_import_batch_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch')),
    sa.UniqueConstraint('org_id', 'batch_id', name='uq_import_batch_org_batch')
    )
    op.create_index('ix_organisation_coordinates', 'organisation', ['latitude', 'longitude'],
                    unique=False, postgresql_include=['id', 'kind', 'types'])
    op.execute(FUNCTION)
    for table in FEED_TABLES:
        op.execute(row_change_trigger(table))


def downgrade() -> None:
    for table in FEED_TABLES:
        op.execute(f"DROP TRIGGER {table}_row_change ON {table}")
    op.execute("DROP TRIGGER row_change_sequence ON row_change")
    op.execute("DROP FUNCTION sequence_row_change(); DROP FUNCTION note_row_change(); "
               "DROP SEQUENCE row_change_seq")
    op.drop_index('ix_organisation_coordinates', table_name='organisation')
    op.drop_table('import_batch')
    op.drop_index(op.f('ix_webhook_attempt_delivery_id'), table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    op.drop_index('ix_webhook_delivery_sequence', table_name='webhook_delivery')
    op.drop_index(op.f('ix_webhook_delivery_event_id'), table_name='webhook_delivery')
    op.drop_index(op.f('ix_webhook_delivery_endpoint_id'), table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index(op.f('ix_webhook_endpoint_org_id'), table_name='webhook_endpoint')
    op.drop_table('webhook_endpoint')
    op.drop_table('webhook_event')
    op.drop_index('ix_row_change_feed', table_name='row_change')
    op.drop_table('row_change')

"""feeds: change feeds on the remaining lists (manifests, settlements, alerts, payables, collection
rounds, reviews), and child rows that register their parent

Revision ID: 0022_feeds
Revises: 0017_collection

0013_integrations numbers every change of a listed table in commit order (row_change). This adds
the tables behind the other list endpoints. A list item made of a parent and its child rows (a
manifest's lines, signatures and discrepancies; a settlement's lines; an order's lines; a round's
categories and bookings) must reappear when only a child changes, so a child's INSERT, UPDATE or
DELETE registers its parent in row_change (note_parent_change(parent table, foreign-key column)),
without writing the parent row itself. The payables feed lists the postings of payable accounts
(payable:<org>): a posting is written once, so only INSERTs of postings to those accounts are noted.
"""
from alembic import op

revision = '0022_feeds'
down_revision = '0019_finance_jobs'
branch_labels = None
depends_on = None

# Lists whose items are rows of these tables.
FEED_TABLES = ("manifest", "settlement", "oversight_alert", "collection_round", "order_review")
# (child table, parent table, the child's column holding the parent's id)
CHILDREN = (("manifest_line", "manifest", "manifest_id"),
            ("manifest_signature", "manifest", "manifest_id"),
            ("manifest_discrepancy", "manifest", "manifest_id"),
            ("settlement_line", "settlement", "settlement_id"),
            ("order_line", "trade_order", "order_id"),
            ("collection_round_item", "collection_round", "round_id"),
            ("collection_booking", "collection_round", "round_id"))

FUNCTIONS = """
CREATE FUNCTION note_parent_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        parent := (to_jsonb(OLD) ->> TG_ARGV[1])::bigint;
    ELSE
        parent := (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
    END IF;
    IF parent IS NOT NULL THEN
        INSERT INTO row_change (tbl, row_id, xid, seq, changed_at)
        VALUES (TG_ARGV[0], parent, pg_current_xact_id()::text::bigint, NULL, clock_timestamp())
        ON CONFLICT (tbl, row_id) DO UPDATE
            SET xid = EXCLUDED.xid, seq = NULL, changed_at = EXCLUDED.changed_at;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION note_payable_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_account WHERE id = NEW.account_id AND kind = 'payable') THEN
        INSERT INTO row_change (tbl, row_id, xid, seq, changed_at)
        VALUES ('ledger_posting', NEW.id, pg_current_xact_id()::text::bigint, NULL,
                clock_timestamp())
        ON CONFLICT (tbl, row_id) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_posting_row_change AFTER INSERT ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION note_payable_posting();
INSERT INTO row_change (tbl, row_id, xid, seq, changed_at)
SELECT 'ledger_posting', p.id, pg_current_xact_id()::text::bigint, nextval('row_change_seq'), now()
  FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
 WHERE a.kind = 'payable' ORDER BY p.id ON CONFLICT DO NOTHING;
"""


def row_change_trigger(table: str) -> str:
    # As in 0013_integrations (kept here: a migration must not change when a later one does).
    return (f"CREATE TRIGGER {table}_row_change AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION note_row_change();"
            f"INSERT INTO row_change (tbl, row_id, xid, seq, changed_at) "
            f"SELECT '{table}', id, pg_current_xact_id()::text::bigint, nextval('row_change_seq'), "
            f"now() FROM {table} ORDER BY id ON CONFLICT DO NOTHING;")


def parent_trigger(child: str, parent: str, column: str) -> str:
    return (f"CREATE TRIGGER {child}_parent_change AFTER INSERT OR UPDATE OR DELETE ON {child} "
            f"FOR EACH ROW EXECUTE FUNCTION note_parent_change('{parent}', '{column}');")


def upgrade() -> None:
    for table in FEED_TABLES:
        op.execute(row_change_trigger(table))
    op.execute(FUNCTIONS)
    for child, parent, column in CHILDREN:
        op.execute(parent_trigger(child, parent, column))


def downgrade() -> None:
    for child, _parent, _column in CHILDREN:
        op.execute(f"DROP TRIGGER {child}_parent_change ON {child}")
    op.execute("DROP TRIGGER ledger_posting_row_change ON ledger_posting")
    op.execute("DROP FUNCTION note_payable_posting(); DROP FUNCTION note_parent_change()")
    for table in FEED_TABLES:
        op.execute(f"DROP TRIGGER {table}_row_change ON {table}")
    op.execute("DELETE FROM row_change WHERE tbl IN ('manifest', 'settlement', 'oversight_alert', "
               "'collection_round', 'order_review', 'ledger_posting')")

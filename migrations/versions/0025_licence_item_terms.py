"""licence items carry copies of their licence's holder and terms, kept by triggers

The ranking statement finds a request's candidates among the licence items of its category;
joining each to its licence for the holder, status and validity cost it a scan of every licence
(bench/matching.py --dense). The copies live on the item, written only by these triggers: a new
or moved item copies its licence's, and a change to a licence's holder, status, validity or
number is copied to all its items in the same statement.

Revision ID: 0025_licence_item_terms
Revises: 0024_track_records
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_licence_item_terms'
down_revision = '0024_track_records'
branch_labels = None
depends_on = None

COPIES = ("licence_org_id", "licence_status", "licence_valid_from", "licence_valid_to",
          "licence_number")

FUNCTIONS = """
-- Whatever the application sends for the copies, an item gets its licence's: a write to them can
-- never make an item disagree with its licence.
CREATE FUNCTION licence_item_copy_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT org_id, status, valid_from, valid_to, number
      INTO NEW.licence_org_id, NEW.licence_status, NEW.licence_valid_from, NEW.licence_valid_to,
           NEW.licence_number
      FROM licence WHERE id = NEW.licence_id;
    RETURN NEW;
END $$;

CREATE FUNCTION licence_terms_to_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE licence_item SET licence_org_id = NEW.org_id, licence_status = NEW.status,
                            licence_valid_from = NEW.valid_from, licence_valid_to = NEW.valid_to,
                            licence_number = NEW.number
     WHERE licence_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER licence_item_copy_terms BEFORE INSERT OR UPDATE OF licence_id, licence_org_id,
    licence_status, licence_valid_from, licence_valid_to, licence_number ON licence_item
    FOR EACH ROW EXECUTE FUNCTION licence_item_copy_terms();
CREATE TRIGGER licence_terms_to_items AFTER UPDATE OF org_id, status, valid_from, valid_to, number
    ON licence FOR EACH ROW
    WHEN ((OLD.org_id, OLD.status, OLD.valid_from, OLD.valid_to, OLD.number)
          IS DISTINCT FROM (NEW.org_id, NEW.status, NEW.valid_from, NEW.valid_to, NEW.number))
    EXECUTE FUNCTION licence_terms_to_items();
"""


def upgrade() -> None:
    op.add_column('licence_item', sa.Column('licence_org_id', sa.Integer(), nullable=True))
    op.add_column('licence_item', sa.Column('licence_status', sa.String(length=20), nullable=True))
    op.add_column('licence_item', sa.Column('licence_valid_from', sa.Date(), nullable=True))
    op.add_column('licence_item', sa.Column('licence_valid_to', sa.Date(), nullable=True))
    op.add_column('licence_item', sa.Column('licence_number', sa.String(length=60), nullable=True))
    op.execute("UPDATE licence_item i SET licence_org_id = l.org_id, licence_status = l.status, "
               "licence_valid_from = l.valid_from, licence_valid_to = l.valid_to, "
               "licence_number = l.number FROM licence l WHERE l.id = i.licence_id")
    for column in COPIES:
        op.alter_column('licence_item', column, nullable=False)
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute("DROP TRIGGER licence_terms_to_items ON licence; "
               "DROP TRIGGER licence_item_copy_terms ON licence_item; "
               "DROP FUNCTION licence_terms_to_items(); DROP FUNCTION licence_item_copy_terms()")
    for column in COPIES:
        op.drop_column('licence_item', column)

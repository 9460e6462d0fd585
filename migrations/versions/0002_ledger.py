"""ledger: accounts, entries, postings and the triggers that keep them honest

Revision ID: 0002_ledger
Revises: 0001_foundation

The database is the authority on the ledger's invariants (DESIGN.md §6):
- every entry sums to zero at commit (deferred constraint trigger on ledger_posting);
- escrow:*, payable:* and suspense:* never go negative, checked at commit against the cached
  balance, which the posting trigger updates under the account's row lock;
- entries and postings are append-only: UPDATE, DELETE and TRUNCATE are refused, and postings can
  only be added to an entry by the transaction that created it.
The TRUNCATE triggers are ordinary (not ALWAYS) triggers, so a maintenance session running with
session_replication_role = replica (the test suite's truncate_all) can still empty the tables.
"""
from alembic import op
import sqlalchemy as sa

revision = '0002_ledger'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None

KINDS = "'clearing','expense','escrow','payable','suspense','revenue'"
GUARDED = "'escrow','payable','suspense'"
CODE_CHECK = "split_part(code, ':', 1) = kind AND code ~ '^[a-z]+[:][A-Za-z0-9_-]+$'"

FUNCTIONS = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (correct it with a reversing entry)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION ledger_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.code, NEW.kind, NEW.may_go_negative, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.code, OLD.kind, OLD.may_go_negative, OLD.created_at) THEN
        RAISE EXCEPTION 'ledger account % cannot be changed', OLD.code
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Depth 1 is a direct UPDATE; the posting trigger's own UPDATE runs at depth 2.
    IF NEW.cached_balance_fen IS DISTINCT FROM OLD.cached_balance_fen AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'the cached balance of ledger account % is kept by its postings and '
            'cannot be set directly', OLD.code USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION ledger_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry_txid bigint;
BEGIN
    SELECT created_txid INTO entry_txid FROM ledger_entry WHERE id = NEW.entry_id;
    IF FOUND AND entry_txid <> txid_current() THEN
        RAISE EXCEPTION 'ledger entry % was written by an earlier transaction: postings cannot '
            'be added to it', NEW.entry_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Keep the natural-signed cached balance of guarded accounts. The UPDATE takes the account's
    -- row lock until commit, so the deferred check below reads a balance nobody else can move.
    -- Accounts that may go negative are neither updated nor locked (no hot-row contention).
    UPDATE ledger_account
       SET cached_balance_fen = cached_balance_fen
           + CASE WHEN kind IN ('clearing', 'expense') THEN NEW.amount_fen ELSE -NEW.amount_fen END
     WHERE id = NEW.account_id AND NOT may_go_negative;
    RETURN NEW;
END $$;

CREATE FUNCTION ledger_posting_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
    acct record;
BEGIN
    SELECT COALESCE(SUM(amount_fen), 0) INTO total FROM ledger_posting WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger entry % is unbalanced: its postings sum to % fen, not 0',
            NEW.entry_id, total USING ERRCODE = 'check_violation';
    END IF;
    -- This transaction holds the row lock (taken by ledger_posting_apply), so this is the
    -- balance after every concurrent writer that came first.
    SELECT code, may_go_negative, cached_balance_fen INTO acct
      FROM ledger_account WHERE id = NEW.account_id;
    IF NOT acct.may_go_negative AND acct.cached_balance_fen < 0 THEN
        RAISE EXCEPTION 'ledger account % may not go negative: its balance would be % fen',
            acct.code, acct.cached_balance_fen USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_guard();

CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_posting_no_truncate BEFORE TRUNCATE ON ledger_posting
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_posting_apply BEFORE INSERT ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_apply();
CREATE CONSTRAINT TRIGGER ledger_posting_check AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_check();
"""


def upgrade() -> None:
    op.create_table(
        'ledger_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=60), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('may_go_negative', sa.Boolean(), nullable=False),
        sa.Column('cached_balance_fen', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f('ck_ledger_account_kind')),
        sa.CheckConstraint(CODE_CHECK, name=op.f('ck_ledger_account_code_matches_kind')),
        sa.CheckConstraint(f"may_go_negative = (kind NOT IN ({GUARDED}))",
                           name=op.f('ck_ledger_account_may_go_negative_by_kind')),
        sa.CheckConstraint("may_go_negative = (cached_balance_fen IS NULL)",
                           name=op.f('ck_ledger_account_cached_balance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account')),
        sa.UniqueConstraint('code', name=op.f('uq_ledger_account_code')),
    )
    op.create_table(
        'ledger_entry',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('payload_hash', sa.String(length=64), nullable=False),
        sa.Column('memo', sa.Text(), nullable=False),
        sa.Column('posted_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'),
                  nullable=False),
        sa.Column('created_txid', sa.BigInteger(), server_default=sa.text('txid_current()'),
                  nullable=False),
        sa.Column('reverses_id', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['reverses_id'], ['ledger_entry.id'],
                                name=op.f('fk_ledger_entry_reverses_id_ledger_entry')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_entry_idempotency_key')),
        sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_entry_reverses_id')),
    )
    op.create_index(op.f('ix_ledger_entry_posted_at'), 'ledger_entry', ['posted_at'], unique=False)
    op.create_table(
        'ledger_posting',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('entry_id', sa.BigInteger(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount_fen <> 0', name=op.f('ck_ledger_posting_amount_nonzero')),
        sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'],
                                name=op.f('fk_ledger_posting_account_id_ledger_account')),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'],
                                name=op.f('fk_ledger_posting_entry_id_ledger_entry')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_posting')),
    )
    op.create_index(op.f('ix_ledger_posting_account_id'), 'ledger_posting', ['account_id'],
                    unique=False)
    op.create_index(op.f('ix_ledger_posting_entry_id'), 'ledger_posting', ['entry_id'], unique=False)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    for trigger, table in [("ledger_posting_check", "ledger_posting"),
                           ("ledger_posting_apply", "ledger_posting"),
                           ("ledger_posting_no_truncate", "ledger_posting"),
                           ("ledger_posting_append_only", "ledger_posting"),
                           ("ledger_entry_no_truncate", "ledger_entry"),
                           ("ledger_entry_append_only", "ledger_entry"),
                           ("ledger_account_guard", "ledger_account")]:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in ("ledger_posting_check", "ledger_posting_apply", "ledger_account_guard",
                     "ledger_refuse_change"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index(op.f('ix_ledger_posting_entry_id'), table_name='ledger_posting')
    op.drop_index(op.f('ix_ledger_posting_account_id'), table_name='ledger_posting')
    op.drop_table('ledger_posting')
    op.drop_index(op.f('ix_ledger_entry_posted_at'), table_name='ledger_entry')
    op.drop_table('ledger_entry')
    op.drop_table('ledger_account')

"""ledger: post an entry in one round trip (ledger_post); cheaper triggers, same invariants

Revision ID: 0006_ledger_post
Revises: 0005_escrow

ledger.post() used to make five round trips and build four SQLAlchemy statements per entry; at one
entry per use case that cost more than the rows themselves. ledger_post() does the same steps on
the server, in the same order: lock the guarded accounts in code order, recognise a replayed key,
refuse an overdraft, create missing accounts, insert the entry and its postings in one statement.
Expected refusals come back as an outcome row rather than an exception, so the caller's
transaction stays usable, exactly as when Python made those checks.

The invariants stay with the triggers, which raw SQL cannot bypass, and get cheaper:
- the zero-sum check moves from a deferred trigger per posting to a deferred trigger per entry
  (an entry with fewer than two postings is now refused too);
- the cached balances move in one statement-level trigger per INSERT (transition table), which
  also refuses at once, not at commit, a guarded account (escrow/payable/suspense) going below
  zero: its UPDATE holds the row lock, so the balance it reads is the one nobody else can move;
- the account guard's body runs only for UPDATEs that could be wrong (a WHEN clause).
"""
from alembic import op

revision = '0006_ledger_post'
down_revision = '0005_escrow'
branch_labels = None
depends_on = None

GUARDED = "'escrow','payable','suspense'"
DEBIT_NORMAL = "'clearing','expense'"

UPGRADE = f"""
-- Every guarded posting rewrites its account row (the cached balance). Room on the page keeps
-- those updates HOT: no new index entries, and pruning reclaims the old versions in place.
ALTER TABLE ledger_account SET (fillfactor = 50);

DROP TRIGGER ledger_posting_check ON ledger_posting;
DROP FUNCTION ledger_posting_check();
DROP TRIGGER ledger_posting_apply ON ledger_posting;
DROP FUNCTION ledger_posting_apply();

-- Once per INSERT statement, over all its rows (REFERENCING NEW TABLE), instead of per row.
CREATE FUNCTION ledger_postings_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    late bigint;
    overdrawn text;
    balance bigint;
BEGIN
    -- One statement: refuse legs added to an entry of an earlier transaction, and keep the
    -- natural-signed cached balance of guarded accounts. The UPDATE holds each account's row
    -- lock until commit (ledger_post took them already, in code order), so the balance it
    -- returns is after every concurrent writer that came first. Accounts that may go negative
    -- are neither updated nor locked (no hot-row contention on revenue:fees or clearing:bank).
    WITH late AS (
        SELECT p.entry_id FROM new_postings p JOIN ledger_entry e ON e.id = p.entry_id
         WHERE e.created_txid <> txid_current() LIMIT 1
    ), moved AS (
        UPDATE ledger_account a
           SET cached_balance_fen = a.cached_balance_fen
               + CASE WHEN a.kind IN ({DEBIT_NORMAL}) THEN d.delta ELSE -d.delta END
          FROM (SELECT account_id, SUM(amount_fen)::bigint AS delta
                  FROM new_postings GROUP BY account_id) d
         WHERE a.id = d.account_id AND NOT a.may_go_negative
           AND NOT EXISTS (SELECT 1 FROM late)
        RETURNING a.code, a.cached_balance_fen
    )
    SELECT (SELECT entry_id FROM late), m.code, m.cached_balance_fen
      INTO late, overdrawn, balance
      FROM (SELECT 1) one
      LEFT JOIN (SELECT code, cached_balance_fen FROM moved WHERE cached_balance_fen < 0
                  ORDER BY code LIMIT 1) m ON true;
    IF late IS NOT NULL THEN
        RAISE EXCEPTION 'ledger entry % was written by an earlier transaction: postings cannot '
            'be added to it', late USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF overdrawn IS NOT NULL THEN
        RAISE EXCEPTION 'ledger account % may not go negative: its balance would be % fen',
            overdrawn, balance USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_postings_apply AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_apply();

-- Checked once per entry at commit. ledger_post() inserts an entry and its postings in one
-- statement, so this holds even under SET CONSTRAINTS ALL IMMEDIATE.
CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    legs integer;
    total numeric;
BEGIN
    SELECT count(*), COALESCE(SUM(amount_fen), 0) INTO legs, total
      FROM ledger_posting WHERE entry_id = NEW.id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger entry % is unbalanced: its % postings sum to % fen, not 0',
            NEW.id, legs, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();

-- The guard's body only runs when an UPDATE could be wrong: a direct one (trigger depth 0) or
-- one that touches a column other than the cached balance. The WHEN clause is evaluated without
-- calling PL/pgSQL, so the balance updates above cost no function call.
DROP TRIGGER ledger_account_guard ON ledger_account;
CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account FOR EACH ROW
    WHEN (pg_trigger_depth() < 1
          OR (NEW.id, NEW.code, NEW.kind, NEW.may_go_negative, NEW.created_at)
             IS DISTINCT FROM (OLD.id, OLD.code, OLD.kind, OLD.may_go_negative, OLD.created_at))
    EXECUTE FUNCTION ledger_account_guard();

-- post() passes the legs (one per account) and, sorted by code, the guarded accounts among them
-- with their change in natural sign. Those two arrays only decide which rows are locked first
-- and which refusal is reported; the triggers above enforce the invariants whatever is passed.
-- Outcomes: posted, replayed (same key, same payload: the first entry), conflict (same key,
-- other payload), insufficient (account_code would go below zero), already_reversed.
CREATE FUNCTION ledger_post(p_key text, p_hash text, p_memo text, p_reverses bigint,
                            p_codes text[], p_amounts bigint[],
                            p_guarded text[], p_changes bigint[],
                            OUT outcome text, OUT entry_id bigint, OUT posted_at timestamptz,
                            OUT account_code text, OUT balance_fen bigint, OUT change_fen bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    known integer;
    locked text[];
    balances bigint[];
    held bigint;
    r_code text;
    r_balance bigint;
    r_change bigint;
    v_hash varchar;
BEGIN
    -- Only guarded accounts are locked, in code order for every caller, so concurrent posts
    -- serialise per escrow/payable account without deadlocks. The count finds missing accounts.
    SELECT (SELECT count(*) FROM ledger_account a WHERE a.code = ANY(p_codes)),
           array_agg(g.code ORDER BY g.code), array_agg(g.cached_balance_fen ORDER BY g.code)
      INTO known, locked, balances
      FROM (SELECT a.code::text, a.cached_balance_fen FROM ledger_account a
             WHERE a.code = ANY(p_guarded) AND NOT a.may_go_negative
             ORDER BY a.code FOR NO KEY UPDATE OF a) g;
    FOR i IN 1 .. COALESCE(array_length(p_guarded, 1), 0) LOOP
        -- A guarded account that does not exist yet holds nothing.
        held := COALESCE(balances[array_position(locked, p_guarded[i])], 0);
        IF held + p_changes[i] < 0 THEN
            r_code := p_guarded[i];
            r_balance := held;
            r_change := p_changes[i];
            EXIT;
        END IF;
    END LOOP;

    IF r_code IS NULL THEN
        IF known < cardinality(p_codes) THEN
            -- Sorted: two transactions creating the same new accounts wait in the same order.
            INSERT INTO ledger_account (code, kind, may_go_negative, cached_balance_fen)
            SELECT DISTINCT l.code, split_part(l.code, ':', 1),
                   split_part(l.code, ':', 1) NOT IN ({GUARDED}),
                   CASE WHEN split_part(l.code, ':', 1) IN ({GUARDED}) THEN 0 END
              FROM unnest(p_codes) AS l(code)
             WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.code = l.code)
             ORDER BY l.code
            ON CONFLICT DO NOTHING;
        END IF;
        -- The entry and its legs in one statement (legs in the caller's order). No conflict
        -- target: a replayed key, or a second reversal of the same entry, inserts nothing here.
        WITH e AS (
            INSERT INTO ledger_entry (idempotency_key, payload_hash, memo, reverses_id)
            VALUES (p_key, p_hash, p_memo, p_reverses)
            ON CONFLICT DO NOTHING
            RETURNING ledger_entry.id, ledger_entry.posted_at
        ), legs AS (
            INSERT INTO ledger_posting (entry_id, account_id, amount_fen)
            SELECT e.id, a.id, l.amount
              FROM e CROSS JOIN unnest(p_codes, p_amounts) WITH ORDINALITY AS l(code, amount, n)
              JOIN ledger_account a ON a.code = l.code
             ORDER BY l.n
        )
        SELECT e.id, e.posted_at INTO entry_id, posted_at FROM e;
        IF FOUND THEN
            outcome := 'posted';
            RETURN;
        END IF;
    END IF;

    -- Refused or not inserted. Looked up only now, after the locks: a concurrent post with the
    -- same key has committed by then, so it is recognised as a replay, not as an overdraft.
    SELECT e.id, e.posted_at, e.payload_hash INTO entry_id, posted_at, v_hash
      FROM ledger_entry e WHERE e.idempotency_key = p_key;
    IF FOUND THEN
        outcome := CASE WHEN v_hash = p_hash THEN 'replayed' ELSE 'conflict' END;
    ELSIF r_code IS NOT NULL THEN
        outcome := 'insufficient';
        account_code := r_code;
        balance_fen := r_balance;
        change_fen := r_change;
    ELSE
        outcome := 'already_reversed';
    END IF;
END $$;
"""

DOWNGRADE = f"""
ALTER TABLE ledger_account RESET (fillfactor);
DROP FUNCTION ledger_post(text, text, text, bigint, text[], bigint[], text[], bigint[]);
DROP TRIGGER ledger_entry_balanced ON ledger_entry;
DROP FUNCTION ledger_entry_balanced();
DROP TRIGGER ledger_postings_apply ON ledger_posting;
DROP FUNCTION ledger_postings_apply();
DROP TRIGGER ledger_account_guard ON ledger_account;
CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_guard();

CREATE FUNCTION ledger_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry_txid bigint;
BEGIN
    SELECT created_txid INTO entry_txid FROM ledger_entry WHERE id = NEW.entry_id;
    IF FOUND AND entry_txid <> txid_current() THEN
        RAISE EXCEPTION 'ledger entry % was written by an earlier transaction: postings cannot '
            'be added to it', NEW.entry_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE ledger_account
       SET cached_balance_fen = cached_balance_fen
           + CASE WHEN kind IN ({DEBIT_NORMAL}) THEN NEW.amount_fen ELSE -NEW.amount_fen END
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
    SELECT code, may_go_negative, cached_balance_fen INTO acct
      FROM ledger_account WHERE id = NEW.account_id;
    IF NOT acct.may_go_negative AND acct.cached_balance_fen < 0 THEN
        RAISE EXCEPTION 'ledger account % may not go negative: its balance would be % fen',
            acct.code, acct.cached_balance_fen USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_posting_apply BEFORE INSERT ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_apply();
CREATE CONSTRAINT TRIGGER ledger_posting_check AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_check();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)

"""The database itself refuses what post() would refuse: raw SQL that bypasses the service.

These tests really commit (the zero-sum trigger is deferred to COMMIT), or set constraints
immediate inside the rolled-back test transaction. An overdraft is refused at once, by the INSERT
whose posting would take the guarded account below zero.
"""
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from market import db, ledger
from market.uow import transaction
from tests.conftest import truncate_all

committed = pytest.mark.committed


def seed_escrow(order: str = "HX2026000100", fen: int = 1_000) -> int:
    """Fund an escrow through the service and commit; return the funding entry id."""
    with transaction():
        entry = ledger.post([("clearing:bank", fen), (f"escrow:{order}", -fen)], f"fund:{order}",
                            f"funding of {order}")
        ledger.account("payable:1")
    db.session.remove()
    return entry.id


def account_id(conn, code: str) -> int:
    return conn.execute(text("SELECT id FROM ledger_account WHERE code = :c"), {"c": code}).scalar_one()


def raw_entry(conn, key: str, legs: list[tuple[str, int]]) -> int:
    """Insert an entry and its postings with plain SQL, one statement per posting, no commit."""
    entry_id = conn.execute(text("INSERT INTO ledger_entry (idempotency_key, payload_hash, memo) "
                                 "VALUES (:k, 'raw', 'raw sql') RETURNING id"), {"k": key}).scalar_one()
    for code, amount in legs:
        conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount_fen) "
                          "VALUES (:e, :a, :m)"),
                     {"e": entry_id, "a": account_id(conn, code), "m": amount})
    return entry_id


def count(table: str) -> int:
    with db.engine().connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@committed
def test_unbalanced_entry_is_refused_at_commit():
    seed_escrow()
    with db.engine().connect() as conn:
        raw_entry(conn, "raw:unbalanced", [("clearing:bank", 100), ("escrow:HX2026000100", -90)])
        # Nothing is checked yet: the trigger is deferred to COMMIT.
        with pytest.raises(IntegrityError, match=r"is unbalanced: its 2 postings sum to 10 fen, not 0"):
            conn.commit()
    assert count("ledger_entry") == 1 and count("ledger_posting") == 2


@committed
def test_single_leg_entry_is_refused_at_commit():
    seed_escrow()
    with db.engine().connect() as conn:
        raw_entry(conn, "raw:one-leg", [("clearing:bank", 100)])
        with pytest.raises(IntegrityError, match="its 1 postings sum to 100 fen"):
            conn.commit()


def add_clearing_accounts(conn) -> None:
    conn.execute(text("INSERT INTO ledger_account (code, kind, may_go_negative) "
                      "VALUES ('clearing:bank', 'clearing', true), ('clearing:stripe', 'clearing', true)"))


def entry_in_one_statement(conn, key: str, legs: list[tuple[str, int]]) -> None:
    """An entry and its postings in one INSERT statement, as ledger_post() writes them."""
    conn.execute(text(
        "WITH e AS (INSERT INTO ledger_entry (idempotency_key, payload_hash, memo) "
        "VALUES (:k, 'raw', 'raw sql') RETURNING id) "
        "INSERT INTO ledger_posting (entry_id, account_id, amount_fen) "
        "SELECT e.id, a.id, l.amount FROM e CROSS JOIN unnest(CAST(:codes AS text[]), "
        "CAST(:amounts AS bigint[])) AS l(code, amount) JOIN ledger_account a ON a.code = l.code"),
        {"k": key, "codes": [c for c, _ in legs], "amounts": [a for _, a in legs]})


def test_unbalanced_entry_refused_at_once_with_constraints_immediate(db_session):
    conn = db_session.connection()
    with pytest.raises(IntegrityError, match="its 2 postings sum to 99 fen"):
        with conn.begin_nested():
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
            add_clearing_accounts(conn)
            entry_in_one_statement(conn, "raw:immediate",
                                   [("clearing:bank", 100), ("clearing:stripe", -1)])


def test_balanced_entry_in_one_statement_passes_with_constraints_immediate(db_session):
    conn = db_session.connection()
    with conn.begin_nested():
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        add_clearing_accounts(conn)
        entry_in_one_statement(conn, "raw:immediate-ok",
                               [("clearing:bank", 100), ("clearing:stripe", -100)])
    assert conn.execute(text("SELECT count(*) FROM ledger_posting")).scalar_one() == 2


@committed
def test_entry_without_postings_is_refused_at_commit():
    seed_escrow()
    with db.engine().connect() as conn:
        raw_entry(conn, "raw:empty", [])
        with pytest.raises(IntegrityError, match="its 0 postings sum to 0 fen"):
            conn.commit()
    assert count("ledger_entry") == 1


def test_zero_posting_refused_by_check(db_session):
    conn = db_session.connection()
    with pytest.raises(IntegrityError, match="ck_ledger_posting_amount_nonzero"):
        with conn.begin_nested():
            add_clearing_accounts(conn)
            raw_entry(conn, "raw:zero", [("clearing:bank", 0)])


@committed
@pytest.mark.parametrize("statement", [
    "UPDATE ledger_posting SET amount_fen = amount_fen * 2",
    "DELETE FROM ledger_posting",
    "TRUNCATE ledger_posting",
    "UPDATE ledger_entry SET memo = 'rewritten'",
    "DELETE FROM ledger_entry",
    "TRUNCATE ledger_entry CASCADE",
    "TRUNCATE ledger_account CASCADE",
])
def test_entries_and_postings_are_append_only(statement):
    seed_escrow()
    with db.engine().connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
            conn.commit()
    assert count("ledger_entry") == 1 and count("ledger_posting") == 2
    assert ledger.balance("escrow:HX2026000100") == 1_000


@committed
def test_postings_cannot_be_added_to_a_committed_entry():
    entry_id = seed_escrow()
    with db.engine().connect() as conn:
        with pytest.raises(DBAPIError, match="written by an earlier transaction"):
            conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount_fen) "
                              "VALUES (:e, :a, 5)"),
                         {"e": entry_id, "a": account_id(conn, "clearing:bank")})
    assert ledger.entry_lines(entry_id) == [("clearing:bank", 1_000), ("escrow:HX2026000100", -1_000)]


@committed
def test_accounts_cannot_be_rewritten_nor_their_cached_balance_forged():
    seed_escrow()
    with db.engine().connect() as conn:
        with pytest.raises(DBAPIError, match="cannot be set directly"):
            conn.execute(text("UPDATE ledger_account SET cached_balance_fen = 1000000000 "
                              "WHERE code = 'escrow:HX2026000100'"))
        conn.rollback()
        with pytest.raises(DBAPIError, match="cannot be changed"):
            conn.execute(text("UPDATE ledger_account SET code = 'escrow:HX2026000999' "
                              "WHERE code = 'escrow:HX2026000100'"))
        conn.rollback()
        with pytest.raises(IntegrityError, match="may_go_negative_by_kind"):
            conn.execute(text("INSERT INTO ledger_account (code, kind, may_go_negative) "
                              "VALUES ('escrow:HX5', 'escrow', true)"))


@committed
def test_raw_sql_cannot_drive_escrow_negative():
    seed_escrow(fen=1_000)
    with db.engine().connect() as conn:
        with pytest.raises(IntegrityError,
                           match=r"escrow:HX2026000100 may not go negative: its balance would be -500"):
            raw_entry(conn, "raw:overdraw", [("escrow:HX2026000100", 1_500), ("payable:1", -1_500)])
    assert ledger.balance("escrow:HX2026000100") == 1_000
    assert ledger.balance("payable:1") == 0


@committed
def test_raw_sql_cannot_drive_payable_negative():
    seed_escrow()
    with db.engine().connect() as conn:
        with pytest.raises(IntegrityError, match="payable:1 may not go negative"):
            raw_entry(conn, "raw:payout", [("payable:1", 1), ("clearing:bank", -1)])


@committed
def test_concurrent_raw_releases_use_the_locked_balance():
    """Two raw transactions each release 600 of 1000: the second waits for the first, then fails."""
    seed_escrow(fen=1_000)
    legs = [("escrow:HX2026000100", 600), ("payable:1", -600)]
    outcome: dict[str, object] = {}

    first = db.engine().connect()
    raw_entry(first, "raw:first", legs)  # holds the escrow row lock until it commits

    def second():
        with db.engine().connect() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            try:
                raw_entry(conn, "raw:second", legs)  # blocks on the escrow row, then refused
                conn.commit()
                outcome["second"] = "committed"
            except DBAPIError as exc:
                outcome["second"] = exc

    worker = threading.Thread(target=second)
    worker.start()
    worker.join(0.5)
    assert worker.is_alive(), "the second writer should be waiting for the escrow row lock"
    first.commit()
    first.close()
    worker.join(15)
    assert not worker.is_alive()
    assert isinstance(outcome["second"], IntegrityError)
    assert "may not go negative" in str(outcome["second"])
    assert ledger.balance("escrow:HX2026000100") == 400


@committed
def test_truncate_all_still_empties_the_ledger():
    seed_escrow()
    truncate_all()  # session_replication_role = replica skips the ordinary truncate triggers
    assert count("ledger_entry") == count("ledger_posting") == count("ledger_account") == 0

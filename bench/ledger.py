"""Benchmark: posting through the ledger (triggers, locks, checks) against plain INSERTs.

Creates its own database `hazex_bench_ledger` (dropped at the end) on the server of DATABASE_URL,
or on the embedded PostgreSQL, migrated to head so every ledger trigger is on. Then posts N
entries, half two-leg fundings (Dr clearing:bank / Cr escrow:O) and half three-leg releases
(Dr escrow:O / Cr payable:P / Cr revenue:fees…), each through ledger.post() in its own
transaction() — one use case, one commit — and, in the same run, inserts exactly the same entry
and posting rows with plain INSERTs into trigger-less copies of the tables (same columns,
defaults, indexes and unique keys; no triggers, no foreign keys), also one entry per transaction,
two ways:

- ratio: through the same unit of work (transaction(): session, pooled connection, one commit),
  so the ratio isolates what the ledger itself costs;
- bare_ratio: on one connection held open with no session, which also counts the unit of work's
  own cost against the ledger.

Plain and ledger runs alternate in ROUNDS slices, with the planner's statistics refreshed (as
autovacuum would) before each, untimed. Twice:

- spread: one connection; fee legs spread over 100 revenue accounts;
- hot: WORKERS concurrent connections, every fee leg on the one revenue:fees account and every
  payee account credited by every worker (row locks contended), against plain INSERTs with as
  many workers.

Accounts exist beforehand in both runs. "rows" below are entries, each with its 2 or 3 postings.

    .venv/bin/python bench/ledger.py [--entries 100000] [--workers 4] [--rounds 20] [--keep]

Last line: BENCH ledger entries_per_s=… insert_rows_per_s=… ratio=… hot_ratio=… bare_ratio=…
hot_bare_ratio=…
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from _scratch import scratch_database  # noqa: E402

BENCH_DB = "hazex_bench_ledger"
ORDERS, PAYEES, FEE_ACCOUNTS = 5_000, 500, 100


def workload(n: int, run: str, hot: bool) -> list[tuple[str, list[tuple[str, int]]]]:
    """n entries: each order is funded, then half of it released (never an overdraft)."""
    out = []
    for i in range(n // 2):
        order = f"escrow:B{run.upper()}{i % ORDERS:06d}"
        # 499 is prime: in the hot run every payee gets entries from every (of < 499) workers.
        payee = f"payable:{1 + i % (PAYEES - 1 if hot else PAYEES)}"
        fee_acct = "revenue:fees" if hot else f"revenue:fees_{i % FEE_ACCOUNTS}"
        out.append((f"{run}:fund:{i}", [("clearing:bank", 10_000), (order, -10_000)]))
        out.append((f"{run}:release:{i}", [(order, 5_000), (payee, -4_950), (fee_acct, -50)]))
    return out


def make_accounts(codes: set[str]) -> dict[str, int]:
    from market import db, ledger
    from market.uow import transaction
    with transaction():
        for code in sorted(codes):
            ledger.account(code)
    return dict(db.session.execute(text("SELECT code, id FROM ledger_account")).all())


def analyze() -> None:
    """Refresh the planner's statistics, as autovacuum does on a live database.

    The tables start empty and grow by thousands of rows a minute; without fresh statistics the
    plans cached while they were tiny (the foreign-key checks' and the triggers') keep scanning
    whole tables, which measures a cold start, not the ledger. Untimed, and for every table.
    """
    from market import db
    with db.engine().connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def post_all(app, chunks: list[list]) -> float:
    """Post each chunk on its own thread (own connection), one entry per transaction; seconds."""
    from market import db, ledger
    from market.uow import transaction
    errors: list[BaseException] = []

    def worker(entries):
        with app.app_context():
            try:
                for key, lines in entries:
                    with transaction():
                        ledger.post(lines, key, "bench")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()
    return _timed(chunks, worker, errors)


def insert_all(app, chunks: list[list], ids: dict[str, int], *, bare: bool) -> float:
    """The same rows with plain INSERTs into the trigger-less copies; seconds.

    Through the same unit of work as post_all (transaction(): session, pooled connection, one
    commit), so the ratio isolates what the ledger itself costs; or, with bare=True, on one
    connection held open without a session, which also counts the unit of work against the
    ledger.
    """
    from market import db
    from market.uow import transaction
    errors: list[BaseException] = []
    copy = "bare" if bare else "plain"  # each baseline has its own tables, as full as the ledger's
    entry_sql = text(f"INSERT INTO {copy}_entry (idempotency_key, payload_hash, memo) "
                     "VALUES (:k, :h, 'bench') RETURNING id")

    def insert(conn, key, lines):
        entry_id = conn.execute(entry_sql, {"k": key, "h": "0" * 64}).scalar_one()
        values = ", ".join(f"({entry_id}, {ids[c]}, {a})" for c, a in lines)
        conn.exec_driver_sql(f"INSERT INTO {copy}_posting (entry_id, account_id, amount_fen) "
                             f"VALUES {values}")

    def worker(entries):
        with app.app_context():
            try:
                if bare:
                    with db.engine().connect() as conn:
                        for key, lines in entries:
                            with conn.begin():
                                insert(conn, key, lines)
                else:
                    for key, lines in entries:
                        with transaction() as s:
                            insert(s.connection(), key, lines)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()
    return _timed(chunks, worker, errors)


def _timed(chunks, worker, errors) -> float:
    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed


def split(entries: list, workers: int) -> list[list]:
    """Deal whole (fund, release) pairs round-robin, so each worker's releases follow its funds."""
    pairs = [entries[i:i + 2] for i in range(0, len(entries), 2)]
    return [[e for p in pairs[w::workers] for e in p] for w in range(workers)]


def measure(app, n: int, run: str, hot: bool, workers: int, rounds: int
            ) -> tuple[float, float, float]:
    """Entries/s through the ledger, and rows/s of plain INSERTs (unit of work, bare connection).

    Each round inserts a slice of the workload plainly, both ways, then posts the same slice;
    alternating in small rounds spreads the machine's noise (checkpoints, other processes) over
    every side.
    """
    from market import db
    entries = workload(n, run, hot)
    ids = make_accounts({c for _k, lines in entries for c, _a in lines})
    per_round = -(-len(entries) // rounds)
    per_round += per_round % 2  # whole (fund, release) pairs
    posted = plain = bare = 0.0
    for start in range(0, len(entries), per_round):
        analyze()
        chunks = split(entries[start:start + per_round], workers)
        plain += insert_all(app, chunks, ids, bare=False)
        bare += insert_all(app, chunks, ids, bare=True)
        posted += post_all(app, chunks)
    with db.engine().begin() as conn:  # the ledger really holds what was posted
        total = conn.execute(text("SELECT count(*) FROM ledger_entry WHERE idempotency_key "
                                  "LIKE :p"), {"p": f"{run}:%"}).scalar_one()
        assert total == n, (total, n)
        assert conn.execute(text("SELECT coalesce(sum(amount_fen), 0) FROM ledger_posting")
                            ).scalar_one() == 0
    return n / posted, n / plain, n / bare


def report(label: str, rates: tuple[float, float, float]) -> None:
    posted, plain, bare = rates
    print(f"{label}: ledger {posted:,.0f} entries/s; plain INSERT {plain:,.0f} rows/s "
          f"(ratio {posted / plain:.2f}); on a bare connection {bare:,.0f} rows/s "
          f"(ratio {posted / bare:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=20,
                        help="plain and ledger runs alternate this many times")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    n = args.entries - args.entries % 2

    with scratch_database(BENCH_DB, keep=args.keep) as url:
        from alembic import command
        from market import create_app, db
        app = create_app(DATABASE_URL=url)
        with app.app_context():
            from market.cli import alembic_config
            command.upgrade(alembic_config(), "head")
            with db.engine().begin() as conn:
                for copy in ("plain", "bare"):
                    for table in ("entry", "posting"):
                        conn.execute(text(f"CREATE TABLE {copy}_{table} (LIKE ledger_{table} "
                                          "INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                                          "INCLUDING INDEXES)"))
            print(f"posting {n:,} entries ({n // 2:,} two-leg, {n // 2:,} three-leg), one per "
                  "transaction, against plain INSERTs of the same rows")
            spread = measure(app, n, "s", hot=False, workers=1, rounds=args.rounds)
            report("spread, 1 connection", spread)
            hot = measure(app, n, "h", hot=True, workers=args.workers, rounds=args.rounds)
            report(f"hot revenue:fees, {args.workers} connections", hot)
            db.session.remove()
            db.engine().dispose()
    print(f"BENCH ledger entries_per_s={spread[0]:.0f} insert_rows_per_s={spread[1]:.0f} "
          f"ratio={spread[0] / spread[1]:.2f} hot_ratio={hot[0] / hot[1]:.2f} "
          f"bare_ratio={spread[0] / spread[2]:.2f} hot_bare_ratio={hot[0] / hot[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Concurrent posts on real PostgreSQL: no overdraft, no deadlock, idempotency holds.

Each thread pushes its own app context; the scoped session is thread-local, so every thread has
its own connection and transaction. These tests commit for real.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import pytest
from sqlalchemy import func, select, text

from market import db, ledger
from market.ledger.models import Entry, Posting
from market.uow import transaction

pytestmark = pytest.mark.committed
JOIN_TIMEOUT = 20


def start(app, name: str, fn: Callable[[], object], results: dict, *,
          before: Callable[[], None] | None = None, hold: Callable[[], None] | None = None,
          own_transactions: bool = False):
    """Run fn inside transaction() on a thread; results[name] gets its value or the exception."""
    def target():
        with app.app_context():
            try:
                if before:
                    before()
                if own_transactions:
                    results[name] = fn()
                    return
                with transaction():
                    # A lock wait longer than this fails the test instead of hanging it.
                    db.session.execute(text("SET LOCAL lock_timeout = '10s'"))
                    results[name] = fn()
                    if hold:
                        hold()  # keep the transaction (and its row locks) open a while
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                results[name] = exc
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def join(*threads: threading.Thread) -> None:
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck: deadlock or lock wait"


def fund(order: str, fen: int) -> None:
    with transaction():
        ledger.post([("clearing:bank", fen), (f"escrow:{order}", -fen)], f"fund:{order}", "funding")
    db.session.remove()


def release(order: str, payee: int, fen: int, key: str) -> Callable[[], int]:
    fee = fen // 100
    return lambda: ledger.post([(f"escrow:{order}", fen), (f"payable:{payee}", -(fen - fee)),
                                ("revenue:fees", -fee)], key, f"release to {payee}").id


def test_two_simultaneous_releases_cannot_overdraw(app):
    fund("HX2026000200", 1_000)
    barrier = threading.Barrier(2)
    results: dict = {}
    threads = [start(app, f"t{i}", release("HX2026000200", 5 + i, 600, f"release:{i}"), results,
                     before=lambda: barrier.wait(5)) for i in range(2)]
    join(*threads)
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["InsufficientFunds", "int"], results
    assert ledger.balance("escrow:HX2026000200") == 400
    assert ledger.balance("payable:5") + ledger.balance("payable:6") == 594
    assert ledger.trial_balance().total == 0


def test_second_release_waits_for_the_first_and_sees_its_result(app):
    fund("HX2026000201", 1_000)
    posted = threading.Event()
    results: dict = {}
    first = start(app, "first", release("HX2026000201", 5, 600, "release:first"), results,
                  hold=lambda: (posted.set(), time.sleep(0.5)))
    assert posted.wait(10)
    t0 = time.monotonic()
    second = start(app, "second", release("HX2026000201", 6, 600, "release:second"), results)
    join(first, second)
    waited = time.monotonic() - t0
    assert isinstance(results["first"], int)
    assert isinstance(results["second"], ledger.InsufficientFunds), results
    assert results["second"].balance_fen == 400  # it read the balance after the first commit
    assert waited >= 0.3, "the second post should have waited for the escrow row lock"
    assert ledger.balance("escrow:HX2026000201") == 400


def test_opposite_line_orders_never_deadlock(app):
    with transaction():
        for org in (1, 2):
            ledger.post([("clearing:bank", 1_000), (f"payable:{org}", -1_000)], f"seed:{org}", "seed")
    db.session.remove()
    barrier = threading.Barrier(2)
    results: dict = {}

    def transfers(src: int, dst: int) -> Callable[[], None]:
        def loop():
            for n in range(25):
                barrier.wait(5)
                with transaction():
                    db.session.execute(text("SET LOCAL lock_timeout = '10s'"))
                    # Lines name the accounts in opposite orders in the two threads; post()
                    # locks them in code order, so neither waits on the other in a cycle.
                    ledger.post([(f"payable:{src}", 10), (f"payable:{dst}", -10)],
                                f"move:{src}:{dst}:{n}", "transfer")
            return "done"
        return loop

    threads = [start(app, "a", transfers(1, 2), results, own_transactions=True),
               start(app, "b", transfers(2, 1), results, own_transactions=True)]
    join(*threads)
    assert results == {"a": "done", "b": "done"}
    assert ledger.balance("payable:1") == ledger.balance("payable:2") == 1_000


def test_same_key_posted_concurrently_posts_once(app):
    barrier = threading.Barrier(2)
    results: dict = {}
    post = lambda: ledger.post([("clearing:bank", 700), ("escrow:HX2026000202", -700)],  # noqa: E731
                               "fund:HX2026000202", "funding").id
    threads = [start(app, f"t{i}", post, results, before=lambda: barrier.wait(5)) for i in range(2)]
    join(*threads)
    assert results["t0"] == results["t1"] and isinstance(results["t0"], int), results
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 1
    assert db.session.scalar(select(func.count()).select_from(Posting)) == 2
    assert ledger.balance("escrow:HX2026000202") == 700

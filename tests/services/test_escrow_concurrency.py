"""Simultaneous releases and refunds on real PostgreSQL: never an overdraft, never a deadlock.

Every thread pushes its own app context and so has its own session, connection and transaction;
a barrier lines the use cases up so they really race for the order's row lock. These tests commit.
"""
from __future__ import annotations

import threading
from typing import Callable

import pytest
from sqlalchemy import text

from market import db, ledger
from market.escrow import services
from market.escrow.book import escrow_state
from tests.escrow_factories import finance_user, make_order, pay_in_full, set_status

pytestmark = pytest.mark.committed
JOIN_TIMEOUT = 30


def race(app, calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at the same moment on threads; each result or exception, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, fn):
        with app.app_context():
            try:
                db.session.execute(text("SET lock_timeout = '10s'"))  # a wait this long fails
                db.session.commit()
                barrier.wait(5)
                results[i] = fn()
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True)
               for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck: deadlock or lock wait"
    return results


def kinds(results) -> list[str]:
    return sorted(type(r).__name__ for r in results)


@pytest.fixture
def funded(generator, operator):
    finance = finance_user()
    # 300 000 held, the waste received: its lines may be released
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    out = order.id, order.number, order.lines[0].id, finance
    db.session.remove()
    return out


def test_two_simultaneous_releases_never_overdraw(app, funded, operator):
    order_id, number, line_id, finance = funded
    results = race(app, [lambda i=i: services.release(finance, order_id, line_id, 200_000,
                                                      key=f"rel-{i}") for i in range(2)])
    assert kinds(results) == ["MoreThanHeld", "Movement"], results
    assert ledger.balance(f"escrow:{number}") == 100_000
    assert ledger.balance(f"payable:{operator.org_id}") == 198_000


def test_two_simultaneous_refunds_never_overdraw(app, funded, generator):
    order_id, number, _line, finance = funded
    results = race(app, [lambda i=i: services.refund(finance, order_id, generator.org_id, 200_000,
                                                     key=f"ref-{i}") for i in range(2)])
    assert kinds(results) == ["MoreThanHeld", "Movement"], results
    assert ledger.balance(f"escrow:{number}") == 100_000


def test_a_release_and_a_refund_racing_for_the_same_money(app, funded, generator):
    order_id, number, line_id, finance = funded
    results = race(app, [
        lambda: services.release(finance, order_id, line_id, 250_000, key="mix-rel"),
        lambda: services.refund(finance, order_id, generator.org_id, 250_000, key="mix-ref")])
    assert kinds(results) == ["MoreThanHeld", "Movement"], results
    assert ledger.balance(f"escrow:{number}") == 50_000
    state = escrow_state(order_id)
    assert state.total_held() == 50_000


def test_the_same_key_sent_twice_at_once_posts_once(app, funded, operator):
    order_id, number, line_id, finance = funded
    results = race(app, [lambda: services.release(finance, order_id, line_id, 100_000,
                                                  key="same")] * 2)
    assert kinds(results) == ["Movement", "Movement"], results
    assert results[0].id == results[1].id
    assert ledger.balance(f"escrow:{number}") == 200_000


def test_many_releases_on_two_orders_sharing_payees_finish_without_deadlock(app, generator,
                                                                             operator):
    finance = finance_user()
    orders = [set_status(pay_in_full(make_order(generator.org, operator.org), finance),
                         "received") for _ in range(2)]
    ids = [(o.id, o.number, o.lines[0].id) for o in orders]
    db.session.remove()
    calls = []
    for i in range(8):
        oid, _n, lid = ids[i % 2]
        calls.append(lambda oid=oid, lid=lid, i=i: services.release(finance, oid, lid, 50_000,
                                                                    key=f"many-{i}"))
        calls.append(lambda oid=oid, i=i: services.refund(finance, oid, generator.org_id, 30_000,
                                                          key=f"many-r-{i}"))
    results = race(app, calls)
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(type(e).__name__ == "MoreThanHeld" for e in errors), errors
    for oid, number, _lid in ids:
        held = ledger.balance(f"escrow:{number}")
        assert held >= 0 and held == escrow_state(oid).total_held()
    assert ledger.trial_balance().total == 0

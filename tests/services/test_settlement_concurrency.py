"""Settlement run twice at the same moment (a retried job and the last receipt, two workers):
the second waits for the first on the order's row lock, then finds it settled; money posts once.
This test commits."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Movement
from market.orders.models import Order
from market.settlement import services
from market.settlement.models import Settlement
from tests.escrow_factories import finance_user
from tests.services.test_escrow_concurrency import race
from tests.settlement_factories import received_order

pytestmark = pytest.mark.committed


def test_two_settlements_at_once_post_once(app, generator, operator):
    order = received_order(generator.org, operator.org, transport_fen=40_000,
                           weights=((1_000, 970), (1_000, 1_000)), finance=finance_user())
    order_id, number = order.id, order.number
    db.session.remove()
    results = race(app, [lambda: services.settle(order_id).id for _ in range(3)])
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert db.session.scalar(select(func.count()).select_from(Settlement)) == 1
    # one release per line and one refund, whoever ran first
    assert db.session.scalar(select(func.count()).select_from(Movement).where(
        Movement.order_id == order_id, Movement.kind.in_(("release", "refund")))) == 3
    assert db.session.get(Order, order_id).status == "settled"
    assert ledger.balance(f"escrow:{number}") == 0
    assert ledger.balance(f"payable:{operator.org_id}") == 295_500 - 2_955 + 40_000
    assert ledger.trial_balance().total == 0

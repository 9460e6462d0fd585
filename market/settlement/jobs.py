"""Settlement jobs: settle an order (again, after a top-up), close orders once paid out.

Both are idempotent: settling a settled order returns it, closing a closed one does nothing.
"""
from __future__ import annotations

from sqlalchemy import select

from market import db
from market.errors import DomainError
from market.jobs import job
from market.orders.models import Order
from market.orders import settling


@job(queue="money", retries=5, intervals=(10, 60, 300, 900, 3600))
def settle_order(order_id: int) -> str:
    """Settle a received order (queued when a top-up is paid); a no-op once settled."""
    try:
        row = settling.settle_order(order_id)
    except DomainError as exc:
        return f"not settled: {exc.code}"
    return row.status


@job(queue="money", retries=3)
def close_paid_orders(day: str | None = None) -> int:
    """Close every settled or resolved order whose money is all paid out (card refunds and
    Connect transfers are executed by jobs of their own; this sweep closes what they finish)."""
    ids = list(db.session.scalars(select(Order.id).where(
        Order.status.in_(("settled", "resolved"))).order_by(Order.id)))
    db.session.rollback()
    return sum(1 for oid in ids if settling.close_if_paid_out(oid))

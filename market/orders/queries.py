"""Read side of orders, scoped to the organisation asking."""
from __future__ import annotations

from sqlalchemy import or_, select

from market import db
from market.accounts.models import User
from market.orders.models import Order


def orders_for(actor: User, status: str | None = None, limit: int = 200) -> list[Order]:
    """The orders where the actor's organisation is generator or operator, newest first."""
    stmt = (select(Order).where(or_(Order.generator_id == actor.org_id, Order.operator_id == actor.org_id))
            .order_by(Order.id.desc()).limit(limit))
    if status:
        stmt = stmt.where(Order.status == status)
    return list(db.session.scalars(stmt))

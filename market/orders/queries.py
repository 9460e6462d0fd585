"""Read side of orders, scoped to the organisation asking."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from market import db
from market.accounts.models import User
from market.errors import NotFound
from market.orders.models import Order
from market.orders.services import actor_role
from market.region_scope import order_in_region


def visible_orders(stmt: Select, user: User) -> Select:
    """Orders the user may see: either party's, all for platform staff, a regulator's region's."""
    if user.is_platform:
        return stmt
    if user.is_regulator:
        # Waste leaves one region and arrives in another: both parties' and the pickup region
        # concern it (market.region_scope, the one rule).
        return stmt.where(order_in_region(user.org.scope_prefix))
    return stmt.where(or_(Order.generator_id == user.org_id, Order.operator_id == user.org_id))


def visible_order(user: User, order_id: int) -> tuple[Order, str | None]:
    """The order and the user's role on it (None for a regulator), or NotFound."""
    order = db.session.scalar(visible_orders(select(Order).where(Order.id == order_id), user))
    if order is None:
        raise NotFound(_("No such order."))
    return order, actor_role(order, user)


def orders_for(actor: User, status: str | None = None, limit: int = 200) -> list[Order]:
    """The orders where the actor's organisation is generator or operator, newest first."""
    stmt = (select(Order).where(or_(Order.generator_id == actor.org_id, Order.operator_id == actor.org_id))
            .order_by(Order.id.desc()).limit(limit))
    if status:
        stmt = stmt.where(Order.status == status)
    return list(db.session.scalars(stmt))

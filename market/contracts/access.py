"""Who may see an order's contract and sampling documents (DESIGN.md §1).

The two parties and platform staff see everything of the order; a lab sees the sampling orders
sent to it and nothing else of the order; a regulator reads, never writes, the orders of which
either party lies in its region (the same rule as the order pages). Anyone else gets a 404.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.errors import NotFound, PermissionDenied
from market.orders.models import Order
from market.orders.services import actor_role
from market.region_scope import order_covered

PARTIES = ("generator", "operator")


def regulator_covers(user: User, order: Order) -> bool:
    """True when the order lies in a regulator's region (market.region_scope, the one rule)."""
    return user.is_regulator and order_covered(user.org.scope_prefix, order.id)


def viewer_role(user: User, order: Order) -> str | None:
    """generator / operator / admin / finance / regulator, or None when the order is not theirs."""
    role = actor_role(order, user)
    if role is None and regulator_covers(user, order):
        return "regulator"
    return role


def order_for_viewer(user: User, order_id: int, *, lock: bool = False) -> tuple[Order, str]:
    """The order and the user's role on it; 404 for anyone who may not see it."""
    stmt = select(Order).where(Order.id == order_id)
    if lock:
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    order = db.session.scalar(stmt)
    role = viewer_role(user, order) if order is not None else None
    if role is None:
        raise NotFound(_("No such order."))
    return order, role


def party_order(user: User, order_id: int, *, lock: bool = False) -> tuple[Order, str]:
    """The order for one of its two parties; others who may see it are refused, the rest 404."""
    order, role = order_for_viewer(user, order_id, lock=lock)
    if role not in PARTIES:
        raise PermissionDenied(_("Only the generator and the operator of this order may do this."),
                               code="not_a_party")
    return order, role

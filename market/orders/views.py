"""Orders on the web: each party's list and order page, cancelling; regulators read their region's."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from market import db
from market.contracts.queries import party_names
from market.listings.browse import category_names, region_names
from market.listings.forms import ReasonForm
from market.manifests import queries as manifest_queries
from market.orders import actions, lifecycle, state
from market.orders.models import Order
from market.orders.queries import visible_order, visible_orders
from market.reviews.forms import panel_context
from market.web.forms import flash_outcome
from market.web.security import acting_user

bp = Blueprint("orders", __name__)


@bp.get("/orders")
@login_required
def index():
    status = request.args.get("status") if request.args.get("status") in state.ORDER_STATUSES else None
    stmt = visible_orders(select(Order), current_user).order_by(Order.id.desc()).limit(500)
    if status:
        stmt = stmt.where(Order.status == status)
    rows = list(db.session.scalars(stmt))
    return render_template("orders/orders.html", orders=rows, status=status,
                           statuses=state.ORDER_STATUSES, category_names=category_names())


@bp.get("/orders/<int:order_id>")
@login_required
def detail(order_id):
    order, role = visible_order(current_user, order_id)
    can_cancel = role is not None and state.can(order.status, "cancelled", role)
    return render_template("orders/order.html", order=order, role=role, can_cancel=can_cancel,
                           actions=actions.for_caller(order, role),
                           names=party_names(order),
                           manifests=manifest_queries.manifests_of(order.id),
                           cancel_form=ReasonForm(), category_names=category_names(),
                           region_names=region_names([order.region_code]),
                           refund=state.cancel_refunds(order.status), **panel_context(order, role))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id):
    visible_order(acting_user(), order_id)
    form = ReasonForm()
    return flash_outcome(lambda: lifecycle.cancel_order(current_user, order_id, form.reason.data or ""),
                         _("Order cancelled; the reserved capacity is released."),
                         url_for("orders.detail", order_id=order_id))


@bp.app_template_global("order_progress")
def order_progress(status: str, subject_to_sampling: bool) -> list[tuple[str, str]]:
    """The progress tracker's steps, for templates/orders/_progress.html on every order page."""
    return state.progress(status, subject_to_sampling)

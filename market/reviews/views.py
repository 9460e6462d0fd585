"""Reviews on the web: the form on the order page posts here."""
from __future__ import annotations

from flask import Blueprint, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.orders.queries import visible_order
from market.reviews import services
from market.reviews.forms import review_form
from market.web.forms import flash_outcome
from market.web.security import acting_user

bp = Blueprint("reviews", __name__)


@bp.post("/orders/<int:order_id>/reviews")
@login_required
def submit(order_id):
    _order, role = visible_order(acting_user(), order_id)
    form = review_form("operator" if role == "operator" else "generator")
    return flash_outcome(
        lambda: services.submit_review(current_user, order_id, form.scores(), form.comment.data),
        _("Thank you: your review is published."),
        url_for("orders.detail", order_id=order_id) + "#reviews", form=form)

"""Writing a review: a party of a settled order rates the other party, once.

The order row is locked first, so two members of one organisation submitting at the same moment
queue there; the unique (order, side) constraint stands behind it.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.contracts.access import party_order
from market.errors import ValidationFailed
from market.notifications.messages import message
from market.notifications.services import notify_org
from market.reviews.errors import AlreadyReviewed, BadScore, NotSettled
from market.reviews.models import Review
from market.reviews.policies import (MAX_COMMENT, MAX_SCORE, MIN_SCORE, REVIEWABLE_STATUSES, 
                                     ScoreProblem, check_scores)
from market.uow import transaction


def score_message(problem: ScoreProblem, side: str) -> str:
    """The rule a score broke, in the user's language, naming the score."""
    name = problem.field
    if problem.rule == "unknown":
        return (_("%(field)s is not a score the generator gives (on_time, as_agreed, communication).",
                  field=name) if side == "generator" else
                _("%(field)s is not a score the operator gives (as_declared, payment).", field=name))
    if problem.rule == "missing":
        return _("%(field)s is required.", field=name)
    if problem.rule == "not_integer":
        return _("%(field)s must be a whole number.", field=name)
    return _("%(field)s must be between %(min)d and %(max)d.", field=name, min=MIN_SCORE,
             max=MAX_SCORE)


def _comment(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s must be a string.", field="comment"), field="comment")
    if "\x00" in value:
        raise ValidationFailed(_("%(field)s must not contain NUL characters.", field="comment"),
                               field="comment")
    value = value.strip()
    if len(value) > MAX_COMMENT:
        raise ValidationFailed(_("%(field)s must be at most %(n)d characters.", field="comment",
                                 n=MAX_COMMENT), field="comment")
    return value or None


def submit_review(actor: User, order_id: int, scores: Mapping[str, object],
                  comment: object = None) -> Review:
    """The actor's organisation rates the other party of a settled order; once per side."""
    with transaction():
        order, side = party_order(actor, order_id, lock=True)
        if order.status not in REVIEWABLE_STATUSES:
            raise NotSettled(_("Order %(number)s can be reviewed once it is settled.",
                               number=order.number))
        if db.session.scalar(select(Review.id).where(Review.order_id == order.id,
                                                     Review.side == side)) is not None:
            raise AlreadyReviewed(_("Your organisation has already reviewed order %(number)s.",
                                    number=order.number))
        try:
            checked = check_scores(side, scores)
        except ScoreProblem as problem:
            raise BadScore(score_message(problem, side), field=f"scores.{problem.field}") from None
        review = Review(order_id=order.id, side=side, reviewer_org_id=actor.org_id,
                        subject_org_id=order.other_party(actor.org_id), author_id=actor.id,
                        comment=_comment(comment), **checked)
        db.session.add(review)
        db.session.flush()
        record("review.submitted", review, actor=actor,
               changes={"order_id": order.id, "side": side, **checked})
        notify_org(review.subject_org_id, "review.received",
                   message("%(org)s reviewed order %(number)s.", org=actor.org.name, number=order.number),
                   link=f"/orders/{order.id}")
        return review

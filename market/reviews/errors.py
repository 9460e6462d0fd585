"""Typed errors of reviews; market.web.errors maps them to HTTP for HTML and JSON alike."""
from __future__ import annotations

from market.errors import Conflict, InvalidState, ValidationFailed


class NotSettled(InvalidState):
    """An order is reviewed only once it is settled (or closed)."""
    code = "order_not_settled"


class AlreadyReviewed(Conflict):
    """Each party reviews an order once."""
    code = "already_reviewed"


class BadScore(ValidationFailed):
    """A score the caller's side does not give, missing, not a whole number or outside 1–5."""
    code = "invalid_score"

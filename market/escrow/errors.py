"""Typed errors of escrow; market.web.errors maps them to 403/409/422 for HTML and JSON alike."""
from __future__ import annotations

from market.errors import InvalidState, PermissionDenied, ValidationFailed


class NotAwaitingFunding(InvalidState):
    """Money can be asked for only once the contract is signed, and only until it is funded."""
    code = "not_awaiting_funding"


class NothingToPay(PermissionDenied):
    """The organisation pays no line of this order."""
    code = "nothing_to_pay"


class EscrowNotFunded(InvalidState):
    """Releases and refunds need money in escrow and an order in a state that allows them."""
    code = "escrow_not_funded"


class EscrowNotEmpty(InvalidState):
    """An order closes only once its escrow is empty."""
    code = "escrow_not_empty"


class MoreThanHeld(ValidationFailed):
    """A release or refund larger than what is held for it."""
    code = "more_than_held"


class BadReference(ValidationFailed):
    """A reference that looks like ours but whose check digits do not match: a typo."""
    code = "bad_check_digits"


class SplitMismatch(ValidationFailed):
    """A dispute split that does not add up to what is held, or gives a party too much."""
    code = "split_mismatch"

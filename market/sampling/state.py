"""The sampling-order state machine with the actor allowed for each transition. Pure.

    requested ─► accepted ─► sample_collected ─► reported ─► closed
        └───────────┴─► cancelled

Actors are roles relative to the sampling order: the order's ``generator`` or ``operator`` (either
may have asked for the test), the ``lab`` it was sent to, platform ``admin`` staff, or ``system``
(the price decision of the result gate closes a reported sampling order).

Once the sample is collected the lab has done paid work: the sampling order can no longer be
cancelled, and its fee stays payable whatever becomes of the trade order.
"""
from __future__ import annotations

SAMPLING_STATUSES = ("requested", "accepted", "sample_collected", "reported", "closed", "cancelled")
ACTORS = ("generator", "operator", "lab", "admin", "system")
LIVE = ("requested", "accepted", "sample_collected", "reported")
FEE_STATUSES = ("due", "paid", "void")

_BEFORE_WORK = frozenset({"generator", "operator", "lab", "admin"})

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("requested", "accepted"): frozenset({"lab"}),
    ("accepted", "sample_collected"): frozenset({"lab"}),
    ("sample_collected", "reported"): frozenset({"lab"}),
    ("reported", "closed"): frozenset({"system"}),
    # the lab declines, or a party withdraws the request, before any sample is taken
    ("requested", "cancelled"): _BEFORE_WORK,
    ("accepted", "cancelled"): _BEFORE_WORK,
}


def allowed_actors(frm: str, to: str) -> frozenset[str]:
    """Who may move a sampling order from `frm` to `to` (empty when the move does not exist)."""
    return TRANSITIONS.get((frm, to), frozenset())


def problem(frm: str, to: str, actor: str) -> str | None:
    """None when allowed; 'invalid_transition' or 'actor_not_allowed' otherwise."""
    actors = allowed_actors(frm, to)
    if not actors:
        return "invalid_transition"
    return None if actor in actors else "actor_not_allowed"


def next_states(frm: str, actor: str) -> list[str]:
    """The states `actor` may move a sampling order to from `frm`, in the table's order."""
    return [to for (f, to), actors in TRANSITIONS.items() if f == frm and actor in actors]


def voids_fee(frm: str) -> bool:
    """Cancelling from `frm` voids the lab's fee: no sample has been taken yet."""
    return frm in ("requested", "accepted")

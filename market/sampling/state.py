"""The sampling-order state machine with the actor allowed for each transition. Pure.

    requested ─► accepted ─► sample_collected ─► reported ─► closed
        └───────────┴─► cancelled

Actors are roles relative to the sampling order: the order's ``generator`` or ``operator`` (either
may have asked for the test), the ``lab`` it was sent to, platform ``admin`` staff, or ``system``
(the price decision of the result gate closes a reported sampling order; cancelling the trade
order withdraws a test whose sample is not taken yet).

Once the sample is collected the lab has done paid work: the sampling order can no longer be
cancelled, and its fee stays payable whatever becomes of the trade order.
"""
from __future__ import annotations

from market import transitions

SAMPLING_STATUSES = ("requested", "accepted", "sample_collected", "reported", "closed", "cancelled")
ACTORS = ("generator", "operator", "lab", "admin", "system")
LIVE = ("requested", "accepted", "sample_collected", "reported")
FEE_STATUSES = ("due", "paid", "void")

# system: the trade order was cancelled, which withdraws its test
_BEFORE_WORK = frozenset({"generator", "operator", "lab", "admin", "system"})

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
    return transitions.allowed_actors(TRANSITIONS, frm, to)


def problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(TRANSITIONS, frm, to, actor)


def next_states(frm: str, actor: str) -> list[str]:
    return transitions.next_states(TRANSITIONS, frm, actor)


def voids_fee(frm: str) -> bool:
    """Cancelling from `frm` voids the lab's fee: no sample has been taken yet."""
    return frm in ("requested", "accepted")

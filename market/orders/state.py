"""The order state machine of DESIGN.md §5 with the actor allowed for each transition. Pure.

    created ─► sampling ─► price_confirmed ─┐
       └──────────────────────────────────┴─► contract_pending ─► contract_signed ─► funding ─► funded
    funded ─► in_transfer ─► received ─► settled ─► closed
    cancelled: from any state before funded (free) or from funded (refund in full)
    disputed: from received or settled while a payout is not executed ─► resolved

Actors are roles relative to the order: the order's ``generator`` or ``operator``, a ``carrier`` or
``lab`` named on it, platform ``admin`` or ``finance`` staff, or ``system`` (a job or another use
case reacting to an event, e.g. the last contract signature or a webhook).
"""
from __future__ import annotations

from market import transitions

ORDER_STATUSES = ("created", "sampling", "price_confirmed", "contract_pending", "contract_signed",
                  "funding", "funded", "in_transfer", "received", "settled", "closed",
                  "cancelled", "disputed", "resolved")
ACTORS = ("generator", "operator", "carrier", "lab", "admin", "finance", "system")
TERMINAL = frozenset({"closed", "cancelled"})
# Cancelling from these costs nothing: no money has moved yet.
FREE_CANCEL_FROM = ("created", "sampling", "price_confirmed", "contract_pending",
                    "contract_signed", "funding")
# Cancelling once funded refunds the payer in full, so neither party may decide it alone.
REFUND_CANCEL_FROM = ("funded",)

_PARTIES = frozenset({"generator", "operator"})

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # a quote subject to sampling sends the order to a lab before the price is final
    ("created", "sampling"): frozenset({"generator", "operator", "system"}),
    ("created", "contract_pending"): frozenset({"generator", "operator", "system"}),
    ("sampling", "price_confirmed"): frozenset({"operator"}),
    ("price_confirmed", "contract_pending"): frozenset({"generator", "operator", "system"}),
    # the contract is signed when the last party signs; that use case moves the order
    ("contract_pending", "contract_signed"): frozenset({"system"}),
    ("contract_signed", "funding"): frozenset({"generator", "system"}),
    # a collection booking needs no contract: the round's published terms are its terms
    ("created", "funding"): frozenset({"system"}),
    ("funding", "funded"): frozenset({"finance", "system"}),
    ("funded", "in_transfer"): frozenset({"generator", "carrier", "system"}),
    ("in_transfer", "received"): frozenset({"operator", "system"}),
    ("received", "settled"): frozenset({"finance", "system"}),
    ("settled", "closed"): frozenset({"finance", "system"}),
    ("received", "disputed"): _PARTIES,
    ("settled", "disputed"): _PARTIES,
    ("disputed", "resolved"): frozenset({"admin"}),
    ("resolved", "closed"): frozenset({"admin", "finance", "system"}),
    **{(s, "cancelled"): _PARTIES | {"admin"} for s in FREE_CANCEL_FROM},
    # ... by an admin, or by the system when both parties agree (market.escrow.disputes).
    **{(s, "cancelled"): frozenset({"admin", "system"}) for s in REFUND_CANCEL_FROM},
    # an unpaid collection booking lapses at its deadline (a job)
    ("funding", "cancelled"): _PARTIES | {"admin", "system"},
}


def allowed_actors(frm: str, to: str) -> frozenset[str]:
    return transitions.allowed_actors(TRANSITIONS, frm, to)


def can(frm: str, to: str, actor: str) -> bool:
    return actor in allowed_actors(frm, to)


def problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(TRANSITIONS, frm, to, actor)


def next_states(frm: str, actor: str) -> list[str]:
    return transitions.next_states(TRANSITIONS, frm, actor)


def cancel_refunds(frm: str) -> bool:
    """True when cancelling from `frm` must refund the payer (money was already in escrow)."""
    return frm in REFUND_CANCEL_FROM


# The path an order normally takes, for the progress tracker on every order page. Sampling and
# price confirmation appear only on orders subject to a sampling test.
MAIN_PATH = ("created", "sampling", "price_confirmed", "contract_pending", "contract_signed",
             "funding", "funded", "in_transfer", "received", "settled", "closed")
SAMPLING_STEPS = frozenset({"sampling", "price_confirmed"})
# Off the main path: a dispute sits after "received" (a payout is on hold), "resolved" before
# "closed"; a cancelled order stops where it was.
_OFF_PATH_AT = {"disputed": "received", "resolved": "settled"}


def progress(status: str, subject_to_sampling: bool) -> list[tuple[str, str]]:
    """[(state, 'done' | 'now' | 'next')] along the main path for an order in `status`.

    A disputed or resolved order shows that state as 'now' in place of the step it interrupts; a
    cancelled order shows no step as 'now' (the page says it was cancelled) and every step after
    creation as 'next'.
    """
    path = [s for s in MAIN_PATH if subject_to_sampling or s not in SAMPLING_STEPS]
    if status == "cancelled":
        return [(s, "done" if s == "created" else "next") for s in path]
    anchor = _OFF_PATH_AT.get(status)
    if anchor is not None:
        at = path.index(anchor) + 1
        steps = [(s, "done") for s in path[:at]] + [(status, "now")]
        return steps + [(s, "next") for s in path[at:] if s != anchor]
    if status not in path:  # e.g. a sampling state on an order no longer subject to sampling
        path = list(MAIN_PATH)
    at = path.index(status)
    if status == "closed":
        return [(s, "done") for s in path]
    return [(s, "done" if i < at else "now" if i == at else "next") for i, s in enumerate(path)]

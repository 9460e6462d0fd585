"""The manifest state machine of DESIGN.md §5 with the actor allowed for each transition. Pure.

    draft ─► shipped ─► received ─► closed
      └─► cancelled

A manifest ships when the generator and the carrier have both signed at pickup (in either
order); it is received when the operator signs with the weights. Actors are roles relative to the
manifest: the order's ``generator`` or ``operator``, the ``carrier`` named on it, platform
``admin`` staff, or ``system`` (the use case reacting to the last pickup signature).
"""
from __future__ import annotations

from market import transitions

MANIFEST_STATUSES = ("draft", "shipped", "received", "closed", "cancelled")
PARTS = ("generator", "carrier", "receiver")
SIGN_METHODS = ("login", "driver_code")
DISCREPANCY_KINDS = ("weight", "refusal")
DISCREPANCY_STATUSES = ("open", "confirmed", "disputed", "resolved")
# What happens to refused waste: sent back to the generator, or on to another receiver.
REFUSAL_DISPOSITIONS = ("return", "new_destination")
LIVE = ("draft", "shipped", "received", "closed")

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # the second pickup signature ships it; the signing use case moves it
    ("draft", "shipped"): frozenset({"system"}),
    ("draft", "cancelled"): frozenset({"generator", "admin"}),
    ("shipped", "received"): frozenset({"operator"}),
    # once settled (the settlement context) or by an admin
    ("received", "closed"): frozenset({"admin", "system"}),
}

DISCREPANCY_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("open", "confirmed"): frozenset({"generator"}),
    ("open", "disputed"): frozenset({"generator"}),
    ("disputed", "resolved"): frozenset({"admin", "system"}),
}


def problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(TRANSITIONS, frm, to, actor)


def next_states(frm: str, actor: str) -> list[str]:
    return transitions.next_states(TRANSITIONS, frm, actor)


def discrepancy_problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(DISCREPANCY_TRANSITIONS, frm, to, actor)


def pickup_part_for(actor: str) -> str | None:
    """The pickup part an actor signs: the generator's or the carrier's (None for others)."""
    return actor if actor in ("generator", "carrier") else None


def ships_after(signed_parts: set[str]) -> bool:
    """True once both pickup parts are signed, whichever came first."""
    return {"generator", "carrier"} <= signed_parts


def manifest_actions(status: str, roles: set[str], signed: set[str], *,
                     open_discrepancy: bool = False, refusal_unrecorded: bool = False) -> list[str]:
    """What a caller with these roles may do now with a manifest in `status`, in page order."""
    actions: list[str] = []
    if status == "draft":
        if "generator" in roles and "generator" not in signed:
            actions.append("sign_as_generator")
        if "carrier" in roles and "carrier" not in signed:
            actions += ["sign_as_carrier", "request_driver_code"]
        if roles & {"generator", "admin"}:
            actions.append("cancel")
    elif status == "shipped":
        if "operator" in roles:
            actions.append("receive")
    elif status in ("received", "closed"):
        if open_discrepancy and "generator" in roles:
            actions += ["confirm_discrepancy", "dispute_discrepancy"]
        if refusal_unrecorded and roles & {"generator", "operator"}:
            actions.append("record_refusal")
    if status != "cancelled" and roles:
        actions.append("download_pdf")
    return actions

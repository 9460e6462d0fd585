"""The manifest state machine of DESIGN.md §5 with the actor allowed for each transition. Pure.

    draft ─► shipped ─► received ─► closed
      └─► cancelled

A manifest ships when the generator and the carrier have both signed at pickup (in either
order); it is received when the operator signs with the weights. Actors are roles relative to the
manifest: the order's ``generator`` or ``operator``, the ``carrier`` named on it, platform
``admin`` staff, or ``system`` (the use case reacting to the last pickup signature).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from market import transitions
from market.transitions import Action, available_actions

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
    # ... or by the system: a collection stop where nobody handed the waste over (a no-show)
    ("draft", "cancelled"): frozenset({"generator", "admin", "system"}),
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



@dataclass(frozen=True)
class ManifestFacts:
    """What the state table cannot know about a manifest."""
    signed: frozenset[str] = field(default_factory=frozenset)  # parts signed so far
    open_discrepancy: bool = False    # a line's discrepancy awaits the generator
    refusal_unrecorded: bool = False  # refused waste whose destination is not recorded yet


_GEN, _CAR = frozenset({"generator"}), frozenset({"carrier"})
_ALL = frozenset({"generator", "carrier", "operator", "admin", "finance"})
_LIVE = frozenset(LIVE)

# Names match the endpoints: sign_as_* → POST /manifests/{id}/sign, request_driver_code →
# POST /manifests/{id}/driver-code, receive → …/receive, *_discrepancy → …/discrepancies/{line},
# record_refusal → …/refusals/{line}, cancel → …/cancel, download_pdf → GET /manifests/{id}.pdf.
MANIFEST_ACTIONS: tuple[Action, ...] = (
    Action("sign_as_generator", states=frozenset({"draft"}), roles=_GEN,
           when=lambda f, role: "generator" not in f.signed),
    Action("sign_as_carrier", states=frozenset({"draft"}), roles=_CAR,
           when=lambda f, role: "carrier" not in f.signed),
    Action("request_driver_code", states=frozenset({"draft"}), roles=_CAR,
           when=lambda f, role: "carrier" not in f.signed),
    Action("receive", to="received"),
    Action("confirm_discrepancy", states=frozenset({"received", "closed"}), roles=_GEN,
           when=lambda f, role: f.open_discrepancy),
    Action("dispute_discrepancy", states=frozenset({"received", "closed"}), roles=_GEN,
           when=lambda f, role: f.open_discrepancy),
    Action("record_refusal", states=frozenset({"received", "closed"}),
           roles=frozenset({"generator", "operator"}), when=lambda f, role: f.refusal_unrecorded),
    Action("cancel", to="cancelled"),
    Action("download_pdf", states=_LIVE, roles=_ALL),
)


def manifest_actions(status: str, roles: set[str], facts: ManifestFacts = ManifestFacts()
                     ) -> list[str]:
    """What a caller holding these roles may do now with a manifest in `status`. Pure.

    A caller can hold several roles on one manifest (an operator that carries its own waste):
    the actions of each, in the list's order, each once."""
    names = set()
    for role in roles:
        names.update(available_actions(MANIFEST_ACTIONS, TRANSITIONS, status, role, facts))
    return [a.name for a in MANIFEST_ACTIONS if a.name in names]

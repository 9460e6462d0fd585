"""The collection round and booking state machines (issue 13), with the actor allowed for each
transition. Pure.

    round:    published ─► started (the trip leaves) ─► received (the depot took the whole trip)
              published ─► cancelled
    booking:  open (awaiting payment, then paid: the order's funding tells) ─► picked_up ─► received
              open ─► no_show (at the stop)     open ─► cancelled (by the generator)
              open ─► lapsed (unpaid at the booking deadline; the system)

What a booking costs and where its money is lives on its order (a collection order, settled on its
own); `display_status` combines the two for pages and the API.
"""
from __future__ import annotations

from market import transitions

ROUND_STATUSES = ("published", "started", "received", "cancelled")
BOOKING_STATUSES = ("open", "picked_up", "no_show", "received", "cancelled", "lapsed")
REPEATS = ("none", "weekly", "monthly")
# How many rounds a repeating publication creates (this one included).
REPEAT_COUNT = {"none": 1, "weekly": 4, "monthly": 3}
LIVE_BOOKINGS = ("open", "picked_up", "received")

ROUND_TRANSITIONS: transitions.Table = {
    ("published", "started"): frozenset({"operator"}),
    ("started", "received"): frozenset({"operator"}),
    ("published", "cancelled"): frozenset({"operator", "admin"}),
}

BOOKING_TRANSITIONS: transitions.Table = {
    ("open", "picked_up"): frozenset({"operator", "carrier"}),
    ("open", "no_show"): frozenset({"operator", "carrier"}),
    ("open", "cancelled"): frozenset({"generator", "admin"}),
    ("open", "lapsed"): frozenset({"system"}),
    ("picked_up", "received"): frozenset({"operator"}),
}


def round_problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(ROUND_TRANSITIONS, frm, to, actor)


def booking_problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(BOOKING_TRANSITIONS, frm, to, actor)


def display_status(booking_status: str, order_status: str | None) -> str:
    """One word for the booking and its money: awaiting_payment, booked, picked_up, no_show,
    received, topup_due, settled, cancelled or lapsed."""
    if booking_status == "open":
        return "booked" if order_status in ("funded", "in_transfer") else "awaiting_payment"
    if booking_status == "received":
        if order_status in ("settled", "closed"):
            return "settled"
        return "received"
    return booking_status


def collection_charge_fen(price_fen_per_kg: int, minimum_fen: int, kg: int) -> int:
    """What a pickup costs: max(minimum, kg × price); a negative price (the collector pays for
    valuable waste) has no minimum."""
    amount = price_fen_per_kg * kg
    return max(minimum_fen, amount) if price_fen_per_kg >= 0 else amount


def no_show_fee_fen(configured_fen: int, charge_fen: int) -> int:
    """The fee kept for a no-show or a cancellation after the deadline: the configured fee, never
    more than the booking's charge, nothing when the collector was to pay."""
    return max(0, min(configured_fen, charge_fen))


def region_prefix(code: str) -> str:
    """The prefix a region code stands for: 440300 (Shenzhen) serves 4403…, 440000 serves 44…."""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def serves(region_codes: list[str], pickup_region: str) -> bool:
    """True when one of the round's regions covers the pickup region."""
    return any(pickup_region.startswith(region_prefix(rc)) for rc in region_codes)

"""Transition tables of disposal requests and quotes, with the actor allowed for each. Pure.

Requests: draft → open → awarded | cancelled | expired (a draft may be cancelled or expire too).
Quotes: submitted → withdrawn | rejected | expired | accepted.
"""
from __future__ import annotations

from market import transitions

REQUEST_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("draft", "open"): frozenset({"generator"}),
    ("draft", "cancelled"): frozenset({"generator", "admin"}),
    ("draft", "expired"): frozenset({"system"}),
    # awarding happens by accepting a quote
    ("open", "awarded"): frozenset({"generator"}),
    ("open", "cancelled"): frozenset({"generator", "admin"}),
    ("open", "expired"): frozenset({"system"}),
}

QUOTE_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("submitted", "withdrawn"): frozenset({"operator"}),
    ("submitted", "accepted"): frozenset({"generator"}),
    # the generator declines it, or the system does when another quote wins or the request closes
    ("submitted", "rejected"): frozenset({"generator", "system"}),
    ("submitted", "expired"): frozenset({"system"}),
}

# While any quote is live the request's terms are what operators priced; edits would change them.
EDITABLE_REQUEST_STATUSES = ("draft", "open")


def request_problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(REQUEST_TRANSITIONS, frm, to, actor)


def quote_problem(frm: str, to: str, actor: str) -> str | None:
    return transitions.problem(QUOTE_TRANSITIONS, frm, to, actor)

"""Transition tables of disposal requests and quotes, with their actors."""
from __future__ import annotations

from market.listings import state
from market.listings.models import QUOTE_STATUSES, REQUEST_STATUSES


def test_request_table_uses_known_states():
    for frm, to in state.REQUEST_TRANSITIONS:
        assert frm in REQUEST_STATUSES and to in REQUEST_STATUSES


def test_only_the_generator_publishes_and_awards():
    assert state.request_problem("draft", "open", "generator") is None
    assert state.request_problem("draft", "open", "operator") == "actor_not_allowed"
    assert state.request_problem("open", "awarded", "generator") is None
    assert state.request_problem("open", "awarded", "admin") == "actor_not_allowed"


def test_only_the_system_expires_requests():
    assert state.request_problem("open", "expired", "system") is None
    assert state.request_problem("open", "expired", "generator") == "actor_not_allowed"


def test_closed_requests_stay_closed():
    for closed in ("awarded", "cancelled", "expired"):
        for to in REQUEST_STATUSES:
            assert state.request_problem(closed, to, "admin") == "invalid_transition"


def test_quote_table():
    for frm, to in state.QUOTE_TRANSITIONS:
        assert frm == "submitted" and to in QUOTE_STATUSES
    assert state.quote_problem("submitted", "withdrawn", "operator") is None
    assert state.quote_problem("submitted", "withdrawn", "generator") == "actor_not_allowed"
    assert state.quote_problem("submitted", "accepted", "generator") is None
    assert state.quote_problem("submitted", "accepted", "operator") == "actor_not_allowed"
    assert state.quote_problem("submitted", "expired", "system") is None
    for done in ("withdrawn", "rejected", "expired", "accepted"):
        assert state.quote_problem(done, "accepted", "generator") == "invalid_transition"

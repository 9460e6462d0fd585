"""The order transition table (DESIGN.md §5) and who may make each move."""
from __future__ import annotations

import pytest

from market.orders import state
from market.orders.models import Order

PARTIES = {"generator", "operator"}
NOBODY_BUT = {a: set(state.ACTORS) - {a} for a in state.ACTORS}


def test_the_table_names_only_known_states_and_actors():
    for (frm, to), actors in state.TRANSITIONS.items():
        assert frm in state.ORDER_STATUSES and to in state.ORDER_STATUSES
        assert actors and set(actors) <= set(state.ACTORS), (frm, to)


def test_every_state_is_reachable_from_created():
    seen, todo = {"created"}, ["created"]
    while todo:
        frm = todo.pop()
        for (f, to) in state.TRANSITIONS:
            if f == frm and to not in seen:
                seen.add(to)
                todo.append(to)
    assert seen == set(state.ORDER_STATUSES)


def test_terminal_states_lead_nowhere():
    for terminal in state.TERMINAL:
        assert not [k for k in state.TRANSITIONS if k[0] == terminal]


def test_the_happy_path_with_its_actors():
    path = [("created", "sampling", "operator"), ("sampling", "price_confirmed", "operator"),
            ("price_confirmed", "contract_pending", "system"),
            ("contract_pending", "contract_signed", "system"),
            ("contract_signed", "funding", "generator"), ("funding", "funded", "finance"),
            ("funded", "in_transfer", "carrier"), ("in_transfer", "received", "operator"),
            ("received", "settled", "system"), ("settled", "closed", "finance")]
    for frm, to, actor in path:
        assert state.can(frm, to, actor), (frm, to, actor)


def test_sampling_can_be_skipped():
    assert state.can("created", "contract_pending", "system")


@pytest.mark.parametrize("frm,to,allowed", [
    ("sampling", "price_confirmed", {"operator"}),
    ("contract_pending", "contract_signed", {"system"}),
    ("funding", "funded", {"finance", "system"}),
    ("in_transfer", "received", {"operator", "system"}),
    ("disputed", "resolved", {"admin"}),
])
def test_only_the_named_actors_may_move(frm, to, allowed):
    assert set(state.allowed_actors(frm, to)) == allowed
    for actor in set(state.ACTORS) - allowed:
        assert not state.can(frm, to, actor)
        assert state.problem(frm, to, actor) == "actor_not_allowed"


@pytest.mark.parametrize("frm", state.FREE_CANCEL_FROM)
def test_free_cancellation_before_funding_by_either_party_or_admin(frm):
    # ... and by the system while funding: an unpaid collection booking lapses at its deadline
    extra = {"system"} if frm == "funding" else set()
    assert set(state.allowed_actors(frm, "cancelled")) == PARTIES | {"admin"} | extra
    assert not state.cancel_refunds(frm)


def test_cancelling_a_funded_order_refunds_and_is_for_admins_only():
    # "system": the use case that cancels once both parties agree (escrow.disputes).
    assert set(state.allowed_actors("funded", "cancelled")) == {"admin", "system"}
    assert state.cancel_refunds("funded")


@pytest.mark.parametrize("frm", ["in_transfer", "received", "settled", "closed", "disputed",
                                 "resolved", "cancelled"])
def test_no_cancellation_once_waste_moves(frm):
    assert state.problem(frm, "cancelled", "admin") == "invalid_transition"


def test_disputes_from_received_or_settled_by_the_parties():
    for frm in ("received", "settled"):
        assert set(state.allowed_actors(frm, "disputed")) == PARTIES
    for frm in ("created", "funded", "in_transfer", "closed"):
        assert state.problem(frm, "disputed", "generator") == "invalid_transition"


def test_no_skipping_ahead():
    assert state.problem("created", "funded", "finance") == "invalid_transition"
    assert state.problem("created", "created", "system") == "invalid_transition"


def test_next_states_per_actor():
    assert state.next_states("created", "generator") == ["sampling", "contract_pending", "cancelled"]
    assert state.next_states("created", "carrier") == []
    assert state.next_states("funded", "admin") == ["cancelled"]


def test_the_database_check_lists_the_same_states():
    check = next(c for c in Order.__table__.constraints if getattr(c, "name", "") and
                 str(c.name).endswith("status"))
    for status in state.ORDER_STATUSES:
        assert f"'{status}'" in str(check.sqltext)

"""The caller's actions on an order, per state × role, from the state table and the facts. Pure."""
from __future__ import annotations

import pytest

from market import transitions
from market.orders import state
from market.orders.actions import ORDER_ACTIONS, OrderFacts, allowed

F = OrderFacts
ROLES = ("generator", "operator", "admin", "finance")

# (status, facts) → {role: actions}; a role not listed has no action.
CASES = [
    ("created", F(), {"generator": ["cancel"], "operator": ["cancel"], "admin": ["cancel"]}),
    ("sampling", F(), {"generator": ["request_sampling", "cancel"],
                       "operator": ["request_sampling", "cancel"], "admin": ["cancel"]}),
    ("sampling", F(sampling="requested"), {"generator": ["cancel"], "operator": ["cancel"],
                                           "admin": ["cancel"]}),
    ("sampling", F(sampling="reported"), {"generator": ["cancel"],
                                          "operator": ["confirm_price", "decline_price", "cancel"],
                                          "admin": ["cancel"]}),
    ("price_confirmed", F(), {"generator": ["cancel"], "operator": ["cancel"], "admin": ["cancel"]}),
    ("price_confirmed", F(price_awaits_generator=True),
     {"generator": ["accept_price", "reject_price", "cancel"], "operator": ["cancel"],
      "admin": ["cancel"]}),
    ("contract_pending", F(unsigned=frozenset({"generator", "operator"})),
     {"generator": ["sign_contract", "cancel"], "operator": ["sign_contract", "cancel"],
      "admin": ["cancel"]}),
    ("contract_pending", F(unsigned=frozenset({"operator"})),
     {"generator": ["cancel"], "operator": ["sign_contract", "cancel"], "admin": ["cancel"]}),
    ("contract_signed", F(payers_due=frozenset({"generator"})),
     {"generator": ["fund", "cancel"], "operator": ["cancel"], "admin": ["cancel"]}),
    # a negative price: the operator pays the disposal line, the generator the transport
    ("funding", F(payers_due=frozenset({"generator", "operator"})),
     {"generator": ["fund", "cancel"], "operator": ["fund", "cancel"], "admin": ["cancel"]}),
    ("funding", F(), {"generator": ["cancel"], "operator": ["cancel"], "admin": ["cancel"]}),
    ("funded", F(), {"generator": ["propose_cancellation"], "operator": ["propose_cancellation"],
                     "admin": ["cancel"]}),
    ("funded", F(cancellation_proposed_by="operator"),
     {"generator": ["agree_cancellation"], "admin": ["cancel"]}),
    ("received", F(escrow_held=True), {"generator": ["dispute"], "operator": ["dispute"]}),
    ("received", F(escrow_held=False), {}),
    ("disputed", F(), {"admin": ["resolve_dispute"]}),
    ("cancelled", F(), {}),
    ("closed", F(), {}),
]


@pytest.mark.parametrize("status,facts,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_actions_per_state_and_role(status, facts, expected):
    for role in ROLES:
        assert allowed(status, role, facts) == expected.get(role, []), (status, role)


def test_a_regulator_or_stranger_has_no_action():
    for status in state.ORDER_STATUSES:
        assert allowed(status, None, F(sampling="reported", escrow_held=True)) == []


def test_every_action_that_moves_the_order_names_a_move_of_the_table():
    moves = {to for (_frm, to) in state.TRANSITIONS}
    for action in ORDER_ACTIONS:
        assert action.to is None or action.to in moves, action.name
        assert action.to is not None or action.roles, action.name  # someone may take it
        assert action.name == action.name.lower() and " " not in action.name


def test_actions_never_offer_what_the_table_refuses():
    facts = F(sampling="reported", price_awaits_generator=True,
              unsigned=frozenset({"generator", "operator"}),
              payers_due=frozenset({"generator", "operator"}), escrow_held=True)
    for status in state.ORDER_STATUSES:
        for role in ROLES:
            names = allowed(status, role, facts)
            if "cancel" in names:
                assert state.can(status, "cancelled", role)
            if "confirm_price" in names:
                assert state.can(status, "price_confirmed", role)
            if "dispute" in names:
                assert state.can(status, "disputed", role)


def test_the_generic_helper_with_another_table():
    """The extension point other state machines (manifests) use, on a table of their own."""
    table = {("draft", "shipped"): frozenset({"generator", "carrier"}),
             ("shipped", "received"): frozenset({"operator"}),
             ("draft", "cancelled"): frozenset({"generator"})}
    rules = [transitions.Action("sign_pickup", to="shipped",
                                when=lambda f, role: role not in f["signed"]),
             transitions.Action("receive", to="received"),
             transitions.Action("edit", states=frozenset({"draft"}), roles=frozenset({"generator"})),
             transitions.Action("cancel", to="cancelled")]
    assert transitions.available_actions(rules, table, "draft", "generator", {"signed": set()}) \
        == ["sign_pickup", "edit", "cancel"]
    assert transitions.available_actions(rules, table, "draft", "generator",
                                         {"signed": {"generator"}}) == ["edit", "cancel"]
    assert transitions.available_actions(rules, table, "draft", "carrier", {"signed": set()}) \
        == ["sign_pickup"]
    assert transitions.available_actions(rules, table, "shipped", "operator", {}) == ["receive"]
    assert transitions.available_actions(rules, table, "shipped", "generator", {}) == []
    assert transitions.available_actions(rules, table, "draft", None, {"signed": set()}) == []

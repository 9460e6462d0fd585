"""Transition tables shared by every state machine: {(from, to): actors allowed}, and the actions
each caller may take now, derived from them. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

Table = dict[tuple[str, str], frozenset[str]]


def allowed_actors(table: Table, frm: str, to: str) -> frozenset[str]:
    """Who may move from `frm` to `to` (empty when the transition does not exist)."""
    return table.get((frm, to), frozenset())


def problem(table: Table, frm: str, to: str, actor: str) -> str | None:
    """None when allowed; 'invalid_transition' or 'actor_not_allowed' otherwise."""
    actors = allowed_actors(table, frm, to)
    if not actors:
        return "invalid_transition"
    return None if actor in actors else "actor_not_allowed"


def next_states(table: Table, frm: str, actor: str) -> list[str]:
    """The states `actor` may move to from `frm`, in the table's order."""
    return [to for (f, to), actors in table.items() if f == frm and actor in actors]


# --- actions: what a caller may do now, from the same tables ------------------------------------

@dataclass(frozen=True)
class Action:
    """One action a caller may take on a stateful record, by a stable snake_case name.

    to:     the state the action moves the record to; it is offered only when the transition
            table lets the caller's role move from the current state to `to` (the table is the
            one source of who may do what).
    states: the states in which it applies (for actions that move nothing, or to narrow `to`).
    roles:  the roles offered it; by default the table's actors for the move to `to` (give roles
            when people ask for a move the system makes, e.g. proposing a cancellation).
    when:   a predicate (facts, role) -> bool over what the table cannot know (who has signed,
            what is due, whether a sample is reported...).

    This is the extension point for every state machine: a context lists its actions, most
    important first, and calls available_actions() with its own table and facts (orders:
    market/orders/actions.py; manifests do the same with their table).
    """
    name: str
    to: str | None = None
    states: frozenset[str] | None = None
    roles: frozenset[str] | None = None
    when: Callable[[Any, str], bool] | None = None


def available_actions(actions: Sequence[Action], table: Table, status: str, role: str | None,
                      facts: Any = None) -> list[str]:
    """The names of the actions `role` may take now on a record in `status`, in list order."""
    if role is None:
        return []
    out = []
    for action in actions:
        if action.states is not None and status not in action.states:
            continue
        actors = allowed_actors(table, status, action.to) if action.to is not None else None
        if actors is not None and not actors:
            continue  # the table has no such move from here
        if role not in (action.roles if action.roles is not None else actors or ()):
            continue
        if action.when is not None and not action.when(facts, role):
            continue
        out.append(action.name)
    return out

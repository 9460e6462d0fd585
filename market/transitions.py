"""Transition tables shared by every state machine: {(from, to): actors allowed}. Pure."""
from __future__ import annotations

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

"""Pure rules of oversight: the alert state table and the checks on a sanction's dates."""
from __future__ import annotations

from market.transitions import Table, next_states, problem

# open → acknowledged → closed (with a note); a regulator (or platform admin) moves an alert.
ALERT_TABLE: Table = {
    ("open", "acknowledged"): frozenset({"regulator", "admin"}),
    ("open", "closed"): frozenset({"regulator", "admin"}),
    ("acknowledged", "closed"): frozenset({"regulator", "admin"}),
}
NOTE_MAX = 2000
REASON_MAX = 2000
MAX_SANCTION_DAYS = 5 * 366


def alert_problem(frm: str, to: str, actor: str) -> str | None:
    return problem(ALERT_TABLE, frm, to, actor)


def alert_next(frm: str, actor: str) -> list[str]:
    return next_states(ALERT_TABLE, frm, actor)

"""Who rates what after an order is settled, and the rule for a score. Pure.

The generator rates the operator: on_time, as_agreed, communication. The operator rates the
generator: as_declared (the waste was what the request declared) and payment. Each score is a
whole number from 1 to 5; the comment is optional. One review per party per order, once the order
is settled or closed.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

CRITERIA: dict[str, tuple[str, ...]] = {
    "generator": ("on_time", "as_agreed", "communication"),
    "operator": ("as_declared", "payment"),
}
ALL_CRITERIA = CRITERIA["generator"] + CRITERIA["operator"]
REVIEWABLE_STATUSES = ("settled", "closed")
MIN_SCORE, MAX_SCORE = 1, 5
MAX_COMMENT = 2000

# An operator's on-time rate (storefronts, matching) is measured from manifests, not reviews: of its
# manifests that have shipped (both pickup signatures given), the share shipped no later than
# ON_TIME_GRACE after the planned pickup time. Loading and signing take time at the gate, so an hour
# of grace; cancelled manifests never shipped and do not count.
ON_TIME_GRACE = timedelta(hours=1)
SHIPPED_STATUSES = ("shipped", "received", "closed")


class ScoreProblem(Exception):
    """A score the caller's side may not give, is missing, is not a whole number or out of range."""

    def __init__(self, rule: str, field: str):
        super().__init__(f"{field}: {rule}")
        self.rule = rule    # unknown | missing | not_integer | out_of_range
        self.field = field  # the criterion's name


def check_scores(side: str, scores: Mapping[str, object]) -> dict[str, int]:
    """The side's scores, validated; raises ScoreProblem at the first problem found.

    Unknown names come first (they are the likeliest mistake: the other side's form), then each
    criterion of the side in its documented order.
    """
    wanted = CRITERIA[side]
    for name in sorted(map(str, scores)):  # sorted: the same answer whatever the key order
        if name not in wanted:
            raise ScoreProblem("unknown", name)
    out = {}
    for name in wanted:
        value = scores.get(name)
        if value is None:
            raise ScoreProblem("missing", name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScoreProblem("not_integer", name)
        if not MIN_SCORE <= value <= MAX_SCORE:
            raise ScoreProblem("out_of_range", name)
        out[name] = value
    return out


def subject_side(side: str) -> str:
    """The side the reviewer rates: the generator rates the operator and the other way round."""
    return "operator" if side == "generator" else "generator"


def mean(scores: Mapping[str, int]) -> float:
    """The review's overall score: the mean of its criteria."""
    return sum(scores.values()) / len(scores)

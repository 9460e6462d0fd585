"""Statistical disclosure control: primary and secondary suppression (DESIGN.md §7).

Primary — a cell is published only if all hold (reasons in brackets):

- at least ``min_trades`` trades [``trades``], ``min_generators`` distinct generators
  [``generators``] and ``min_operators`` distinct operators [``operators``] — operators of one
  corporate group counting as one when ``groups_count_as_one_operator``;
- unless the cell holds a negative price (then the count thresholds alone decide):
  the p %-rule on contributor tonnes [``p_rule``]: with x₁ ≥ x₂ the two largest contributors'
  kilograms and T the total, the cell is sensitive when T − x₁ − x₂ < p/100 · x₁ (the second
  largest could estimate the largest to within p %); and the dominance rule [``dominance``]:
  sensitive when x₁ ≥ dominance/100 · T. A contributor is a corporate group, or an operator
  standing alone. Both compare integers exactly (100·(T − x₁ − x₂) < p·x₁; 100·x₁ ≥ d·T).

Secondary — a published parent with exactly one hidden child would give the hidden child away
(parent − published children). For every parent/children relation of the three hierarchies
(months → quarter, provinces → national, method groups → all methods) where the parent is
published and exactly one child is hidden, the smallest published child (fewest kilograms, then
fewest trades, then the lowest key) is hidden too; when no child is left to hide, the parent is
hidden. Hiding only ever adds, so the process reaches a fixed point; relations are revisited in
key order from a priority queue, so the outcome depends on the cells alone, never on the order of
the input. Cost: O(C log C) for C cells.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping

from pricing.cells import DIMENSIONS, CellKey
from pricing.config import DEFAULT_CONFIG, Config
from pricing.stats import CellStats

PRIMARY_RULES = ("trades", "operators", "generators", "p_rule", "dominance")


def primary_reasons(s: CellStats, config: Config = DEFAULT_CONFIG) -> tuple[str, ...]:
    """The primary rules a cell fails, in PRIMARY_RULES order (empty: it may be published)."""
    reasons = []
    if s.trades < config.min_trades:
        reasons.append("trades")
    operators = s.operator_groups if config.groups_count_as_one_operator else s.operators
    if operators < config.min_operators:
        reasons.append("operators")
    if s.generators < config.min_generators:
        reasons.append("generators")
    if not s.has_negative:
        x1, x2, total = s.largest_group_kg, s.second_group_kg, s.kg
        if 100 * (total - x1 - x2) < config.p_percent * x1:
            reasons.append("p_rule")
        if 100 * x1 >= config.dominance_percent * total:
            reasons.append("dominance")
    return tuple(reasons)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Whether a cell is published, and if not why and where to look instead.

    ``primary`` lists the primary rules the cell fails (PRIMARY_RULES). ``secondary`` names the
    relation that forced a secondary suppression as ``(dimension, parent key)``; when the parent
    key is the cell itself, it was hidden as a parent whose only remaining child was hidden.
    ``nearest_published`` is the nearest published roll-up (see CellKey.roll_ups), None when
    none is published or the cell itself is.
    """

    key: CellKey
    published: bool
    primary: tuple[str, ...] = ()
    secondary: tuple[str, CellKey] | None = None
    nearest_published: CellKey | None = None

    @property
    def status(self) -> str:
        """"published", "primary" or "secondary" — a runtime message id for the pages."""
        if self.published:
            return "published"
        return "primary" if self.primary else "secondary"


@dataclass
class _Relation:
    dimension: str
    parent: CellKey
    children: list[CellKey]
    hidden: int = 0
    candidates: list[tuple[int, int, CellKey]] | None = None   # heap of published children


def relations_of(keys: Mapping[CellKey, object] | set[CellKey]) -> dict[tuple[str, CellKey], list[CellKey]]:
    """Every (dimension, parent) → its children present among keys, children sorted."""
    out: dict[tuple[str, CellKey], list[CellKey]] = defaultdict(list)
    for key in sorted(keys):
        for dim in DIMENSIONS:
            parent = key.parent(dim)
            if parent is not None and parent in keys:
                out[(dim, parent)].append(key)
    return dict(out)


def suppress(stats: Mapping[CellKey, CellStats], config: Config = DEFAULT_CONFIG
             ) -> dict[CellKey, Disclosure]:
    """Primary then secondary suppression of every cell; keyed and sorted by CellKey."""
    primary = {key: primary_reasons(s, config) for key, s in stats.items()}
    hidden: set[CellKey] = {key for key, r in primary.items() if r}
    secondary: dict[CellKey, tuple[str, CellKey]] = {}

    relations: dict[tuple[str, CellKey], _Relation] = {}
    as_child: dict[CellKey, list[tuple[str, CellKey]]] = defaultdict(list)
    for rid, children in relations_of(stats).items():
        rel = _Relation(rid[0], rid[1], children)
        rel.hidden = sum(1 for c in children if c in hidden)
        rel.candidates = [(stats[c].kg, stats[c].trades, c) for c in children if c not in hidden]
        heapq.heapify(rel.candidates)
        relations[rid] = rel
        for c in children:
            as_child[c].append(rid)

    def order(rid: tuple[str, CellKey]) -> tuple[CellKey, str]:
        return rid[1], rid[0]

    queue = [order(rid) for rid, rel in relations.items() if rel.hidden == 1]
    heapq.heapify(queue)
    queued = {(dim, parent) for parent, dim in queue}

    def hide(key: CellKey, why: tuple[str, CellKey]) -> None:
        hidden.add(key)
        secondary[key] = why
        for rid in as_child[key]:
            relations[rid].hidden += 1
            if rid not in queued:
                queued.add(rid)
                heapq.heappush(queue, order(rid))

    while queue:
        parent, dim = heapq.heappop(queue)
        rid = (dim, parent)
        queued.discard(rid)
        rel = relations[rid]
        if parent in hidden or rel.hidden != 1:
            continue
        heap = rel.candidates
        while heap and heap[0][2] in hidden:
            heapq.heappop(heap)
        if heap:
            hide(heapq.heappop(heap)[2], rid)
        else:
            hide(parent, rid)

    out = {}
    for key in sorted(stats):
        if key not in hidden:
            out[key] = Disclosure(key, True)
            continue
        nearest = next((k for k in key.roll_ups() if k in stats and k not in hidden), None)
        out[key] = Disclosure(key, False, primary[key], secondary.get(key), nearest)
    return out

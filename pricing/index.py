"""The composite price index: chain-linked Laspeyres with a chained Fisher beside it (DESIGN.md §7).

Elementary aggregates are the base cells' (category × method group × province). Their monthly
price relative is r = VWAPₜ / VWAPₜ₋₁, taken only for *matched* cells: published (after primary
and secondary suppression) in both months with a positive VWAP in both. Published VWAPs are used
as published (whole fen per tonne), so anyone can recompute a relative from two releases.

Laspeyres (the headline). Each calendar year y has weights wₑ = the revenue (Σ price × kg) of
each elementary aggregate in year y − 1, over kept lines whether or not the cell was published
(weights are confidential inputs), and a price reference month: December y − 1. Aggregates with
no positive revenue in y − 1 are outside the year's index (e.g. wastes that trade at negative
prices). The first year of data has no previous year: it is weighted by its own revenue shares
(for the platform that first year is the base year 2025: base-year weights) and its reference
month is its first month of data. Within the year every aggregate carries a long relative
Rₑ,ₜ = Rₑ,ₜ₋₁ · rₑ,ₜ (Rₑ = 1 in the reference month), and an aggregate node N (all wastes, a
category, a category × method) stands at

    I_N,t = I_N,ref · Σₑ∈N wₑ Rₑ,ₜ / Σₑ∈N wₑ

(a Laspeyres-type index of fixed previous-year revenue shares; weights are not price-updated).
In January the weights change and the long relatives restart at 1 in December, and I_N,Dec
carries the level over: that is the annual chain link.

Imputation. An aggregate that is not matched this month moves with its parent aggregate: its
relative is the parent's link on matched aggregates, Σ wₑRₑ,ₜ₋₁rₑ,ₜ / Σ wₑRₑ,ₜ₋₁ over the matched
aggregates of (category × method), else of the category, else of all wastes; each imputation is
flagged with the level used. With no matched aggregate anywhere the month carries every level
forward (flagged with no parent). A node's movement is therefore exactly the link of its matched
aggregates: imputation never moves the index by itself. A node without weight in a year has no
level that year; when it has weight again it resumes from its last level.

Fisher (for analysis). Monthly links on the matched aggregates of the two months with that
month's revenue as weights: Laspeyres link L = Σ vₜ₋₁ r / Σ vₜ₋₁, Paasche link
P = Σ vₜ / Σ (vₜ / r), Fisher link √(L·P), chained from the node's first month with a published
positive VWAP; no matched aggregate in a node carries it forward.

Levels are scaled so the mean of the base year's months is 100; a series with no month in the
base year is scaled to its first month = 100 (its ``reference`` says so). Arithmetic is Decimal at
40 significant digits, summed in key order; levels are rounded to four decimals, half to even.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Mapping, NamedTuple

from pricing.cells import ALL, CellKey, month_range, previous_month, year_of
from pricing.config import DEFAULT_CONFIG, Config
from pricing.disclosure import Disclosure
from pricing.stats import CellStats

_CTX = Context(prec=40, rounding=ROUND_HALF_EVEN)
_PLACES = Decimal("0.0001")


class IndexNode(NamedTuple):
    """An aggregate of the index: all wastes (*, *, *), a category (c, *, *), a category × method
    (c, m, *); elementary aggregates are (c, m, province) and have no published series."""

    category: str = ALL
    method: str = ALL
    region: str = ALL

    def parents(self) -> tuple[IndexNode, ...]:
        """The nodes above an elementary aggregate, nearest first."""
        return (IndexNode(self.category, self.method), IndexNode(self.category), IndexNode())

    def __str__(self) -> str:
        return f"{self.category}/{self.method}/{self.region}"


TOTAL = IndexNode()


@dataclass(frozen=True, slots=True)
class IndexPoint:
    period: str
    level: Decimal | None   # None: no level (Laspeyres: no weight this year; Fisher: not started)
    matched: int            # elementary aggregates matched this month
    imputed: int            # elementary aggregates that moved with a parent or were carried


@dataclass(frozen=True, slots=True)
class IndexSeries:
    node: IndexNode
    formula: str            # "laspeyres" or "fisher"
    reference: str          # "2025=100", or "<month>=100" without a base-year month
    points: tuple[IndexPoint, ...]

    def level(self, period: str) -> Decimal | None:
        return next((p.level for p in self.points if p.period == period), None)


@dataclass(frozen=True, slots=True)
class Imputation:
    period: str
    aggregate: IndexNode    # the elementary aggregate
    moved_with: IndexNode | None   # the parent whose link it took; None: carried forward


@dataclass(frozen=True, slots=True)
class IndexResult:
    laspeyres: dict[IndexNode, IndexSeries]
    fisher: dict[IndexNode, IndexSeries]
    imputations: tuple[Imputation, ...]
    weights: dict[int, dict[IndexNode, Fraction]]   # year → elementary aggregate → share


@lru_cache(maxsize=65536)
def _nodes_of(e: IndexNode) -> tuple[IndexNode, ...]:
    return e.parents()


def _relatives(stats: Mapping[CellKey, CellStats], disclosure: Mapping[CellKey, Disclosure]
               ) -> tuple[list[str], dict[str, dict[IndexNode, CellStats]]]:
    """The month range and, per month, the published base cells by elementary aggregate."""
    base = [s for s in stats.values() if s.key.is_base]
    if not base:
        return [], {}
    months = month_range(min(s.key.period for s in base), max(s.key.period for s in base))
    published: dict[str, dict[IndexNode, CellStats]] = defaultdict(dict)
    for s in base:
        d = disclosure.get(s.key)
        if d is not None and d.published:
            published[s.key.period][IndexNode(s.key.category, s.key.method, s.key.region)] = s
    return months, published


def _relative(published, month: str, e: IndexNode) -> Decimal | None:
    now = published.get(month, {}).get(e)
    before = published.get(previous_month(month), {}).get(e)
    if now is None or before is None or now.vwap <= 0 or before.vwap <= 0:
        return None
    return Decimal(now.vwap) / Decimal(before.vwap)


def _last_level(levels: dict[str, Decimal], ref: str) -> Decimal:
    """The node's level in the reference month, else its last level before it (a node that
    leaves the index and comes back resumes where it stopped), else 1 (a new node)."""
    before = [m for m in levels if m <= ref]
    return levels[max(before)] if before else Decimal(1)


def _laspeyres(stats, months, published, imputations, weights_out):
    revenue: dict[int, dict[IndexNode, int]] = {}
    for s in stats.values():
        if s.key.is_base:
            e = IndexNode(s.key.category, s.key.method, s.key.region)
            by_e = revenue.setdefault(year_of(s.key.period), {})
            by_e[e] = by_e.get(e, 0) + s.price_kg
    first_year = year_of(months[0])
    levels: dict[IndexNode, dict[str, Decimal]] = defaultdict(dict)
    counts: dict[tuple[IndexNode, str], tuple[int, int]] = {}
    for year in sorted({year_of(m) for m in months}):
        weight_year = year - 1 if revenue.get(year - 1) else year
        w = {e: Decimal(v) for e, v in sorted(revenue.get(weight_year, {}).items()) if v > 0}
        total_w = sum(w.values())
        weights_out[year] = {e: Fraction(int(v), int(total_w)) for e, v in w.items()}
        ref = f"{year - 1:04d}-12" if year > first_year else months[0]
        node_w: dict[IndexNode, Decimal] = defaultdict(Decimal)
        for e, we in w.items():
            for n in _nodes_of(e):
                node_w[n] += we
        start = {n: _last_level(levels[n], ref) for n in node_w}
        if year == first_year:
            for n in node_w:
                levels[n][ref] = start[n]
        R = {e: Decimal(1) for e in w}
        for month in (m for m in months if year_of(m) == year and m > ref):
            rel = {e: r for e in w if (r := _relative(published, month, e)) is not None}
            num: dict[IndexNode, Decimal] = defaultdict(Decimal)
            den: dict[IndexNode, Decimal] = defaultdict(Decimal)
            for e, r in rel.items():
                for n in _nodes_of(e):
                    num[n] += w[e] * R[e] * r
                    den[n] += w[e] * R[e]
            link = {n: num[n] / den[n] for n in den}
            matched: dict[IndexNode, int] = defaultdict(int)
            imputed: dict[IndexNode, int] = defaultdict(int)
            for e in w:
                if e in rel:
                    r = rel[e]
                    for n in _nodes_of(e):
                        matched[n] += 1
                else:
                    parent = next((n for n in _nodes_of(e) if n in link), None)
                    r = link[parent] if parent is not None else Decimal(1)
                    imputations.append(Imputation(month, e, parent))
                    for n in _nodes_of(e):
                        imputed[n] += 1
                R[e] *= r
            sums: dict[IndexNode, Decimal] = defaultdict(Decimal)
            for e, we in w.items():
                for n in _nodes_of(e):
                    sums[n] += we * R[e]
            for n, nw in node_w.items():
                levels[n][month] = start[n] * sums[n] / nw
                counts[(n, month)] = (matched[n], imputed[n])
    return levels, counts


def _fisher(months, published):
    """Chained Fisher levels per node. A node starts (level 1) in the first month one of its
    aggregates is published with a positive VWAP, and carries its level when nothing is matched."""
    levels: dict[IndexNode, dict[str, Decimal]] = defaultdict(dict)
    counts: dict[tuple[IndexNode, str], tuple[int, int]] = {}
    before = None
    for month in months:
        acc: dict[IndexNode, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
        matched: dict[IndexNode, int] = defaultdict(int)
        for e in sorted(published.get(month, {})):
            r = _relative(published, month, e)
            if r is None:
                continue
            v0 = Decimal(published[before][e].price_kg)
            v1 = Decimal(published[month][e].price_kg)
            for n in _nodes_of(e):
                a = acc[n]
                a[0] += v0 * r
                a[1] += v0
                a[2] += v1
                a[3] += v1 / r
                matched[n] += 1
        for n, by_month in levels.items():
            a = acc.get(n)
            link = ((a[0] / a[1]) * (a[2] / a[3])).sqrt() if a else Decimal(1)
            by_month[month] = by_month[before] * link
            counts[(n, month)] = (matched[n], 0)
        for e, s in sorted(published.get(month, {}).items()):
            for n in _nodes_of(e):
                if s.vwap > 0 and n not in levels:
                    levels[n][month] = Decimal(1)
        before = month
    return levels, counts


def _series(levels, counts, months, formula: str, base_year: int) -> dict[IndexNode, IndexSeries]:
    out = {}
    for n in sorted(levels):
        defined = levels[n]
        in_base = [defined[m] for m in months if m in defined and year_of(m) == base_year]
        if in_base:
            divisor, reference = sum(in_base) / len(in_base), f"{base_year}=100"
        else:
            first = next(m for m in months if m in defined)
            divisor, reference = defined[first], f"{first}=100"
        points = []
        for m in months:
            level = defined.get(m)
            if level is not None:
                level = (100 * level / divisor).quantize(_PLACES, ROUND_HALF_EVEN)
            matched, imputed = counts.get((n, m), (0, 0))
            points.append(IndexPoint(m, level, matched, imputed))
        out[n] = IndexSeries(n, formula, reference, tuple(points))
    return out


def build_index(stats: Mapping[CellKey, CellStats], disclosure: Mapping[CellKey, Disclosure],
                config: Config = DEFAULT_CONFIG) -> IndexResult:
    """The Laspeyres and Fisher series of every node, from cell statistics and their disclosure."""
    months, published = _relatives(stats, disclosure)
    if not months:
        return IndexResult({}, {}, (), {})
    imputations: list[Imputation] = []
    weights: dict[int, dict[IndexNode, Fraction]] = {}
    with localcontext(_CTX):
        l_levels, l_counts = _laspeyres(stats, months, published, imputations, weights)
        f_levels, f_counts = _fisher(months, published)
        laspeyres = _series(l_levels, l_counts, months, "laspeyres", config.base_year)
        fisher = _series(f_levels, f_counts, months, "fisher", config.base_year)
    return IndexResult(laspeyres, fisher, tuple(imputations), weights)

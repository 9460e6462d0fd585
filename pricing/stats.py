"""Cell statistics and robust-z outlier flagging (DESIGN.md §7).

Percentiles follow PostgreSQL's ``percentile_cont`` (continuous, linear interpolation between the
two nearest order statistics, unweighted — one trade, one value): for sorted prices
v₀ ≤ … ≤ vₙ₋₁ and fraction f, position h = f·(n − 1), result v⌊h⌋ + (h − ⌊h⌋)(v⌊h⌋₊₁ − v⌊h⌋).
Computed exactly (integer arithmetic); every published price (VWAP, median, p10…p90) is then rounded to a
whole fen per tonne, half to even (the house rounding rule of market/money.py).

VWAP is the kilogram-weighted mean of unit prices, Σ(price·kg) / Σ kg.

Outliers are judged inside their base cell (month × category × method group × province):
z = |x − median| / (1.4826 · MAD), MAD the median of |x − median|; z > 3.5 is an outlier. When
MAD = 0 (more than half the trades share one price) the scale is 1.253314 × the mean absolute
deviation from the median instead; when that is 0 too every price is equal and nothing is flagged.
Flagged lines leave every statistic of their base cell and of all its roll-ups, are counted in
each cell (``outliers``) and returned as a list — never dropped silently. Roll-ups are computed
from the kept lines of the base cells they contain, so a parent's trades, tonnes and revenue are
exactly the sums of its children's.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from math import floor
from typing import Iterable, Sequence

from pricing.cells import CellKey, cells_of, month_period
from pricing.config import DEFAULT_CONFIG, Config
from pricing.observations import Observation

PERCENTILES = {"p10": Fraction(1, 10), "p25": Fraction(1, 4), "median": Fraction(1, 2),
               "p75": Fraction(3, 4), "p90": Fraction(9, 10)}


def percentile_cont(sorted_values: Sequence[int | Fraction], f: Fraction) -> Fraction:
    """PostgreSQL's percentile_cont(f) of already sorted values, exactly."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= f <= 1:
        raise ValueError("fraction must be in [0, 1]")
    h = Fraction(f) * (len(sorted_values) - 1)
    lo = floor(h)
    low = Fraction(sorted_values[lo])
    if h == lo:
        return low
    return low + (h - lo) * (Fraction(sorted_values[lo + 1]) - low)


def div_half_even(num: int, den: int) -> int:
    """num / den rounded to an integer, half to even (den > 0), in integer arithmetic."""
    q, r = divmod(num, den)          # floor division: 0 ≤ r < den
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return q


def round_fen(value: Fraction) -> int:
    """Whole fen, half to even."""
    return div_half_even(value.numerator, value.denominator)


def percentile_fen(sorted_prices: Sequence[int], f: Fraction) -> int:
    """round_fen(percentile_cont(sorted_prices, f)) in integer arithmetic (the hot path)."""
    h, den = f.numerator * (len(sorted_prices) - 1), f.denominator
    lo, rem = divmod(h, den)
    if rem == 0:
        return sorted_prices[lo]
    low = sorted_prices[lo]
    return div_half_even(low * den + rem * (sorted_prices[lo + 1] - low), den)


def vwap(price_kg: int, kg: int) -> int:
    """Kilogram-weighted mean price in whole fen per tonne."""
    return div_half_even(price_kg, kg)


@dataclass(frozen=True, slots=True)
class CellStats:
    """The statistics of one cell over its kept (non-outlier) lines. Confidential as such:
    disclosure control decides whether they are published.

    An SQL implementation may build these rows itself (GROUPING SETS over period × method ×
    region) and hand them to suppress() and build_index(): every field is then needed, the
    contributor fields included (largest and second largest kilograms per corporate group).
    """

    key: CellKey
    trades: int
    operators: int            # distinct operators
    operator_groups: int      # distinct contributors (an operator's corporate group, or itself)
    generators: int           # distinct generators
    kg: int
    price_kg: int             # Σ price × kg (fen·kg/t); revenue in fen = price_kg / 1000
    vwap: int
    median: int
    p10: int
    p25: int
    p75: int
    p90: int
    has_negative: bool        # a kept price below zero
    largest_group_kg: int     # the largest contributor's kilograms
    second_group_kg: int      # the second largest's (0 when there is one contributor)
    outliers: int = 0         # lines flagged in the base cells of this cell

    @property
    def tonnes(self) -> Decimal:
        return Decimal(self.kg) / 1000

    @property
    def revenue_fen(self) -> int:
        return round_fen(Fraction(self.price_kg, 1000))


@dataclass(frozen=True, slots=True)
class Outlier:
    """A line flagged by the robust z-score, listed for regulators."""

    line_id: int
    cell: CellKey                 # its base cell
    unit_price_fen_per_t: int
    cell_median: int              # the base cell's median over all its lines, whole fen
    robust_z: Decimal             # two decimals
    scale: str                    # "mad" or "mean_ad" (MAD was 0)


def base_key(o: Observation) -> CellKey:
    return CellKey(month_period(o.month), o.category, o.method_group.value, o.province)


def flag_outliers(observations: Iterable[Observation], config: Config = DEFAULT_CONFIG
                  ) -> tuple[list[Observation], list[Outlier]]:
    """Split lines into (kept, outliers) by the robust z-score within each base cell.

    Exact integer arithmetic on doubled prices (a median of integers is a multiple of ½, a MAD of
    ¼). The result is sorted by line id, whatever the order of the input.
    """
    by_cell: dict[CellKey, list[Observation]] = defaultdict(list)
    for o in observations:
        by_cell[base_key(o)].append(o)
    kept: list[Observation] = []
    flagged: list[Outlier] = []
    k_mad = Fraction(config.outlier_z) * Fraction(config.mad_scale)
    k_mean = Fraction(config.outlier_z) * Fraction(config.mean_ad_scale)
    for key, lines in by_cell.items():
        prices = sorted(o.unit_price_fen_per_t for o in lines)
        n = len(prices)
        med2 = prices[(n - 1) // 2] + prices[n // 2]                  # 2 × median
        dev2 = sorted(abs(2 * p - med2) for p in prices)              # 2 × |p − median|
        mad4 = dev2[(n - 1) // 2] + dev2[n // 2]                      # 4 × MAD
        if mad4:
            # dev > k·MAD  ⇔  dev2/2 > k·mad4/4  ⇔  2·dev2·q > p·mad4   (k = p/q)
            how, scale = "mad", Fraction(config.mad_scale) * Fraction(mad4, 4)
            left, right = 2 * k_mad.denominator, k_mad.numerator * mad4
        else:
            # dev > k·mean|dev|  ⇔  dev2/2 > k·Σdev2/(2n)  ⇔  n·dev2·q > p·Σdev2
            total2 = sum(dev2)
            how, scale = "mean_ad", Fraction(config.mean_ad_scale) * Fraction(total2, 2 * n)
            left, right = n * k_mean.denominator, k_mean.numerator * total2
        for o in lines:
            d2 = abs(2 * o.unit_price_fen_per_t - med2)
            if right and left * d2 > right:
                z = Fraction(d2, 2) / scale
                flagged.append(Outlier(
                    o.line_id, key, o.unit_price_fen_per_t, div_half_even(med2, 2),
                    (Decimal(z.numerator) / Decimal(z.denominator)).quantize(
                        Decimal("0.01"), ROUND_HALF_EVEN), how))
            else:
                kept.append(o)
    kept.sort(key=lambda o: o.line_id)
    flagged.sort(key=lambda x: x.line_id)
    return kept, flagged


def stats_of(key: CellKey, lines: Sequence[Observation], outliers: int = 0) -> CellStats:
    """The statistics of one cell from its kept lines (at least one)."""
    if not lines:
        raise ValueError(f"cell {key} has no lines")
    prices = sorted(o.unit_price_fen_per_t for o in lines)
    kg = sum(o.accepted_kg for o in lines)
    price_kg = sum(o.price_kg for o in lines)
    by_group: dict[tuple[str, int], int] = defaultdict(int)
    for o in lines:
        by_group[o.contributor] += o.accepted_kg
    top = sorted(by_group.values(), reverse=True)[:2] + [0]
    q = {name: percentile_fen(prices, f) for name, f in PERCENTILES.items()}
    return CellStats(
        key=key, trades=len(lines), operators=len({o.operator_id for o in lines}),
        operator_groups=len(by_group), generators=len({o.generator_id for o in lines}),
        kg=kg, price_kg=price_kg, vwap=vwap(price_kg, kg), has_negative=prices[0] < 0,
        largest_group_kg=top[0], second_group_kg=top[1], outliers=outliers, **q)


def cell_statistics(kept: Iterable[Observation], outliers: Iterable[Outlier] = ()
                    ) -> dict[CellKey, CellStats]:
    """Statistics of every base cell holding a kept line and of all their roll-ups
    (quarter, all methods, national, and their combinations), keyed and sorted by CellKey."""
    lines: dict[CellKey, list[Observation]] = defaultdict(list)
    for o in kept:
        b = base_key(o)
        for key in cells_of(b.period, b.category, b.method, b.region):
            lines[key].append(o)
    flagged: dict[CellKey, int] = defaultdict(int)
    for x in outliers:
        for key in cells_of(x.cell.period, x.cell.category, x.cell.method, x.cell.region):
            flagged[key] += 1
    return {key: stats_of(key, lines[key], flagged[key]) for key in sorted(lines)}

"""Cells of the index and how they nest (DESIGN.md §7).

A cell is (period × category × method group × province). ``ALL`` stands for a roll-up: method
``ALL`` is all methods, region ``ALL`` is national. A period is a month ``"2025-01"`` or a quarter
``"2025-Q1"``; strings keep keys sortable, hashable and serialisable as they are.

Three hierarchies nest the cells, each with one parent level:

- ``time``: the months of a quarter → the quarter;
- ``method``: the method groups → all methods;
- ``region``: the provinces → national.

A *base cell* is a month × category × method group × province; every other cell is a roll-up of
base cells.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from itertools import combinations
from typing import Iterator, NamedTuple

ALL = "*"
DIMENSIONS = ("time", "region", "method")   # also the order "nearest roll-up" prefers

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


def month_period(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


@lru_cache(maxsize=4096)
def is_month(period: str) -> bool:
    return _MONTH.fullmatch(period) is not None


@lru_cache(maxsize=4096)
def quarter_of(period: str) -> str:
    m = _MONTH.fullmatch(period)
    if not m:
        raise ValueError(f"not a month period: {period!r}")
    return f"{m[1]}-Q{(int(m[2]) - 1) // 3 + 1}"


def year_of(period: str) -> int:
    return int(period[:4])


@lru_cache(maxsize=4096)
def previous_month(period: str) -> str:
    m = _MONTH.fullmatch(period)
    if not m:
        raise ValueError(f"not a month period: {period!r}")
    y, mo = int(m[1]), int(m[2])
    return f"{y - 1:04d}-12" if mo == 1 else f"{y:04d}-{mo - 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from first to last inclusive."""
    out, cur = [], last
    while cur >= first:
        out.append(cur)
        cur = previous_month(cur)
    return out[::-1]


class CellKey(NamedTuple):
    """A cell. A named tuple: ordered, hashed and compared as a plain tuple (fast as a dict key)."""

    period: str
    category: str
    method: str   # a MethodGroup value, or ALL
    region: str   # a 2-digit province, or ALL (national)

    @property
    def is_base(self) -> bool:
        return is_month(self.period) and self.method != ALL and self.region != ALL

    def parent(self, dimension: str) -> CellKey | None:
        """The parent in one hierarchy, or None at its top."""
        if dimension == "time":
            return CellKey(quarter_of(self.period), self.category, self.method, self.region) \
                if is_month(self.period) else None
        if dimension == "method":
            return None if self.method == ALL else \
                CellKey(self.period, self.category, ALL, self.region)
        if dimension == "region":
            return None if self.region == ALL else \
                CellKey(self.period, self.category, self.method, ALL)
        raise ValueError(f"unknown dimension {dimension!r}")

    def roll_ups(self) -> Iterator[CellKey]:
        """Every roll-up containing this cell, nearest first.

        One step up before two, two before three; among equally near ones the order of
        DIMENSIONS: the same cell over the quarter, then national, then all methods.
        """
        open_dims = [d for d in DIMENSIONS if self.parent(d) is not None]
        for size in range(1, len(open_dims) + 1):
            for dims in combinations(open_dims, size):
                key = self
                for d in dims:
                    key = key.parent(d)
                yield key

    def __str__(self) -> str:
        return f"{self.period}/{self.category}/{self.method}/{self.region}"


def cells_of(period: str, category: str, method: str, region: str) -> tuple[CellKey, ...]:
    """The base cell of an observation and its seven roll-ups (quarter × all methods × national)."""
    return tuple(CellKey(p, category, m, r)
                 for p in (period, quarter_of(period))
                 for m in (method, ALL)
                 for r in (region, ALL))

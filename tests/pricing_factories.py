"""Builders for pricing/ tests: observations and hand-made cell statistics."""
from __future__ import annotations

from datetime import date
from itertools import count

from pricing import CellKey, CellStats, Disclosure, MethodGroup, Observation

_ids = count(1)


def obs(price: int, kg: int = 1_000, *, month: str = "2025-01", category: str = "HW49",
        method: str = "D10", province: str = "44", city: str | None = None, operator: int = 1,
        group: int | None = None, generator: int | None = None, line_id: int | None = None
        ) -> Observation:
    """One settled line; a fresh generator and line id unless given."""
    line = next(_ids) if line_id is None else line_id
    return Observation(
        line_id=line, month=date(int(month[:4]), int(month[5:7]), 1), category=category,
        waste_code=None, method_group=MethodGroup(method), province=province,
        city=city or province + "01", operator_id=operator, operator_group_id=group,
        generator_id=line if generator is None else generator, accepted_kg=kg,
        unit_price_fen_per_t=price)


def spread(n: int = 5, *, price: int = 300_000, kg: int = 1_000, **kw) -> list[Observation]:
    """n lines at one price from n different operators and generators: a cell that passes every
    primary rule when n ≥ 5."""
    return [obs(price, kg, operator=100 + i, **kw) for i in range(n)]


def stats(period: str, method: str = "D10", region: str = "44", *, kg: int = 1_000,
          vwap: int = 100_000, category: str = "HW49", trades: int = 5,
          contributors: tuple[int, int] | None = None, negative: bool = False) -> CellStats:
    """A cell's statistics made by hand (for suppression and index tests)."""
    top = contributors or (kg // 5, kg // 5)
    return CellStats(
        key=CellKey(period, category, method, region), trades=trades, operators=trades,
        operator_groups=trades, generators=trades, kg=kg, price_kg=vwap * kg, vwap=vwap,
        median=vwap, p10=vwap, p25=vwap, p75=vwap, p90=vwap, has_negative=negative,
        largest_group_kg=top[0], second_group_kg=top[1])


def published(*cells: CellStats, hidden: tuple[CellKey, ...] = ()) -> dict[CellKey, Disclosure]:
    return {s.key: Disclosure(s.key, s.key not in hidden, ("trades",) if s.key in hidden else ())
            for s in cells}

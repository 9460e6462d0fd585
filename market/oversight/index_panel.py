"""The published price index on the regulator's dashboard (DESIGN.md §7–§8): the latest release's
cells of the regulator's province (market.region_scope.province_of) beside the national roll-up,
the composite index, the province's monthly trend, the release status. Reads market.prices only;
suppressed cells keep no numbers (they show as suppressed)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from market.prices import charts, queries
from market.prices.models import PriceCell, PricePublication
from market.region_scope import province_of

ALL = "*"


@dataclass(frozen=True)
class IndexRow:
    category: str
    regional: PriceCell | None      # the province's cell (all methods); None for platform staff
    national: PriceCell | None      # the national roll-up of the category (all methods)


@dataclass(frozen=True)
class IndexPanel:
    publication: PricePublication
    province: str                   # two digits, or "*" (national) for platform staff
    rows: list[IndexRow]
    composite: Decimal | None       # the latest chain-linked Laspeyres level (national)
    index_chart: dict
    trend_chart: dict
    trend_months: list[str]
    trend_table: dict


def index_panel(prefix: str | None) -> IndexPanel | None:
    """The panel for a regulator of `prefix` (None: platform staff, national); None when no
    release has been published yet."""
    pub = queries.latest_publication()
    if pub is None:
        return None
    province = province_of(prefix) or ALL
    national = {c.category: c for c in queries.latest_cells(method=ALL, region=ALL, publication=pub)}
    if province == ALL:
        rows = [IndexRow(cat, None, cell) for cat, cell in sorted(national.items())]
    else:
        regional = queries.latest_cells(method=ALL, region=province, publication=pub)
        rows = [IndexRow(c.category, c, national.get(c.category)) for c in regional]
    index_chart = charts.index_chart(pub)
    las = [lv for _p, lv in queries.index_series("*/*/*", "laspeyres", pub) if lv is not None]
    trend_chart, months, table = charts.trend(pub, [r.category for r in rows], province)
    return IndexPanel(pub, province, rows, las[-1] if las else None, index_chart,
                      trend_chart, months, table)

"""One call from observations to everything a publication stores (DESIGN.md §7).

    result = compute(observations, Config())

runs, in order: exclusion of government-priced categories, robust-z outlier flagging, cell
statistics with roll-ups, primary and secondary suppression, the composite index; and returns the
methodology version, the parameters' and the inputs' hashes and a data-quality note beside them.
The SQL path of a later release may produce CellStats itself and call suppress() and
build_index() directly; this function is the reference it must agree with.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Iterable

from pricing.cells import CellKey
from pricing.config import DEFAULT_CONFIG, METHODOLOGY_VERSION, Config
from pricing.disclosure import PRIMARY_RULES, Disclosure, suppress
from pricing.hashing import inputs_hash
from pricing.index import IndexResult, build_index
from pricing.observations import Observation
from pricing.stats import CellStats, Outlier, cell_statistics, flag_outliers


@dataclass(frozen=True, slots=True)
class DataQuality:
    """The data-quality note every release carries."""

    observations: int                 # lines in
    excluded: dict[str, int]          # lines left out, by rule: "government_priced", "outlier"
    kept: int                         # lines in the statistics
    cells: int                        # cells with data (base cells and roll-ups)
    published: int
    suppressed_primary: int
    suppressed_secondary: int
    primary_by_rule: dict[str, int]   # cells failing each primary rule (a cell may fail several)

    @property
    def share_suppressed(self) -> Decimal:
        """Share of cells suppressed, four decimals (0 when there are no cells)."""
        if not self.cells:
            return Decimal(0)
        share = Decimal(self.suppressed_primary + self.suppressed_secondary) / Decimal(self.cells)
        return share.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class PublicCell:
    """What anyone may see of a cell: its statistics, or "insufficient data" and where to look."""

    key: CellKey
    status: str                       # "published" or "insufficient_data"
    stats: CellStats | None
    nearest_published: CellKey | None


@dataclass(frozen=True, slots=True)
class PricingResult:
    methodology_version: str
    params_hash: str
    inputs_hash: str
    stats: dict[CellKey, CellStats]          # confidential: every cell with data
    disclosure: dict[CellKey, Disclosure]
    outliers: tuple[Outlier, ...]            # listed for regulators
    government_priced: tuple[int, ...]       # line ids left out as government-priced
    index: IndexResult
    quality: DataQuality

    def public(self, key: CellKey) -> PublicCell:
        d = self.disclosure[key]
        if d.published:
            return PublicCell(key, "published", self.stats[key], None)
        return PublicCell(key, "insufficient_data", None, d.nearest_published)

    def public_cells(self) -> list[PublicCell]:
        return [self.public(key) for key in self.disclosure]


def compute(observations: Iterable[Observation], config: Config = DEFAULT_CONFIG) -> PricingResult:
    lines = list(observations)
    if len({o.line_id for o in lines}) != len(lines):
        raise ValueError("every observation needs its own line id")
    priced = [o for o in lines if o.category not in config.excluded_categories]
    government = tuple(sorted(o.line_id for o in lines if o.category in config.excluded_categories))
    kept, outliers = flag_outliers(priced, config)
    stats = cell_statistics(kept, outliers)
    disclosure = suppress(stats, config)
    index = build_index(stats, disclosure, config)
    by_rule = Counter(rule for d in disclosure.values() for rule in d.primary)
    quality = DataQuality(
        observations=len(lines),
        excluded={"government_priced": len(government), "outlier": len(outliers)},
        kept=len(kept), cells=len(stats),
        published=sum(1 for d in disclosure.values() if d.published),
        suppressed_primary=sum(1 for d in disclosure.values() if d.primary),
        suppressed_secondary=sum(1 for d in disclosure.values()
                                 if not d.published and not d.primary),
        primary_by_rule={rule: by_rule[rule] for rule in PRIMARY_RULES})
    return PricingResult(METHODOLOGY_VERSION, config.params_hash(), inputs_hash(lines), stats,
                         disclosure, tuple(outliers), government, index, quality)

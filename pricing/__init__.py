"""Hazex's price-index methodology (DESIGN.md §7), pure Python: no Flask, no SQLAlchemy, no database.

Dataclasses in, dataclasses out::

    from pricing import Observation, Config, compute, method_group_of
    result = compute(observations, Config())
    result.public(CellKey("2025-03", "HW08", "R", "44"))   # published stats or "insufficient data"
    result.index.laspeyres[TOTAL].points                    # the composite, 2025 = 100

The methodology is written up in pricing/METHODOLOGY.md.
"""
from pricing.cells import ALL, CellKey, month_period, quarter_of
from pricing.config import DEFAULT_CONFIG, METHODOLOGY_VERSION, Config
from pricing.disclosure import PRIMARY_RULES, Disclosure, primary_reasons, suppress
from pricing.hashing import canonical_json, inputs_hash, params_hash, sha256_of
from pricing.index import TOTAL, IndexNode, IndexPoint, IndexResult, IndexSeries, build_index
from pricing.observations import MethodGroup, Observation, method_group_of
from pricing.pipeline import DataQuality, PricingResult, PublicCell, compute
from pricing.stats import CellStats, Outlier, cell_statistics, flag_outliers, percentile_cont

__all__ = [
    "ALL", "CellKey", "month_period", "quarter_of", "DEFAULT_CONFIG", "METHODOLOGY_VERSION",
    "Config", "PRIMARY_RULES", "Disclosure", "primary_reasons", "suppress", "canonical_json",
    "inputs_hash", "params_hash", "sha256_of", "TOTAL", "IndexNode", "IndexPoint", "IndexResult",
    "IndexSeries", "build_index", "MethodGroup", "Observation", "method_group_of", "DataQuality",
    "PricingResult", "PublicCell", "compute", "CellStats", "Outlier", "cell_statistics",
    "flag_outliers", "percentile_cont",
]

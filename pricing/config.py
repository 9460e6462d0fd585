"""The methodology's parameters (not shown to users) and the methodology version.

Changing any parameter changes :meth:`Config.params_hash`, which every publication stores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pricing.hashing import sha256_of

METHODOLOGY_VERSION = "1.0"


@dataclass(frozen=True)
class Config:
    # primary disclosure control (DESIGN.md §7)
    min_trades: int = 5
    min_operators: int = 3
    min_generators: int = 3
    p_percent: int = 15
    dominance_percent: int = 70
    # operators of one corporate group count as one operator in the ≥ 3 operators threshold too
    # (the p %-rule and the dominance rule always work on groups)
    groups_count_as_one_operator: bool = True
    # robust z-score outliers
    outlier_z: Decimal = Decimal("3.5")
    mad_scale: Decimal = Decimal("1.4826")
    # when MAD = 0: scale the mean absolute deviation instead (Iglewicz & Hoaglin)
    mean_ad_scale: Decimal = Decimal("1.253314")
    # composite index
    base_year: int = 2025
    # categories priced by a government tariff, never in the index (e.g. HW01 medical waste)
    excluded_categories: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "excluded_categories", frozenset(self.excluded_categories))
        for name in ("min_trades", "min_operators", "min_generators", "base_year"):
            if type(getattr(self, name)) is not int or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer")
        for name in ("p_percent", "dominance_percent"):
            if type(getattr(self, name)) is not int or not 0 < getattr(self, name) <= 100:
                raise ValueError(f"{name} must be an integer in 1..100")
        for name in ("outlier_z", "mad_scale", "mean_ad_scale"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value > 0:
                raise ValueError(f"{name} must be a positive Decimal")

    def params_hash(self) -> str:
        """sha256 of the canonical serialisation of every parameter (see pricing.hashing)."""
        return sha256_of(self)


DEFAULT_CONFIG = Config()

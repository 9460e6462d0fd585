"""Results against the generator's declared profile: which values to flag on the order. Pure.

The rule (DESIGN.md §5 "a result outside the request's declared profile is flagged"). A request
declares a physical form and hazard characteristics (T, C, I, R, In), not numbers, so each check
compares a measured value with the simple limit that the declaration implies:

  halogen_high          halogens > 2 %: halogenated waste needs incineration with acid-gas
                        cleaning; the request's profile never declares it. Always flagged.
  metal_above_threshold a heavy metal above its platform threshold in mg/kg
                        (SAMPLING_METAL_LIMITS_MG_KG, defaults in DEFAULT_METAL_LIMITS_MG_KG):
                        disposal routes and prices depend on it. Always flagged.
  ignitable_undeclared  flash point < 60 °C (ignitable, GB 5085.4) but ignitability (I) not declared.
  corrosive_undeclared  pH ≤ 2 or pH ≥ 12.5 (corrosive, GB 5085.1) but corrosivity (C) not declared.
  wetter_than_declared  declared solid, but water > 50 %: it is a sludge or slurry.

A flag informs the operator's price decision; it refuses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

HALOGEN_LIMIT_PCT = Decimal(2)
FLASH_POINT_IGNITABLE_C = Decimal(60)
PH_ACID_MAX = Decimal(2)
PH_ALKALI_MIN = Decimal("12.5")
SOLID_WATER_MAX_PCT = Decimal(50)
# Platform thresholds for total content, mg/kg; configurable because operators' acceptance
# criteria differ by route (they are screening values, not legal limits).
DEFAULT_METAL_LIMITS_MG_KG: dict[str, int] = {"Pb": 1000, "Cd": 100, "Cr": 1000, "Hg": 20,
                                              "As": 500, "Ni": 1000, "Cu": 2500, "Zn": 5000}


@dataclass(frozen=True)
class Declared:
    """What the generator declared: physical form and hazard characteristics."""
    form: str | None
    hazards: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    analyte: str
    rule: str
    value: Decimal
    limit: Decimal


def flags(declared: Declared, results: dict[str, Decimal],
          metal_limits: dict[str, int] | None = None) -> list[Flag]:
    """Every result outside the declared profile, in analyte order of `results`."""
    limits = {**DEFAULT_METAL_LIMITS_MG_KG, **(metal_limits or {})}
    out: list[Flag] = []
    for code, value in results.items():
        if code == "halogens" and value > HALOGEN_LIMIT_PCT:
            out.append(Flag(code, "halogen_high", value, HALOGEN_LIMIT_PCT))
        elif code in limits and value > Decimal(limits[code]):
            out.append(Flag(code, "metal_above_threshold", value, Decimal(limits[code])))
        elif code == "flash_point" and value < FLASH_POINT_IGNITABLE_C and "I" not in declared.hazards:
            out.append(Flag(code, "ignitable_undeclared", value, FLASH_POINT_IGNITABLE_C))
        elif code == "ph" and "C" not in declared.hazards:
            if value <= PH_ACID_MAX:
                out.append(Flag(code, "corrosive_undeclared", value, PH_ACID_MAX))
            elif value >= PH_ALKALI_MIN:
                out.append(Flag(code, "corrosive_undeclared", value, PH_ALKALI_MIN))
        elif code == "water" and declared.form == "solid" and value > SOLID_WATER_MAX_PCT:
            out.append(Flag(code, "wetter_than_declared", value, SOLID_WATER_MAX_PCT))
    return out

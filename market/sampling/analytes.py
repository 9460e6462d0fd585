"""The analytes a sampling order may ask for, with units and physical ranges. Pure.

Ranges are what the quantity can physically be, not what is acceptable: a pH of 15 or a water
content of 120 % is a typing error, refused; a pH of 1 is a fact, kept and flagged (profile.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Analyte:
    code: str
    unit: str
    low: Decimal
    high: Decimal
    metal: bool = False


_PCT = (Decimal(0), Decimal(100))
# 1,000,000 mg/kg is the whole sample: the physical ceiling of any concentration.
_MG_KG = (Decimal(0), Decimal(1_000_000))

ANALYTES: dict[str, Analyte] = {a.code: a for a in (
    Analyte("ph", "pH", Decimal(0), Decimal(14)),
    Analyte("calorific_value", "MJ/kg", Decimal(0), Decimal(60)),
    Analyte("halogens", "%", *_PCT),
    Analyte("sulphur", "%", *_PCT),
    Analyte("water", "%", *_PCT),
    Analyte("flash_point", "°C", Decimal(-50), Decimal(400)),
    *(Analyte(m, "mg/kg", *_MG_KG, metal=True)
      for m in ("Pb", "Cd", "Cr", "Hg", "As", "Ni", "Cu", "Zn")),
)}
METALS = tuple(code for code, a in ANALYTES.items() if a.metal)
MAX_DECIMALS = 4


def parse_value(raw) -> Decimal | None:
    """A measured value as Decimal, or None when it is not a finite number."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "")) if not isinstance(raw, Decimal) else raw
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def range_problem(code: str, value: Decimal) -> str | None:
    """None when value is physically possible for the analyte, else 'below' / 'above' / 'decimals'."""
    analyte = ANALYTES[code]
    if value < analyte.low:
        return "below"
    if value > analyte.high:
        return "above"
    if -value.normalize().as_tuple().exponent > MAX_DECIMALS:
        return "decimals"
    return None


def display(value: Decimal) -> str:
    """A stored value without trailing zeros or exponent: 7.2000 → 7.2, 100.0000 → 100."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")

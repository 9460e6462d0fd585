"""Integer fen and kilograms; the one rounding rule (DESIGN.md §4)."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def round_half_even(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def line_amount_fen(unit_price_fen_per_t: int, kg: int) -> int:
    """amount = round_half_even(unit price per tonne × kg / 1000)."""
    return round_half_even(Decimal(unit_price_fen_per_t) * Decimal(kg) / Decimal(1000))


def fee_fen(amount_fen: int, bps: int) -> int:
    return round_half_even(Decimal(amount_fen) * Decimal(bps) / Decimal(10_000))


def kg_from_tonnes(tonnes: Decimal) -> int:
    return round_half_even(Decimal(tonnes) * 1000)

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


def split_fee(amount_fen: int, bps: int) -> tuple[int, int]:
    """(payee amount, fee) of a positive amount: fee = round_half_even(amount × bps / 10 000).

    The two always add up to the amount exactly (DESIGN.md §4 rule 4).
    """
    if type(amount_fen) is not int or type(bps) is not int:
        raise TypeError("split_fee takes integer fen and integer basis points")
    if amount_fen < 0 or not 0 <= bps <= 10_000:
        raise ValueError("split_fee needs amount ≥ 0 and 0 ≤ bps ≤ 10 000")
    fee = fee_fen(amount_fen, bps)
    return amount_fen - fee, fee


def fee_increment(value_before: int, value_after: int, bps: int) -> int:
    """The fee on moving a line's released value from value_before to value_after.

    Taking the difference of cumulative fees (not the fee of each part) makes partial releases
    add up to exactly the fee of the whole line, whatever the rounding of the parts.
    """
    if not 0 <= value_before <= value_after:
        raise ValueError("fee_increment needs 0 ≤ before ≤ after")
    return fee_fen(value_after, bps) - fee_fen(value_before, bps)

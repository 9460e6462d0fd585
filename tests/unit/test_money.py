"""market.money: integer fen, the one rounding rule (DESIGN.md §4 rule 4)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from market.money import fee_fen, kg_from_tonnes, line_amount_fen, round_half_even


@pytest.mark.parametrize("value, expected", [
    ("0.5", 0), ("1.5", 2), ("2.5", 2), ("3.5", 4),
    ("-0.5", 0), ("-1.5", -2), ("-2.5", -2),
    ("0.49999", 0), ("0.50001", 1), ("2.6", 3), ("-2.6", -3),
])
def test_round_half_even_sends_ties_to_the_even_neighbour(value, expected):
    out = round_half_even(Decimal(value))
    assert out == expected
    assert type(out) is int


@pytest.mark.parametrize("price, kg, expected", [
    (150_000, 1_000, 150_000),     # ¥1 500/t × 1 t
    (150_000, 1, 150),              # one kilogram
    (1_500, 1, 2),                  # 1.5 fen → 2 (even)
    (2_500, 1, 2),                  # 2.5 fen → 2 (even), not 3 as half-up would give
    (500, 1, 0),                    # 0.5 fen → 0
    (333_333, 3, 1_000),            # 999.999 fen → 1 000
    (123_457, 2_345, 289_507),      # 289 506.665 → 289 507
    (0, 5_000, 0),
    (120_000, 0, 0),
])
def test_line_amount_is_price_per_tonne_times_kg_over_1000_rounded_half_even(price, kg, expected):
    assert line_amount_fen(price, kg) == expected


@pytest.mark.parametrize("price, kg, expected", [
    (-1_500, 1, -2),       # -1.5 → -2
    (-2_500, 1, -2),       # -2.5 → -2
    (-500, 1, 0),          # -0.5 → 0
    (-80_000, 2_500, -200_000),
])
def test_negative_prices_round_symmetrically(price, kg, expected):
    """A negative price (the operator pays for valuable waste) rounds like its mirror image."""
    assert line_amount_fen(price, kg) == expected
    assert line_amount_fen(-price, kg) == -expected


@pytest.mark.parametrize("amount, bps, expected", [
    (10_000, 300, 300),        # 3 % of ¥100
    (200, 25, 0),              # 0.5 fen → 0
    (600, 25, 2),              # 1.5 fen → 2
    (1_000, 25, 2),            # 2.5 fen → 2
    (123_456, 250, 3_086),     # 3 086.4
    (123_460, 250, 3_086),     # 3 086.5 → 3 086 (even)
    (123_500, 250, 3_088),     # 3 087.5 → 3 088 (even)
    (99_999, 0, 0),
    (99_999, 10_000, 99_999),
])
def test_fee_in_basis_points_rounds_half_even(amount, bps, expected):
    assert fee_fen(amount, bps) == expected


@pytest.mark.parametrize("tonnes, kg", [
    ("1", 1_000), ("1.234", 1_234), ("0.0005", 0), ("0.0015", 2), ("2.0025", 2_002),
])
def test_kg_from_tonnes(tonnes, kg):
    assert kg_from_tonnes(Decimal(tonnes)) == kg


@given(price=st.integers(min_value=0, max_value=10**9), kg=st.integers(min_value=0, max_value=10**8),
       bps=st.integers(min_value=0, max_value=10_000))
def test_fee_and_payee_split_a_line_exactly(price, kg, bps):
    """payee + fee == line, the fee never exceeds the line and the payee never goes negative."""
    line = line_amount_fen(price, kg)
    fee = fee_fen(line, bps)
    payee = line - fee
    assert isinstance(fee, int)
    assert 0 <= fee <= line
    assert 0 <= payee <= line
    assert payee + fee == line
    # the fee is the exact basis-point share to within half a fen
    assert abs(Fraction(fee) - Fraction(line * bps, 10_000)) <= Fraction(1, 2)


@given(price=st.integers(min_value=-10**10, max_value=10**10),
       kg=st.integers(min_value=0, max_value=10**9))
def test_line_amount_never_drifts_more_than_half_a_fen(price, kg):
    exact = Fraction(price * kg, 1000)
    amount = line_amount_fen(price, kg)
    assert isinstance(amount, int)
    assert abs(amount - exact) <= Fraction(1, 2)
    if abs(amount - exact) == Fraction(1, 2):  # a tie goes to the even neighbour
        assert amount % 2 == 0


@given(kg=st.integers(min_value=1, max_value=10**7), price=st.integers(min_value=0, max_value=10**8))
def test_line_amount_never_decreases_with_weight(price, kg):
    assert line_amount_fen(price, kg + 1) >= line_amount_fen(price, kg)

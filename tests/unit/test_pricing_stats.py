"""pricing/: observations, cell statistics (percentile_cont, VWAP, rounding) and robust-z outliers,
each on numbers computed by hand."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from pricing import (ALL, CellKey, MethodGroup, Observation, cell_statistics, flag_outliers,
                     method_group_of, percentile_cont)
from pricing.stats import stats_of
from tests.pricing_factories import obs


@pytest.mark.parametrize("code, group", [
    ("R1", "R"), ("R9", "R"), ("R15", "R"), ("r4", "R"), ("D10", "D10"), ("D1", "D1"),
    ("D9", "D9"), ("C1", "C1"), ("D16", "other"), ("C2", "other"), ("C3", "other"),
    ("Y10", "other"), ("D100", "other"), ("R", "other"),
])
def test_method_codes_map_to_the_six_groups(code, group):
    assert method_group_of(code) == MethodGroup(group)


def test_an_observation_keeps_the_first_day_of_its_month_and_refuses_bad_fields():
    o = obs(300_000, month="2025-03")
    assert o.month == date(2025, 3, 1)
    assert Observation(**{**_fields(o), "month": date(2025, 3, 17)}).month == date(2025, 3, 1)
    for field, value, named in [
        ("accepted_kg", 0, "accepted_kg"), ("accepted_kg", 1.5, "accepted_kg"),
        ("accepted_kg", True, "accepted_kg"), ("unit_price_fen_per_t", 3.0, "unit_price"),
        ("category", "HW8", "category"), ("province", "4", "province"),
        ("city", "4501", "city"), ("waste_code", "900-041-08", "waste_code"),
    ]:
        with pytest.raises(ValueError, match=named):
            Observation(**{**_fields(o), field: value})
    with pytest.raises(ValueError):
        Observation(**{**_fields(o), "method_group": "X1"})
    assert Observation(**{**_fields(o), "unit_price_fen_per_t": -50_000}).price_kg == -50_000_000


def _fields(o: Observation) -> dict:
    return {name: getattr(o, name) for name in o.__dataclass_fields__}


@pytest.mark.parametrize("values, f, expected", [
    ([7], Fraction(1, 10), 7),
    ([1, 2, 3, 4], Fraction(1, 2), Fraction(5, 2)),
    ([1, 2, 3, 4], Fraction(1, 10), Fraction(13, 10)),      # h = 0.3
    ([1, 2, 3, 4], Fraction(9, 10), Fraction(37, 10)),      # h = 2.7
    ([100, 200, 300, 400, 1000], Fraction(1, 10), 140),     # h = 0.4
    ([100, 200, 300, 400, 1000], Fraction(1, 4), 200),      # h = 1
    ([100, 200, 300, 400, 1000], Fraction(9, 10), 760),     # h = 3.6: 400 + 0.6 × 600
    ([-300, -100, 50], Fraction(1, 4), -200),               # negative prices interpolate too
])
def test_percentile_cont_interpolates_like_postgresql(values, f, expected):
    assert percentile_cont(values, f) == expected


def test_cell_statistics_by_hand():
    lines = [obs(p, kg, operator=op, group=g, generator=gen) for p, kg, op, g, gen in [
        (100_000, 1_000, 1, None, 11), (200_000, 1_000, 2, 7, 11), (300_000, 1_000, 3, 7, 12),
        (400_000, 1_000, 1, None, 13), (1_000_000, 6_000, 4, None, 14)]]
    s = stats_of(CellKey("2025-01", "HW49", "D10", "44"), lines)
    # VWAP = (100 + 200 + 300 + 400 + 6 000) thousand fen·t / 10 t = 700 000 fen/t
    assert (s.trades, s.kg, s.vwap, s.price_kg) == (5, 10_000, 700_000, 7_000_000_000)
    assert (s.p10, s.p25, s.median, s.p75, s.p90) == (140_000, 200_000, 300_000, 400_000, 760_000)
    assert (s.operators, s.operator_groups, s.generators) == (4, 3, 4)
    # contributors: operator 4 6 000 kg, operator 1 2 000 kg, group 7 2 000 kg
    assert (s.largest_group_kg, s.second_group_kg) == (6_000, 2_000)
    assert s.tonnes == Decimal("10") and s.revenue_fen == 7_000_000 and not s.has_negative


@pytest.mark.parametrize("prices, kgs, vwap, median", [
    ([1, 2], [1, 1], 2, 2),        # 1.5 → 2 (even)
    ([2, 3], [1, 1], 2, 2),        # 2.5 → 2 (even), not 3
    ([3, 4], [1, 1], 4, 4),        # 3.5 → 4
    ([-3, -2], [1, 1], -2, -2),    # −2.5 → −2
    ([1, 2], [1, 2], 2, 2),        # 5/3 = 1.67 → 2
])
def test_prices_are_whole_fen_half_to_even(prices, kgs, vwap, median):
    s = stats_of(CellKey("2025-01", "HW49", "D10", "44"),
                 [obs(p, kg) for p, kg in zip(prices, kgs)])
    assert (s.vwap, s.median) == (vwap, median)
    assert s.has_negative == (prices[0] < 0)


def test_roll_ups_are_sums_of_their_base_cells():
    lines = [obs(300_000, 1_000, month="2025-01", method="D10", province="44"),
             obs(200_000, 3_000, month="2025-02", method="D1", province="44"),
             obs(250_000, 2_000, month="2025-02", method="D1", province="45"),
             obs(500_000, 1_000, month="2025-04", method="D10", province="45")]
    cells = cell_statistics(lines)
    q1_all = cells[CellKey("2025-Q1", "HW49", ALL, ALL)]
    assert (q1_all.trades, q1_all.kg) == (3, 6_000)
    assert q1_all.price_kg == 300_000 * 1_000 + 200_000 * 3_000 + 250_000 * 2_000
    assert cells[CellKey("2025-02", "HW49", "D1", ALL)].kg == 5_000
    assert cells[CellKey("2025-Q2", "HW49", "D10", "45")].trades == 1
    # 4 base cells; 8 month roll-up cells and 8 quarter cells in all, counted by hand: 
    assert len([k for k in cells if k.is_base]) == 4
    assert CellKey("2025-Q1", "HW49", "D10", "45") not in cells   # no data, no cell
    assert list(cells) == sorted(cells)


def test_robust_z_flags_the_far_price_excludes_it_and_lists_it():
    # median 125 000; deviations 25, 15, 5, 5, 15, 875 thousand → MAD 15 000; scale 22 239
    lines = [obs(p) for p in (100_000, 110_000, 120_000, 130_000, 140_000, 1_000_000)]
    kept, outliers = flag_outliers(lines)
    assert [o.unit_price_fen_per_t for o in kept] == [100_000, 110_000, 120_000, 130_000, 140_000]
    (x,) = outliers
    assert (x.line_id, x.unit_price_fen_per_t, x.cell_median) == (lines[-1].line_id, 1_000_000, 125_000)
    assert (x.robust_z, x.scale) == (Decimal("39.35"), "mad")     # 875 000 / 22 239
    cell = cell_statistics(kept, outliers)[CellKey("2025-01", "HW49", "D10", "44")]
    assert (cell.trades, cell.outliers, cell.vwap) == (5, 1, 120_000)
    assert cell_statistics(kept, outliers)[CellKey("2025-Q1", "HW49", ALL, ALL)].outliers == 1


@pytest.mark.parametrize("far, flagged", [(71_891, False), (71_892, True)])
def test_robust_z_of_exactly_three_and_a_half_is_kept(far, flagged):
    # median 20 000, MAD 10 000: the limit is 3.5 × 1.4826 × 10 000 = 51 891 from the median
    lines = [obs(p) for p in (0, 10_000, 20_000, 20_000, 20_000, 30_000, far)]
    _, outliers = flag_outliers(lines)
    assert [o.unit_price_fen_per_t for o in outliers] == ([far] if flagged else [])


def test_mad_of_zero_falls_back_to_the_mean_absolute_deviation():
    # nine at 100 000 and one at 1 000 000: MAD 0; mean |dev| 90 000; scale 1.253314 × 90 000
    lines = [obs(100_000) for _ in range(9)] + [obs(1_000_000)]
    _, outliers = flag_outliers(lines)
    assert [(o.unit_price_fen_per_t, o.robust_z, o.scale) for o in outliers] == \
        [(1_000_000, Decimal("7.98"), "mean_ad")]
    # three at 100 000 and two at 120 000: MAD 0, mean |dev| 8 000, z = 1.99: nothing flagged
    assert flag_outliers([obs(p) for p in (100_000,) * 3 + (120_000,) * 2])[1] == []
    # all equal: nothing flagged
    assert flag_outliers([obs(100_000) for _ in range(6)])[1] == []


def test_outliers_are_judged_inside_their_base_cell_only():
    # 1 000 000 is ordinary in Guangxi's cell and would be far out in Guangdong's
    gd = [obs(p, province="44") for p in (100_000, 110_000, 120_000, 130_000, 140_000)]
    gx = [obs(p, province="45") for p in (1_000_000, 1_100_000, 1_050_000)]
    assert flag_outliers(gd + gx)[1] == []

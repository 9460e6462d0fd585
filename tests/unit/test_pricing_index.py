"""pricing/: the chain-linked Laspeyres (across a January, with imputation from the parent) and
the chained Fisher, on numbers computed by hand."""
from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from pricing import TOTAL, IndexNode, build_index
from pricing.cells import month_range
from tests.pricing_factories import published, stats

A = ("HW49", "D10", "44")
B = ("HW49", "D1", "44")


def cell(period, agg, vwap, kg):
    return stats(period, category=agg[0], method=agg[1], region=agg[2], vwap=vwap, kg=kg)


def levels(series):
    return {p.period: p.level for p in series.points}


def q(x) -> Decimal:
    """Four decimals, half to even, of an exact number."""
    x = Fraction(x)
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.0001"))


def test_chain_linking_across_january_changes_the_weights_and_keeps_the_level():
    # 2024-12 (first month of data: price reference of the first year, weights of 2024 itself):
    #   A 100 × 10 t, B 100 × 30 t → 2025 weights (2024 revenue) A ¼, B ¾.
    # 2025: A 120 × 30 t every month, B 100 × 10 t → 2026 weights A 43 200 : B 12 000.
    # 2026-01: A 150, B 100; 2026-02: A 150, B 120.
    cells = [cell("2024-12", A, 100, 10), cell("2024-12", B, 100, 30)]
    for m in month_range("2025-01", "2025-12"):
        cells += [cell(m, A, 120, 30), cell(m, B, 100, 10)]
    cells += [cell("2026-01", A, 150, 30), cell("2026-01", B, 100, 10),
              cell("2026-02", A, 150, 30), cell("2026-02", B, 120, 10)]
    result = build_index({s.key: s for s in cells}, published(*cells))
    lv = levels(result.laspeyres[TOTAL])
    # 2025: ¼ × 1.2 + ¾ × 1 = 1.05 every month; the base year's mean is 1.05 → 100
    assert lv["2024-12"] == q(Fraction(100, 1) / Fraction(105, 100))          # 95.2381
    assert all(lv[m] == 100 for m in month_range("2025-01", "2025-12"))
    # January 2026: the new weights on relatives to December: (43 200 × 1.25 + 12 000) / 55 200
    assert lv["2026-01"] == q(Fraction(100 * 66_000, 55_200))                  # 119.5652
    # with 2025's weights it would have been 100 × (¼ × 1.25 + ¾) = 106.25
    # February: long relatives A 1.25, B 1.2 on the same weights (not January's level × a
    # monthly link, which would drift): (43 200 × 1.25 + 12 000 × 1.2) / 55 200
    assert lv["2026-02"] == q(Fraction(100 * 68_400, 55_200))                  # 123.9130
    assert result.laspeyres[TOTAL].reference == "2025=100"
    assert result.weights[2025] == {IndexNode(*A): Fraction(1, 4), IndexNode(*B): Fraction(3, 4)}
    assert result.weights[2026][IndexNode(*A)] == Fraction(43_200, 55_200)
    assert result.imputations == ()
    # the category × method nodes follow their one aggregate: A's own price, 2025 = 100
    assert levels(result.laspeyres[IndexNode("HW49", "D10")])["2026-02"] == q(125)


def test_a_cell_missing_this_month_moves_with_its_parent_and_is_flagged():
    # A = HW49/D10/44, A2 = HW49/D10/45 (same parent HW49 × D10), C = HW49/D1/44.
    # A2 is suppressed in February: February and March (unmatched: February unpublished) move
    # with the parent's link on its matched aggregates, i.e. A's relatives.
    a2 = ("HW49", "D10", "45")
    c = ("HW49", "D1", "44")
    cells = [cell("2025-01", A, 100, 10), cell("2025-02", A, 110, 10), cell("2025-03", A, 121, 10),
             cell("2025-01", a2, 200, 10), cell("2025-02", a2, 999, 10), cell("2025-03", a2, 300, 10),
             cell("2025-01", c, 50, 20), cell("2025-02", c, 50, 20), cell("2025-03", c, 60, 20)]
    hidden = (cells[4].key,)
    result = build_index({s.key: s for s in cells}, published(*cells, hidden=hidden))
    # weights: first year, its own revenue (the hidden month counts: weights are confidential):
    #   A 1 000 + 1 100 + 1 210 = 3 310; A2 2 000 + 9 990 + 3 000 = 14 990; C 3 200; Σ 21 500
    assert result.weights[2025][IndexNode(*a2)] == Fraction(14_990, 21_500)
    # Feb: A 1.1, A2 imputed 1.1, C 1   → 23 330 / 21 500
    # Mar: A 1.21, A2 imputed 1.21, C 1.2 → 25 983 / 21 500
    raw = {"2025-01": Fraction(21_500), "2025-02": Fraction(23_330), "2025-03": Fraction(25_983)}
    mean = sum(raw.values()) / 3
    assert levels(result.laspeyres[TOTAL]) == {m: q(100 * v / mean) for m, v in raw.items()}
    assert [(i.period, i.aggregate, i.moved_with) for i in result.imputations] == [
        ("2025-02", IndexNode(*a2), IndexNode("HW49", "D10")),
        ("2025-03", IndexNode(*a2), IndexNode("HW49", "D10"))]
    feb = result.laspeyres[TOTAL].points[1]
    assert (feb.matched, feb.imputed) == (2, 1)
    # the parent moves exactly with its matched aggregate: the imputation adds no movement
    d10 = levels(result.laspeyres[IndexNode("HW49", "D10")])
    assert abs(d10["2025-03"] / d10["2025-02"] - Decimal("1.1")) < Decimal("0.00001")


def test_with_no_sibling_matched_the_cell_moves_with_the_category_then_all_wastes():
    other = ("HW17", "D1", "44")
    cells = [cell("2025-01", A, 100, 10), cell("2025-02", A, 999, 10),
             cell("2025-01", B, 100, 10), cell("2025-02", B, 130, 10),
             cell("2025-01", other, 100, 10), cell("2025-02", other, 90, 10)]
    result = build_index({s.key: s for s in cells}, published(*cells, hidden=(cells[1].key,)))
    assert [(i.aggregate, i.moved_with) for i in result.imputations] == \
        [(IndexNode(*A), IndexNode("HW49"))]     # no other HW49 × D10: the category's link
    cells_all_hidden = cells[:2] + [cell("2025-01", B, 100, 10), cell("2025-02", B, 999, 10)] + cells[4:]
    hidden = (cells[1].key, cells_all_hidden[3].key)
    result = build_index({s.key: s for s in cells_all_hidden}, published(*cells_all_hidden, hidden=hidden))
    assert [(i.aggregate, i.moved_with) for i in result.imputations] == \
        [(IndexNode(*B), TOTAL), (IndexNode(*A), TOTAL)]     # in key order: D1 before D10
    # nothing matched anywhere: the level is carried forward, flagged
    everything = [cell("2025-01", A, 100, 10), cell("2025-02", A, 150, 10)]
    result = build_index({s.key: s for s in everything}, published(*everything, hidden=(everything[1].key,)))
    assert [(i.aggregate, i.moved_with) for i in result.imputations] == [(IndexNode(*A), None)]
    assert levels(result.laspeyres[TOTAL]) == {"2025-01": 100, "2025-02": 100}


def test_negative_and_unpublished_prices_are_not_relatives():
    neg = ("HW08", "R", "44")
    cells = [cell("2025-01", A, 100, 10), cell("2025-02", A, 110, 10),
             cell("2025-01", neg, -50, 10), cell("2025-02", neg, -40, 10)]
    result = build_index({s.key: s for s in cells}, published(*cells))
    assert IndexNode(*neg) not in result.weights[2025]          # no positive revenue: no weight
    assert IndexNode("HW08") not in result.laspeyres
    assert IndexNode("HW08") not in result.fisher              # no positive price, no series
    # A alone: 1 and 1.1, mean 1.05
    assert levels(result.laspeyres[TOTAL]) == {"2025-01": q(Fraction(100 * 100, 105)),
                                               "2025-02": q(Fraction(110 * 100, 105))}


def test_fisher_links_by_hand():
    # Jan → Feb: A 100 → 120 (10 t → 5 t), B 100 → 100 (10 t → 20 t)
    # Laspeyres link (Jan revenue 1 000, 1 000): (1 000 × 1.2 + 1 000) / 2 000 = 1.1
    # Paasche link (Feb revenue 600, 2 000): 2 600 / (600 / 1.2 + 2 000) = 2 600 / 2 500 = 1.04
    # Fisher √(1.1 × 1.04) = √1.144
    cells = [cell("2025-01", A, 100, 10), cell("2025-02", A, 120, 5),
             cell("2025-01", B, 100, 10), cell("2025-02", B, 100, 20)]
    result = build_index({s.key: s for s in cells}, published(*cells))
    f = levels(result.fisher[TOTAL])
    link = Decimal("1.144").sqrt()
    assert f == {"2025-01": q(200 / (1 + link)), "2025-02": q(200 * link / (1 + link))}
    assert result.fisher[TOTAL].reference == "2025=100"
    assert result.fisher[TOTAL].points[1].matched == 2


def test_a_series_without_a_base_year_month_is_referenced_to_its_first_month():
    cells = [cell("2026-01", A, 100, 10), cell("2026-02", A, 105, 10)]
    series = build_index({s.key: s for s in cells}, published(*cells)).laspeyres[TOTAL]
    assert series.reference == "2026-01=100"
    assert levels(series) == {"2026-01": 100, "2026-02": 105}

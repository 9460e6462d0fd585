"""pricing/: primary suppression (each rule) and secondary suppression (each hierarchy, and a
cascade across provinces and month/quarter that needs the fixed point), computed by hand."""
from __future__ import annotations

import pytest

from pricing import ALL, CellKey, Config, compute, primary_reasons, suppress
from pricing.stats import stats_of
from tests.pricing_factories import obs, spread, stats

CELL = CellKey("2025-01", "HW49", "D10", "44")


def reasons(lines, config=Config()):
    return primary_reasons(stats_of(CELL, lines), config)


def test_five_trades_three_operators_three_generators_publish():
    assert reasons(spread(5)) == ()


def test_count_thresholds():
    assert reasons(spread(4)) == ("trades",)
    # five trades by two operators; five generators
    two_ops = [obs(300_000, operator=1 + i % 2) for i in range(5)]
    assert "operators" in reasons(two_ops)
    # five trades, five operators, two generators
    assert reasons([obs(300_000, operator=i, generator=1 + i % 2) for i in range(5)]) == \
        ("generators",)


def test_operators_of_one_group_count_as_one():
    # operators 1, 2, 3 with 1 and 2 in group 9: two contributors
    lines = [obs(300_000, operator=op, group=9 if op in (1, 2) else None)
             for op in (1, 2, 3, 1, 3)]
    assert "operators" in reasons(lines)
    assert "operators" not in reasons(lines, Config(groups_count_as_one_operator=False))


@pytest.mark.parametrize("rest, sensitive", [(14, True), (15, False)])
def test_p_percent_rule_on_operator_tonnes(rest, sensitive):
    # x1 = 100 t, x2 = 50 t; the others hold `rest` tonnes in three lines of one operator each:
    # sensitive when rest < 15 % of 100 t
    parts = [rest * 1000 // 3, rest * 1000 // 3, rest * 1000 - 2 * (rest * 1000 // 3)]
    lines = [obs(300_000, 100_000, operator=1), obs(300_000, 50_000, operator=2)] + \
        [obs(300_000, kg, operator=3 + i) for i, kg in enumerate(parts)]
    assert ("p_rule" in reasons(lines)) == sensitive
    assert "dominance" not in reasons(lines)


def test_p_percent_rule_counts_a_corporate_group_as_one_contributor():
    # operators 1..5 with 50, 30, 10, 5, 5 t: x1 = 50, x2 = 30, rest 20 ≥ 7.5 — passes.
    # 1, 3 and 4 one group: 65, 30, 5 — rest 5 < 9.75: p %-rule (65 % is below dominance).
    # 1 and 2 one group: 80, 10, 5, 5 — rest 10 < 12: p %-rule, and 80 % ≥ 70 %: dominance.
    def cell(groups):
        return [obs(300_000, kg, operator=op, group=groups.get(op))
                for op, kg in ((1, 50_000), (2, 30_000), (3, 10_000), (4, 5_000), (5, 5_000))]
    assert reasons(cell({})) == ()
    assert reasons(cell({1: 9, 3: 9, 4: 9})) == ("p_rule",)
    assert reasons(cell({1: 9, 2: 9})) == ("p_rule", "dominance")


@pytest.mark.parametrize("share, sensitive", [(69, False), (70, True)])
def test_dominance_rule(share, sensitive):
    # one operator with `share` % of 100 t; the rest in four equal lines of four other operators
    rest = 100 - share
    lines = [obs(300_000, share * 1000, operator=1)] + \
        [obs(300_000, 1000 * rest // 4, operator=2 + i) for i in range(4)]
    assert ("dominance" in reasons(lines)) == sensitive
    assert "p_rule" not in reasons(lines)


def test_cells_holding_a_negative_price_apply_the_counts_only():
    dominated = [obs(-50_000, 90_000, operator=1)] + \
        [obs(-40_000, 1_000, operator=2 + i) for i in range(4)]
    assert reasons(dominated) == ()
    assert reasons([obs(-50_000, 90_000, operator=1)] +
                   [obs(40_000, 1_000, operator=2 + i) for i in range(4)]) == ()
    positive = [obs(50_000, 90_000, operator=1)] + \
        [obs(40_000, 1_000, operator=2 + i) for i in range(4)]
    assert reasons(positive) == ("p_rule", "dominance")
    assert reasons(dominated[:4]) == ("trades",)


# --- secondary -------------------------------------------------------------------------------

def hidden_of(cells, config=Config()):
    return {k for k, d in suppress({s.key: s for s in cells}, config).items() if not d.published}


def test_a_published_parent_with_one_hidden_province_hides_the_smallest_other_province():
    parent = stats("2025-01", region=ALL, kg=9_000)
    big, medium = stats("2025-01", region="44", kg=5_000), stats("2025-01", region="45", kg=3_000)
    small = stats("2025-01", region="43", kg=1_000, trades=2)          # primary: trades
    disclosure = suppress({s.key: s for s in (parent, big, medium, small)})
    assert {k for k, d in disclosure.items() if not d.published} == {small.key, medium.key}
    d = disclosure[medium.key]
    assert (d.status, d.primary, d.secondary) == ("secondary", (), ("region", parent.key))
    assert disclosure[small.key].status == "primary"
    assert disclosure[small.key].nearest_published == parent.key


def test_the_same_across_methods_and_across_the_months_of_a_quarter():
    methods = [stats("2025-01", method=ALL, kg=6_000), stats("2025-01", method="D10", kg=3_000),
               stats("2025-01", method="D1", kg=2_000), stats("2025-01", method="D9", kg=1_000, trades=1)]
    assert hidden_of(methods) == {methods[2].key, methods[3].key}
    months = [stats("2025-Q1", kg=6_000), stats("2025-01", kg=1_000), stats("2025-02", kg=2_000),
              stats("2025-03", kg=3_000, trades=4)]
    assert hidden_of(months) == {months[1].key, months[3].key}


def test_no_child_left_to_hide_hides_the_parent():
    # a quarter with a single month: the month is hidden, so the quarter is too
    # (stats made by hand: the quarter passes, its one month does not)
    only = [stats("2025-Q1", kg=1_000), stats("2025-01", kg=1_000, trades=4)]
    disclosure = suppress({s.key: s for s in only})
    assert not disclosure[only[0].key].published
    assert disclosure[only[0].key].secondary == ("time", only[0].key)


def test_a_parent_with_two_hidden_children_needs_nothing_more():
    cells = [stats("2025-01", region=ALL, kg=9_000), stats("2025-01", region="44", kg=5_000),
             stats("2025-01", region="45", kg=3_000, trades=2),
             stats("2025-01", region="43", kg=1_000, trades=2)]
    assert hidden_of(cells) == {cells[2].key, cells[3].key}


def test_cascade_across_provinces_and_month_quarter_reaches_the_fixed_point():
    # periods (Jan, Feb → Q1) × provinces (44, 45 → national); Jan-44 fails primary.
    # time, 44: Q1-44 published, Jan-44 hidden → Feb-44 hidden (its only published month)
    # region, Jan: national published, Jan-44 hidden → Jan-45 hidden
    # region, Feb: national published, Feb-44 now hidden → Feb-45 hidden (needs the first step)
    # time, 45: two months hidden; Q1 national and the quarters stay published
    grid = {}
    for period in ("2025-01", "2025-02", "2025-Q1"):
        for region, kg in (("44", 4_000), ("45", 2_000), (ALL, 6_000)):
            size = kg * (2 if period.endswith("Q1") else 1)
            grid[(period, region)] = stats(period, region=region, kg=size,
                                           trades=3 if (period, region) == ("2025-01", "44") else 5)
    disclosure = suppress({s.key: s for s in grid.values()})
    hidden = {(k.period, k.region) for k, d in disclosure.items() if not d.published}
    assert hidden == {("2025-01", "44"), ("2025-02", "44"), ("2025-01", "45"), ("2025-02", "45")}
    assert disclosure[grid[("2025-02", "45")].key].secondary == ("region", grid[("2025-02", ALL)].key)
    # the nearest published roll-up: the same cell over the quarter first
    assert disclosure[grid[("2025-02", "45")].key].nearest_published == grid[("2025-Q1", "45")].key


def test_from_observations_a_small_province_hides_its_neighbour_in_month_and_quarter():
    lines = spread(6, month="2025-01", province="44") + spread(5, month="2025-01", province="45") \
        + spread(2, month="2025-01", province="43") + spread(6, month="2025-02", province="44") \
        + spread(5, month="2025-02", province="45")
    result = compute(lines)
    hidden = {str(k) for k, d in result.disclosure.items() if not d.published}
    # January: 43 fails the counts; national Jan is published → 45 (smaller than 44) hidden.
    # Quarter: 43's quarter = its January (primary); national Q1 published → Q1-45 hidden;
    # Q1-45 hidden leaves Jan-45 and Feb-45 under a hidden parent — Feb-45 stays published,
    # but national Feb is published with children 44 and 45 both published: nothing to do.
    assert hidden == {"2025-01/HW49/D10/43", "2025-Q1/HW49/D10/43", "2025-01/HW49/D10/45",
                      "2025-Q1/HW49/D10/45",
                      "2025-01/HW49/*/43", "2025-Q1/HW49/*/43", "2025-01/HW49/*/45",
                      "2025-Q1/HW49/*/45"}
    q = result.quality
    assert (q.cells, q.suppressed_primary, q.suppressed_secondary) == (22, 4, 4)
    assert q.primary_by_rule["trades"] == 4
    assert result.public(CellKey("2025-01", "HW49", "D10", "45")).nearest_published == \
        CellKey("2025-01", "HW49", "D10", ALL)
    assert result.public(CellKey("2025-01", "HW49", "D10", "45")).stats is None


def test_the_nearest_roll_up_is_one_step_up_before_two_quarter_then_national_then_all_methods():
    key = CellKey("2025-02", "HW49", "D10", "44")
    assert [str(k) for k in key.roll_ups()] == [
        "2025-Q1/HW49/D10/44", "2025-02/HW49/D10/*", "2025-02/HW49/*/44",
        "2025-Q1/HW49/D10/*", "2025-Q1/HW49/*/44", "2025-02/HW49/*/*", "2025-Q1/HW49/*/*"]
    assert list(CellKey("2025-Q1", "HW49", ALL, ALL).roll_ups()) == []

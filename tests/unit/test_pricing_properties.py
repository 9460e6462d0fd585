"""pricing/: properties over random markets — no derivable cell is ever left, roll-ups add up,
and nothing depends on the order of the observations."""
from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings, strategies as st

from pricing import MethodGroup, Observation, compute, inputs_hash, primary_reasons
from pricing.disclosure import relations_of

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@st.composite
def markets(draw, max_size=90):
    """A small, crowded market: few operators, groups and generators, so that every rule bites."""
    size = draw(st.integers(0, max_size))
    lines = []
    for line_id in range(1, size + 1):
        province = draw(st.sampled_from(["43", "44", "45"]))
        lines.append(Observation(
            line_id=line_id,
            month=date(2025, draw(st.integers(1, 5)), 1),
            category=draw(st.sampled_from(["HW17", "HW49"])),
            waste_code=None,
            method_group=draw(st.sampled_from([MethodGroup.INCINERATION, MethodGroup.LANDFILL,
                                               MethodGroup.UTILISATION])),
            province=province, city=province + "01",
            operator_id=draw(st.integers(1, 7)),
            operator_group_id=draw(st.one_of(st.none(), st.integers(1, 2))),
            generator_id=draw(st.integers(1, 9)),
            accepted_kg=draw(st.integers(1, 20_000)),
            unit_price_fen_per_t=draw(st.one_of(st.integers(100_000, 600_000),
                                                st.integers(-200_000, 900_000)))))
    return lines


@SETTINGS
@given(markets())
def test_suppression_never_leaves_a_derivable_cell(lines):
    result = compute(lines)
    shown = {k for k, d in result.disclosure.items() if d.published}
    for (dimension, parent), children in relations_of(result.stats).items():
        # roll-ups are sums of their children
        assert result.stats[parent].kg == sum(result.stats[c].kg for c in children)
        assert result.stats[parent].trades == sum(result.stats[c].trades for c in children)
        assert result.stats[parent].price_kg == sum(result.stats[c].price_kg for c in children)
        if parent in shown:
            hidden = [c for c in children if c not in shown]
            assert len(hidden) != 1, (dimension, parent, hidden)
    for key, d in result.disclosure.items():
        if d.published:
            assert primary_reasons(result.stats[key]) == ()
        else:
            assert d.nearest_published is None or d.nearest_published in shown
            assert result.public(key).stats is None
    q = result.quality
    assert q.kept + q.excluded["outlier"] == q.observations == len(lines)
    assert q.published + q.suppressed_primary + q.suppressed_secondary == q.cells == len(result.stats)


@SETTINGS
@given(markets(max_size=60), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_observations(lines, rnd):
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    first, second = compute(lines), compute(shuffled)
    assert first == second
    assert list(first.stats) == list(second.stats)
    assert inputs_hash(lines) == inputs_hash(shuffled)


@SETTINGS
@given(markets(), st.integers(1, 10**6))
def test_prices_that_never_change_give_an_index_of_100_throughout(lines, seed):
    # every aggregate keeps one price in every month: all relatives are 1, imputed or not
    def price(o):
        return 100_000 + zlib.crc32(f"{o.category}{o.method_group}{o.province}{seed}".encode()) % 500_000
    steady = [replace(o, unit_price_fen_per_t=price(o)) for o in lines]
    index = compute(steady).index
    for series in list(index.laspeyres.values()) + list(index.fisher.values()):
        assert {p.level for p in series.points if p.level is not None} <= {100}, series.node

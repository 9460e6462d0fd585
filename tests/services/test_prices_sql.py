"""The SQL path of the publication (market/prices/aggregate.py) agrees with pricing.compute():
the same cells, statistics, suppression, outliers and index, on random data and on the
methodology's worked example."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from market import db
from market.prices.aggregate import aggregate
from pricing import Config, compute
from tests.pricing_factories import obs

CREATE = """CREATE TEMP TABLE obs_t (line_id bigint, month date, category text, waste_code text,
    method text, province text, city text, operator_id int, operator_group_id int,
    generator_id int, kg bigint, price bigint)"""


def _load(lines) -> None:
    conn = db.session.connection()
    conn.execute(text("DROP TABLE IF EXISTS obs_t"))
    conn.execute(text(CREATE))
    conn.execute(text("INSERT INTO obs_t VALUES (:i, :m, :c, NULL, :me, :p, :ci, :o, :g, :ge, :k, :pr)"),
                 [dict(i=o.line_id, m=o.month, c=o.category, me=o.method_group.value,
                       p=o.province, ci=o.city, o=o.operator_id, g=o.operator_group_id,
                       ge=o.generator_id, k=o.accepted_kg, pr=o.unit_price_fen_per_t)
                  for o in lines])


def _random_lines(seed: int):
    rng = random.Random(seed)
    out = []
    for i in range(rng.randint(150, 400)):
        cat = rng.choice(["HW49", "HW08", "HW18", "HW01"])
        base = {"HW49": 300_000, "HW08": -50_000, "HW18": 200_000, "HW01": 250_000}[cat]
        price = base + rng.randint(-40_000, 40_000)
        if rng.random() < 0.04:
            price = base // 10
        if rng.random() < 0.1:
            price = base        # ties: MAD may be 0
        out.append(obs(price, rng.choice([500, 1000, 2000, 3333]) * rng.randint(1, 5),
                       month=f"202{rng.choice([4, 5])}-{rng.randint(1, 12):02d}", category=cat,
                       method=rng.choice(["D10", "D1", "R"]), province=rng.choice(["44", "45"]),
                       operator=rng.randint(1, 8), group=rng.choice([None, None, 90]),
                       generator=rng.randint(1, 30), line_id=i + 1))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_sql_path_agrees_with_the_reference(seed):
    lines = _random_lines(seed)
    config = Config(excluded_categories={"HW01"})
    _load(lines)
    got = aggregate(db.session.connection(), "obs_t", config)
    want = compute(lines, config)
    assert got.stats == want.stats
    assert got.disclosure == want.disclosure
    assert got.outliers == want.outliers
    assert got.index == want.index
    assert got.quality == want.quality
    assert got.params_hash == want.params_hash


def test_fingerprint_changes_with_any_line():
    lines = _random_lines(7)
    _load(lines)
    first = aggregate(db.session.connection(), "obs_t", Config()).inputs_hash
    _load(lines)
    assert aggregate(db.session.connection(), "obs_t", Config()).inputs_hash == first
    changed = lines[:-1] + [obs(lines[-1].unit_price_fen_per_t + 1, lines[-1].accepted_kg,
                                line_id=lines[-1].line_id, month="2025-01")]
    _load(changed)
    assert aggregate(db.session.connection(), "obs_t", Config()).inputs_hash != first


def _varied_lines(seed: int):
    """Every method group, four provinces, months across a year end (quarters 2024-Q4 and
    2025-Q1), operators switching between two corporate groups and none, equal contributor
    tonnes (the second largest ties the largest) and cells of one contributor (no second)."""
    rng = random.Random(seed)
    out = []
    for i in range(rng.randint(250, 450)):
        month = rng.choice(["2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"])
        cat = rng.choice(["HW49", "HW08", "HW17"])
        base = {"HW49": 300_000, "HW08": -40_000, "HW17": 120_000}[cat]
        price = base + rng.randint(-30_000, 30_000)
        if rng.random() < 0.05:
            price = base * 4
        single = rng.random() < 0.1           # a cell where operator 7 trades alone
        out.append(obs(price, rng.choice([1000, 2000, 2000, 4000]),
                       month=month, category=cat,
                       method="other" if single else rng.choice(["R", "D10", "D1", "D9", "C1"]),
                       province="31" if single else rng.choice(["44", "45", "32"]),
                       operator=7 if single else rng.randint(1, 6),
                       group=None if single else rng.choice([None, None, 80, 81]),
                       generator=rng.randint(1, 25), line_id=i + 1))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_sql_path_agrees_across_quarters_methods_and_groups(seed):
    lines = _varied_lines(seed)
    config = Config(excluded_categories={"HW01"})
    _load(lines)
    got = aggregate(db.session.connection(), "obs_t", config)
    want = compute(lines, config)
    assert {k.period for k in got.stats} >= {"2024-Q4", "2025-Q1", "2024-12", "2025-01"}
    assert any(s.second_group_kg == s.largest_group_kg for s in got.stats.values())
    assert any(s.second_group_kg == 0 for s in got.stats.values())
    assert got.stats == want.stats
    assert got.disclosure == want.disclosure
    assert got.outliers == want.outliers
    assert got.index == want.index
    assert got.quality == want.quality


def test_fingerprint_does_not_depend_on_row_order():
    lines = _random_lines(11)
    _load(lines)
    first = aggregate(db.session.connection(), "obs_t", Config()).inputs_hash
    _load(list(reversed(lines)))
    assert aggregate(db.session.connection(), "obs_t", Config()).inputs_hash == first

"""pricing/'s percentiles agree with PostgreSQL's percentile_cont, so the SQL path of the
publication (aggregation inside PostgreSQL) can reproduce the reference implementation."""
from __future__ import annotations

import random
from fractions import Fraction

import pytest
from sqlalchemy import text

from pricing.stats import PERCENTILES, percentile_cont, round_fen

SQL = text("""
    SELECT percentile_cont(CAST(:fs AS float8[])) WITHIN GROUP (ORDER BY v)
    FROM unnest(CAST(:vals AS bigint[])) AS v
""")


@pytest.mark.parametrize("seed", range(12))
def test_percentile_cont_agrees_with_postgresql(db_session, seed):
    rng = random.Random(seed)
    values = sorted(rng.randint(-200_000, 900_000) for _ in range(rng.randint(1, 40)))
    names, fractions = zip(*PERCENTILES.items())
    got = db_session.execute(SQL, {"fs": [float(f) for f in fractions], "vals": values}).scalar()
    for name, f, pg in zip(names, fractions, got):
        exact = percentile_cont(values, f)
        assert abs(Fraction(pg) - exact) < Fraction(1, 10**6), name
        if (exact - round(exact)) not in (Fraction(1, 2), Fraction(-1, 2)):   # away from ties
            assert round_fen(Fraction(round(pg * 1000), 1000)) == round_fen(exact), name

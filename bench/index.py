"""Benchmark: building the price index inside PostgreSQL against a plain GROUP BY.

Creates its own database `hazex_bench_index` (dropped at the end) on the server of DATABASE_URL
or the embedded PostgreSQL, fills a table of synthetic settled lines with generate_series (12
months × 20 categories × 6 method groups × 10 provinces, 400 operators in 150 corporate groups,
200 000 generators, lognormal-ish prices with a few negative cells and 1 % abnormally low
deals), then times, in the same run and on the same rows:

- index: market.prices.aggregate.aggregate() — exact medians and MADs, robust-z outliers,
  GROUPING SETS statistics with exact percentiles and contributor shares, then pricing.suppress()
  and pricing.build_index() over the cells (everything a publication computes);
- groupby: a plain GROUP BY of the same rows by month, category, method and province with count,
  Σ kg and Σ price × kg;
- median (context, not in the ratio): the same GROUP BY with an exact median per base cell
  (percentile_disc), the least that exact order statistics cost in PostgreSQL — the index needs
  them for eight roll-up levels, plus exact distinct counts of operators, contributors and
  generators per cell, so the median's multiple of the GROUP BY bounds how close the ratio can get.

    .venv/bin/python bench/index.py [--rows 1000000 10000000] [--keep]

Last line: BENCH index rows=… index_s=… groupby_s=… ratio=…
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from _scratch import scratch_database  # noqa: E402

BENCH_DB = "hazex_bench_index"

FILL = """
CREATE UNLOGGED TABLE obs AS
SELECT g AS line_id,
       (DATE '2025-01-01' + ((g % 12) || ' months')::interval)::date AS month,
       'HW' || lpad((1 + (g / 12) % 20 * 2)::text, 2, '0') AS category,
       NULL::text AS waste_code,
       (ARRAY['R', 'D10', 'D1', 'D9', 'C1', 'other'])[1 + (g / 240) % 6] AS method,
       (ARRAY['11','31','32','33','35','37','42','44','45','51'])[1 + (g / 1440) % 10] AS province,
       (ARRAY['11','31','32','33','35','37','42','44','45','51'])[1 + (g / 1440) % 10]
           || lpad((1 + g % 7)::text, 2, '0') AS city,
       op AS operator_id,
       CASE WHEN op % 8 < 3 THEN op % 150 ELSE NULL END AS operator_group_id,
       1 + (hashint % 200000) AS generator_id,
       (200 + hashint % 9800)::bigint AS kg,
       CASE WHEN hashint % 100 = 0 THEN base / 5
            ELSE base + ((hashint / 7) % 2001 - 1000) * abs(base) / 4000
                      + (month_idx * abs(base) / 200) END AS price
  FROM (SELECT g, g % 12 AS month_idx,
               1 + (abs(hashtext(g::text)) % 400) AS op,
               abs(hashtext('x' || g::text)) AS hashint,
               CASE WHEN (g / 240) % 6 = 0 AND (g / 12) % 20 < 3 THEN -150000
                    ELSE 150000 + ((g / 12) % 20) * 20000 END AS base
          FROM generate_series(1, :n) AS g) s
"""

GROUPBY = """SELECT month, category, method, province, count(*), sum(kg), sum(price * kg)
               FROM obs GROUP BY month, category, method, province"""
MEDIAN = """SELECT month, category, method, province, count(*), sum(kg), sum(price * kg),
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY price)
              FROM obs GROUP BY month, category, method, province"""


def run(url: str, rows: int) -> tuple[float, float, int]:
    from market import create_app
    from market.prices.aggregate import aggregate
    from pricing import Config
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS obs"))
        t = time.perf_counter()
        conn.execute(text(FILL), {"n": rows})
        conn.execute(text("ANALYZE obs"))
        print(f"  filled {rows:,} rows in {time.perf_counter() - t:.1f}s", flush=True)
    config = Config(excluded_categories=frozenset({"HW01"}))
    app = create_app()
    timings = {"index": [], "groupby": [], "median": []}
    cells = 0
    with app.app_context():
        for _round in range(2):           # alternate, keep the best of two of each
            with engine.begin() as conn:
                t = time.perf_counter()
                conn.execute(text(GROUPBY)).fetchall()
                timings["groupby"].append(time.perf_counter() - t)
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL work_mem = '256MB'"))
                t = time.perf_counter()
                conn.execute(text(MEDIAN)).fetchall()
                timings["median"].append(time.perf_counter() - t)
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL work_mem = '256MB'"))
                t = time.perf_counter()
                result = aggregate(conn, "obs", config)
                timings["index"].append(time.perf_counter() - t)
                cells = len(result.stats)
    engine.dispose()
    return min(timings["index"]), min(timings["groupby"]), min(timings["median"]), cells


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    last = None
    with scratch_database(BENCH_DB, keep=args.keep) as url:
        for n in args.rows:
            index_s, groupby_s, median_s, cells = run(url, n)
            last = (n, index_s, groupby_s)
            print(f"rows={n:,} cells={cells:,} index {index_s:.2f}s, plain GROUP BY "
                  f"{groupby_s:.2f}s, ratio {index_s / groupby_s:.2f}; exact base-cell medians "
                  f"alone {median_s:.2f}s ({median_s / groupby_s:.1f}x the GROUP BY)", flush=True)
    n, index_s, groupby_s = last
    print(f"BENCH index rows={n} index_s={index_s:.2f} groupby_s={groupby_s:.2f} "
          f"ratio={index_s / groupby_s:.2f}")


if __name__ == "__main__":
    main()

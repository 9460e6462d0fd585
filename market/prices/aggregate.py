"""The index's heavy lifting inside PostgreSQL (pricing/METHODOLOGY.md §10).

``aggregate(conn, relation, config)`` reads observations from a relation with the columns

    line_id, month (date, first day), category, waste_code, method (a method group),
    province, city, operator_id, operator_group_id, generator_id, kg, price

and returns what pricing.compute() would: it flags robust-z outliers per base cell from the exact
median and MAD (sorted arrays, integer arithmetic: no float rounding), aggregates the kept lines
with GROUPING SETS over (month | quarter) × (method | all) × (province | national) per category,
then hands the cell rows to pricing.suppress() and pricing.build_index(), which need no lines.
tests/services/test_prices_sql.py checks that both paths agree.

The inputs hash of the SQL path is an order-independent fingerprint computed in the same scan as
the medians: sha256 of the line count and the sum of the first 60 bits of each line's md5
(``inputs_hash_sql``); the reference path hashes canonical JSON lines instead (pricing.hashing).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from pricing import (PRIMARY_RULES, CellKey, CellStats, Config, DataQuality, Outlier,
                     build_index, suppress)
from pricing.cells import cells_of
from pricing.config import METHODOLOGY_VERSION
from pricing.pipeline import PricingResult
from pricing.stats import PERCENTILES, div_half_even

METHOD_GROUP_SQL = """CASE WHEN {c} ~ '^R[0-9]+$' THEN 'R'
    WHEN {c} IN ('D10', 'D1', 'D9', 'C1') THEN {c} ELSE 'other' END"""

_LINE_TEXT = ("concat_ws('|', line_id, month, category, waste_code, method, province, city, "
              "operator_id, operator_group_id, generator_id, kg, price)")

# Per base cell: count, the doubled median, the fingerprint of its lines (every line, even of
# excluded categories), the MAD from the sorted absolute deviations of the cell's own sorted
# prices (no second scan of the lines), and from them the widest kept distance K: a line is an
# outlier exactly when |2·price − med2| > K (see pricing.stats.flag_outliers: left·d > right
# ⇔ d > right div left for integers d ≥ 0), so kept lines are a price range per cell.
_SCALE = """
CREATE TEMP TABLE price_scale ON COMMIT DROP AS
WITH c AS (
    SELECT month, category, method, province, count(*) AS n,
           array_agg(price ORDER BY price) AS p,
           sum(('x' || substr(md5({line}), 1, 15))::bit(60)::bigint) AS fp
      FROM {rel} GROUP BY month, category, method, province),
m AS (SELECT *, p[(n - 1) / 2 + 1] + p[n / 2 + 1] AS med2 FROM c),
d AS (SELECT m.month, m.category, m.method, m.province, m.n, m.fp, m.med2, dev.sorted,
             dev.total2
        FROM m, LATERAL (SELECT array_agg(abs(2 * x - m.med2) ORDER BY abs(2 * x - m.med2))
                                AS sorted, sum(abs(2 * x - m.med2))::numeric AS total2
                           FROM unnest(m.p) AS x) dev)
SELECT month, category, method, province, n, fp, med2, mad4, total2,
       CASE WHEN category = ANY(:excluded) THEN NULL
            WHEN mad4 > 0 THEN div(:mad_p * mad4::numeric, 2 * :mad_q)
            WHEN total2 > 0 THEN div(:mean_p * total2, n * :mean_q)
            ELSE NULL END AS k,
       category = ANY(:excluded) AS excluded
  FROM (SELECT *, sorted[(n - 1) / 2 + 1] + sorted[n / 2 + 1] AS mad4 FROM d) x
"""

_FLAG = "(s.k IS NOT NULL AND abs(2 * o.price - s.med2) > s.k)"

# The kept lines, once, with their period keys and contributor (a corporate group, else the
# operator), for the two aggregations that follow; keys in the "C" collation (byte order), so
# their sorts compare bytes instead of calling the locale.
_KEPT = """
CREATE TEMP TABLE price_kept ON COMMIT DROP AS
SELECT o.category COLLATE "C" AS category, to_char(o.month, 'YYYY-MM') COLLATE "C" AS mo,
       to_char(o.month, 'YYYY-"Q"Q') COLLATE "C" AS qu, o.method COLLATE "C" AS method,
       o.province COLLATE "C" AS province, o.operator_id, o.generator_id, o.kg, o.price,
       coalesce(2 * o.operator_group_id + 1, 2 * o.operator_id) AS contributor
  FROM {rel} o JOIN price_scale s USING (month, category, method, province)
 WHERE NOT s.excluded AND NOT {flag}
"""

_SETS = ("category, GROUPING SETS ((mo), (qu)), GROUPING SETS ((method), ()), "
         "GROUPING SETS ((province), ())")
_KEY = "category, coalesce(mo, qu) AS period, coalesce(method, '*') AS method, " \
       "coalesce(province, '*') AS region"


def _percentile_picks() -> tuple[str, list[tuple[str, int, int]]]:
    """SQL picking the two order statistics around each percentile, and how to combine them."""
    cols, how = [], []
    for name, f in PERCENTILES.items():
        a, b = f.numerator, f.denominator
        cols.append(f"p[(n - 1) * {a} / {b} + 1] AS {name}_lo, p[(n - 1) * {a} / {b} + 2] AS {name}_hi, "
                    f"((n - 1) * {a}) % {b} AS {name}_rem")
        how.append((name, a, b))
    return ", ".join(cols), how


_PICKS, _PICK_HOW = _percentile_picks()

_STATS = f"""
SELECT category, period, method, region, n, operators, groups, generators, kg, price_kg, neg,
       {_PICKS}
  FROM (SELECT {_KEY}, count(*) AS n, count(DISTINCT operator_id) AS operators,
               count(DISTINCT contributor) AS groups, count(DISTINCT generator_id) AS generators,
               sum(kg) AS kg, sum(price * kg) AS price_kg, min(price) < 0 AS neg,
               array_agg(price ORDER BY price) AS p
          FROM price_kept k GROUP BY {_SETS}) x
"""

def _contributors_sql() -> list[str]:
    """The two largest contributors' kilograms of every cell: contributor totals of the base
    cells once, then each of the eight roll-up levels as its own hash aggregate over those, then
    the largest (x1) and the second largest (x1 again when two tie, else the largest below x1)
    by hash aggregates — no sort. Intermediate tables are analysed, so the planner sizes its
    hash tables from real counts."""
    levels = []
    for period in ("mo", "qu"):
        for method in ("method", "'*'"):
            for region in ("province", "'*'"):
                levels.append(f"SELECT category, {period} AS period, "
                              f"{method} COLLATE \"C\" AS method, "
                              f"{region} COLLATE \"C\" AS region, contributor, sum(kg)::bigint AS kg "
                              f"FROM price_contrib GROUP BY 1, 2, 3, 4, 5")
    return [
        "CREATE TEMP TABLE price_contrib ON COMMIT DROP AS SELECT category, mo, qu, method, "
        "province, contributor, sum(kg)::bigint AS kg FROM price_kept GROUP BY 1, 2, 3, 4, 5, 6",
        "ANALYZE price_contrib",
        "CREATE TEMP TABLE price_contrib_cells ON COMMIT DROP AS " + " UNION ALL ".join(levels),
        "ANALYZE price_contrib_cells",
        "CREATE TEMP TABLE price_contrib_top ON COMMIT DROP AS SELECT category, period, method, "
        "region, max(kg) AS x1 FROM price_contrib_cells GROUP BY 1, 2, 3, 4",
        "ANALYZE price_contrib_top",
        "SELECT m.category, m.period, m.method, m.region, m.x1, "
        "CASE WHEN count(*) FILTER (WHERE l.kg = m.x1) > 1 THEN m.x1 "
        "ELSE coalesce(max(l.kg) FILTER (WHERE l.kg < m.x1), 0) END AS x2 "
        "FROM price_contrib_top m JOIN price_contrib_cells l "
        "USING (category, period, method, region) "
        "GROUP BY m.category, m.period, m.method, m.region, m.x1"]


_CONTRIBUTORS = _contributors_sql()

_OUTLIERS = """
SELECT o.line_id, o.month, o.category, o.method, o.province, o.price, s.n, s.med2, s.mad4, s.total2
  FROM {rel} o JOIN price_scale s USING (month, category, method, province)
 WHERE {flag}
"""


def _fraction_params(config: Config) -> dict:
    k_mad = Fraction(config.outlier_z) * Fraction(config.mad_scale)
    k_mean = Fraction(config.outlier_z) * Fraction(config.mean_ad_scale)
    return {"mad_p": k_mad.numerator, "mad_q": k_mad.denominator,
            "mean_p": k_mean.numerator, "mean_q": k_mean.denominator}


def _pick(lo: int, hi: int | None, rem: int, den: int) -> int:
    if rem == 0:
        return lo
    return div_half_even(lo * den + rem * (hi - lo), den)


def _outlier(row, config: Config) -> Outlier:
    key = CellKey(f"{row.month:%Y-%m}", row.category, row.method, row.province)
    d2 = abs(2 * row.price - row.med2)
    if row.mad4:
        how, scale = "mad", Fraction(config.mad_scale) * Fraction(row.mad4, 4)
    else:
        how = "mean_ad"
        scale = Fraction(config.mean_ad_scale) * Fraction(int(row.total2), 2 * row.n)
    z = Fraction(d2, 2) / scale
    return Outlier(row.line_id, key, row.price, div_half_even(row.med2, 2),
                   (Decimal(z.numerator) / Decimal(z.denominator)).quantize(
                       Decimal("0.01"), ROUND_HALF_EVEN), how)


def aggregate(conn: Connection, relation: str, config: Config,
              progress: Callable[[int, str], None] = lambda pct, what: None,
              work_mem_mb: int = 256) -> PricingResult:
    """Run the methodology over the observations in `relation` (a table, view or temp table).

    Runs inside the caller's transaction (its temporary table drops at commit)."""
    excluded = sorted(config.excluded_categories)
    params = {"excluded": excluded, **_fraction_params(config)}
    flag = _FLAG
    # Sorts and hash tables in memory rather than spilled to disk: one publication at a time.
    conn.execute(text(f"SET LOCAL work_mem = '{int(work_mem_mb)}MB'"))
    conn.execute(text("DROP TABLE IF EXISTS price_scale"))
    for table in ("price_kept", "price_contrib", "price_contrib_cells", "price_contrib_top"):
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    conn.execute(text(_SCALE.format(rel=relation, line=_LINE_TEXT)), params)
    conn.execute(text("ANALYZE price_scale"))
    progress(30, "medians")
    totals = conn.execute(text(
        "SELECT coalesce(sum(n), 0), coalesce(sum(fp), 0), "
        "coalesce(sum(n) FILTER (WHERE category = ANY(:excluded)), 0) FROM price_scale"),
        {"excluded": excluded}).one()
    n_lines, fingerprint, n_government = int(totals[0]), int(totals[1]), int(totals[2])
    outliers = sorted((_outlier(r, config) for r in conn.execute(
        text(_OUTLIERS.format(rel=relation, flag=flag)), params)), key=lambda x: x.line_id)
    flagged: Counter = Counter()
    for x in outliers:
        for key in cells_of(x.cell.period, x.cell.category, x.cell.method, x.cell.region):
            flagged[key] += 1
    progress(45, "outliers")
    conn.execute(text(_KEPT.format(rel=relation, flag=flag)))
    conn.execute(text("ANALYZE price_kept"))
    for statement in _CONTRIBUTORS[:-1]:
        conn.execute(text(statement))
    tops = {CellKey(r.period, r.category, r.method, r.region): (int(r.x1), int(r.x2))
            for r in conn.execute(text(_CONTRIBUTORS[-1]))}
    progress(60, "contributors")
    stats: dict[CellKey, CellStats] = {}
    for r in conn.execute(text(_STATS)):
        key = CellKey(r.period, r.category, r.method, r.region)
        m = r._mapping
        q = {name: _pick(m[f"{name}_lo"], m[f"{name}_hi"], m[f"{name}_rem"], b)
             for name, _a, b in _PICK_HOW}
        top = tops[key]
        price_kg, kg = int(r.price_kg), int(r.kg)
        stats[key] = CellStats(
            key=key, trades=r.n, operators=r.operators, operator_groups=r.groups,
            generators=r.generators, kg=kg, price_kg=price_kg, vwap=div_half_even(price_kg, kg),
            has_negative=r.neg, largest_group_kg=int(top[0]), second_group_kg=int(top[1]),
            outliers=flagged[key], **q)
    stats = dict(sorted(stats.items()))
    progress(75, "cells")
    disclosure = suppress(stats, config)
    index = build_index(stats, disclosure, config)
    progress(90, "index")
    by_rule = Counter(rule for d in disclosure.values() for rule in d.primary)
    quality = DataQuality(
        observations=n_lines,
        excluded={"government_priced": n_government, "outlier": len(outliers)},
        kept=n_lines - n_government - len(outliers), cells=len(stats),
        published=sum(1 for d in disclosure.values() if d.published),
        suppressed_primary=sum(1 for d in disclosure.values() if d.primary),
        suppressed_secondary=sum(1 for d in disclosure.values()
                                 if not d.published and not d.primary),
        primary_by_rule={rule: by_rule[rule] for rule in PRIMARY_RULES})
    return PricingResult(METHODOLOGY_VERSION, config.params_hash(),
                         inputs_hash_sql(n_lines, fingerprint), stats, disclosure,
                         tuple(outliers), (), index, quality)


def inputs_hash_sql(lines: int, fingerprint: int) -> str:
    return hashlib.sha256(f"sql-md5-sum/1:{lines}:{fingerprint}".encode()).hexdigest()


def p5_floors(conn: Connection, relation: str, first_month, last_month, excluded) -> dict[str, int]:
    """The 12-month p5 of every (category × method × province) and its roll-ups, whole fen/t
    (an alert floor: confidential, never published)."""
    rows = conn.execute(text(f"""
        SELECT category, coalesce(method, '*') AS method, coalesce(province, '*') AS region,
               percentile_cont(0.05) WITHIN GROUP (ORDER BY price) AS p5
          FROM {relation} WHERE month BETWEEN :a AND :b AND category <> ALL(:excluded)
         GROUP BY category, GROUPING SETS ((method, province), (method), (province), ())"""),
        {"a": first_month, "b": last_month, "excluded": sorted(excluded)})
    return {f"{r.category}/{r.method}/{r.region}": round(r.p5) for r in rows}


__all__ = ["aggregate", "p5_floors", "inputs_hash_sql", "METHOD_GROUP_SQL"]

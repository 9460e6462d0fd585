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
the medians: sha256 of the line count and the exact sum of every line's 64-bit row hash
(PostgreSQL's ``hash_record_extended`` of the whole observation row, seed 0), ``inputs_hash_sql``.
Summing makes it independent of row order; any changed field of any line changes it (up to
64-bit hash collisions). The row hash is the server's: a major PostgreSQL upgrade may change it,
and the next publication of a month then becomes a revision with the same numbers. The reference
path hashes canonical JSON lines instead (pricing.hashing).

Cost (bench/index.py): the lines are read three times — grouped by base cell (hash), joined to
their base cell to find outliers and to keep the rest (hash join on a few thousand cells), and
the kept lines (integer codes) aggregated over the eight levels by sorts, which exact medians,
percentiles and distinct counts need.
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
from pricing.cells import ALL, cells_of
from pricing.config import METHODOLOGY_VERSION
from pricing.pipeline import PricingResult
from pricing.stats import PERCENTILES, div_half_even

METHOD_GROUP_SQL = """CASE WHEN {c} ~ '^R[0-9]+$' THEN 'R'
    WHEN {c} IN ('D10', 'D1', 'D9', 'C1') THEN {c} ELSE 'other' END"""

# Per base cell: count, the doubled median, the fingerprint of its lines (every line, even of
# excluded categories), the MAD from the sorted absolute deviations of the cell's own sorted
# prices (no second scan of the lines), and from them the widest kept distance K: a line is an
# outlier exactly when |2·price − med2| > K (see pricing.stats.flag_outliers: left·d > right
# ⇔ d > right div left for integers d ≥ 0), so kept lines are a price range per cell.
# The lines are grouped by hashing (their prices gathered unsorted), then each cell's small array
# is sorted on its own: far cheaper than one ordered aggregate over all lines. Each base cell gets
# small integer codes (category, month, method, province) so the roll-ups below group and sort
# integers instead of text.
_SCALE = """
CREATE TEMP TABLE price_scale ON COMMIT DROP AS
WITH c AS (
    SELECT month, category, method, province, count(*) AS n, array_agg(price) AS raw,
           sum(hash_record_extended(o.*, 0)) AS fp
      FROM {rel} o GROUP BY month, category, method, province),
s AS (SELECT c.month, c.category, c.method, c.province, c.n, c.fp, srt.p
        FROM c, LATERAL (SELECT array_agg(x ORDER BY x) AS p FROM unnest(c.raw) AS x) srt),
m AS (SELECT *, p[(n - 1) / 2 + 1] + p[n / 2 + 1] AS med2 FROM s),
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
       category = ANY(:excluded) AS excluded,
       (extract(year FROM month) * 12 + extract(month FROM month) - 1)::int AS mo_i,
       (dense_rank() OVER (ORDER BY category COLLATE "C") - 1)::int AS cat_i,
       (dense_rank() OVER (ORDER BY method COLLATE "C") - 1)::int AS me_i,
       (dense_rank() OVER (ORDER BY province COLLATE "C") - 1)::int AS pr_i
  FROM (SELECT *, sorted[(n - 1) / 2 + 1] + sorted[n / 2 + 1] AS mad4 FROM d) x
"""

_FLAG = "(s.k IS NOT NULL AND abs(2 * o.price - s.med2) > s.k)"

# The kept lines, once, with their base cell's integer codes (the quarter is month div 3: months
# count from January of year 0) and contributor (a corporate group, else the operator).
_KEPT = """
CREATE TEMP TABLE price_kept ON COMMIT DROP AS
SELECT s.cat_i, s.mo_i, s.mo_i / 3 AS qu_i, s.me_i, s.pr_i, o.operator_id, o.generator_id,
       o.kg, o.price, coalesce(2 * o.operator_group_id + 1, 2 * o.operator_id) AS contributor
  FROM {rel} o JOIN price_scale s USING (month, category, method, province)
 WHERE NOT s.excluded AND NOT {flag}
"""

# The eight levels: (month | quarter) × (method | all) × (province | national), per category;
# a NULL code in a result row is the level's roll-up (the other period, all methods, national).
_SETS = ("cat_i, GROUPING SETS ((mo_i), (qu_i)), GROUPING SETS ((me_i), ()), "
         "GROUPING SETS ((pr_i), ())")
_LEVEL = "cat_i, mo_i, qu_i, me_i, pr_i"
# In a GROUPING SETS result a rolled-up code is NULL; -1 instead, so cells join on equality (hash).
_LEVEL_OUT = ("cat_i, coalesce(mo_i, -1) AS mo_i, coalesce(qu_i, -1) AS qu_i, "
              "coalesce(me_i, -1) AS me_i, coalesce(pr_i, -1) AS pr_i")


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

# Every cell's statistics and its two largest contributors' kilograms in one statement, sorted
# (no hash aggregate: the contributor totals of all eight levels, one row per cell and
# contributor, would not fit in memory): three sorts of the kept lines cover the eight grouping
# sets of each aggregate, and one sort of the contributor totals by cell and kilograms gives the
# largest (x1) and the second (x1 again when two tie; 0 without a second contributor), and the
# number of distinct contributors (one total each).
_CELLS = f"""
WITH st AS (
    SELECT {_LEVEL_OUT}, count(*) AS n, count(DISTINCT operator_id) AS operators,
           count(DISTINCT generator_id) AS generators,
           sum(kg) AS kg, sum(price * kg) AS price_kg, min(price) < 0 AS neg,
           array_agg(price ORDER BY price) AS p
      FROM price_kept GROUP BY {_SETS}),
ct AS (SELECT {_LEVEL_OUT}, sum(kg)::bigint AS kg FROM price_kept GROUP BY {_SETS}, contributor),
two AS (SELECT {_LEVEL}, count(*) AS groups, max(kg) FILTER (WHERE pos = 1) AS x1,
               coalesce(max(kg) FILTER (WHERE pos = 2), 0) AS x2
          FROM (SELECT {_LEVEL}, kg, row_number() OVER (PARTITION BY {_LEVEL} ORDER BY kg DESC)
                       AS pos FROM ct) r
         GROUP BY {_LEVEL})
SELECT {_LEVEL}, n, operators, groups, generators, kg, price_kg, neg, x1, x2, {_PICKS}
  FROM st JOIN two USING ({_LEVEL})
"""

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


def _codes(conn: Connection) -> dict[str, dict[int, str]]:
    """The base cells' integer codes back to their names (category, method, province)."""
    names: dict[str, dict[int, str]] = {"cat": {}, "me": {}, "pr": {}}
    for r in conn.execute(text("SELECT DISTINCT cat_i, category, me_i, method, pr_i, province "
                               "FROM price_scale")):
        names["cat"][r.cat_i], names["me"][r.me_i], names["pr"][r.pr_i] = \
            r.category, r.method, r.province
    return names


def _key(row, names: dict[str, dict[int, str]]) -> CellKey:
    """A result row's cell: month or quarter codes count from January of year 0; -1 is a roll-up."""
    if row.mo_i >= 0:
        period = f"{row.mo_i // 12:04d}-{row.mo_i % 12 + 1:02d}"
    else:
        period = f"{row.qu_i // 4:04d}-Q{row.qu_i % 4 + 1}"
    return CellKey(period, names["cat"][row.cat_i],
                   ALL if row.me_i < 0 else names["me"][row.me_i],
                   ALL if row.pr_i < 0 else names["pr"][row.pr_i])


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
    # No JIT: compiling the expressions of these statements costs more than it saves here; no
    # merge join: the lines meet their base cells (a few thousand rows) in a hash table.
    conn.execute(text(f"SET LOCAL work_mem = '{int(work_mem_mb)}MB'"))
    conn.execute(text("SET LOCAL jit = off"))
    conn.execute(text("SET LOCAL enable_mergejoin = off"))
    for table in ("price_scale", "price_kept"):
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    conn.execute(text(_SCALE.format(rel=relation)), params)
    conn.execute(text("ANALYZE price_scale"))
    progress(30, "medians")
    totals = conn.execute(text(
        "SELECT coalesce(sum(n), 0), coalesce(sum(fp), 0), "
        "coalesce(sum(n) FILTER (WHERE category = ANY(:excluded)), 0) FROM price_scale"),
        {"excluded": excluded}).one()
    n_lines, fingerprint, n_government = int(totals[0]), int(totals[1]), int(totals[2])
    names = _codes(conn)
    outliers = sorted((_outlier(r, config) for r in conn.execute(
        text(_OUTLIERS.format(rel=relation, flag=flag)), params)), key=lambda x: x.line_id)
    flagged: Counter = Counter()
    for x in outliers:
        for key in cells_of(x.cell.period, x.cell.category, x.cell.method, x.cell.region):
            flagged[key] += 1
    progress(45, "outliers")
    conn.execute(text(_KEPT.format(rel=relation, flag=flag)))
    conn.execute(text("ANALYZE price_kept"))
    progress(60, "kept lines")
    stats: dict[CellKey, CellStats] = {}
    conn.execute(text("SET LOCAL enable_hashagg = off"))
    conn.execute(text(f"SET LOCAL work_mem = '{2 * int(work_mem_mb)}MB'"))
    rows = conn.execute(text(_CELLS)).all()
    conn.execute(text(f"SET LOCAL work_mem = '{int(work_mem_mb)}MB'"))
    conn.execute(text("SET LOCAL enable_hashagg = on"))
    for r in rows:
        key = _key(r, names)
        m = r._mapping
        q = {name: _pick(m[f"{name}_lo"], m[f"{name}_hi"], m[f"{name}_rem"], b)
             for name, _a, b in _PICK_HOW}
        price_kg, kg = int(r.price_kg), int(r.kg)
        stats[key] = CellStats(
            key=key, trades=r.n, operators=r.operators, operator_groups=r.groups,
            generators=r.generators, kg=kg, price_kg=price_kg, vwap=div_half_even(price_kg, kg),
            has_negative=r.neg, largest_group_kg=int(r.x1), second_group_kg=int(r.x2),
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
    return hashlib.sha256(f"sql-row-hash-sum/2:{lines}:{fingerprint}".encode()).hexdigest()


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

"""Settled disposal lines as index observations (DESIGN.md §7), read in SQL.

One row per disposal line of a settled order: the month its waste was received (the last received
manifest, Asia/Shanghai), the order's category and code, the method group of that manifest's
method code, the generator's province and city, the operator, the generator, the accepted
kilograms of the settlement and the line's unit price, and the operator's corporate group
(``operator_group_id``, NULL when it stands alone: market/accounts/groups.py).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from market.prices.aggregate import METHOD_GROUP_SQL

RELATION = "price_observation"

OBSERVATIONS_SQL = f"""
SELECT ol.id AS line_id,
       date_trunc('month', m.received_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       o.category_code AS category, o.waste_code,
       {METHOD_GROUP_SQL.format(c='m.method_code')} AS method,
       substr(g.region_code, 1, 2) AS province, substr(g.region_code, 1, 4) AS city,
       o.operator_id, op.corporate_group_id AS operator_group_id, o.generator_id,
       s.accepted_kg AS kg, ol.unit_price_fen_per_t AS price
  FROM order_line ol
  JOIN trade_order o ON o.id = ol.order_id
  JOIN settlement s ON s.order_id = o.id AND s.status = 'settled'
  JOIN organisation g ON g.id = o.generator_id
  JOIN organisation op ON op.id = o.operator_id
  JOIN LATERAL (SELECT mf.received_at, mf.method_code FROM manifest mf
                 WHERE mf.order_id = o.id AND mf.received_at IS NOT NULL
                 ORDER BY mf.received_at DESC, mf.id DESC LIMIT 1) m ON true
 WHERE ol.kind = 'disposal' AND s.accepted_kg > 0
"""


def load(conn: Connection, up_to: date) -> str:
    """Materialise the observations received up to the end of month `up_to` into a temporary
    table (dropped at commit); return its name."""
    conn.execute(text(f"DROP TABLE IF EXISTS {RELATION}"))
    conn.execute(text(f"CREATE TEMP TABLE {RELATION} ON COMMIT DROP AS "
                      f"SELECT * FROM ({OBSERVATIONS_SQL}) x WHERE month <= :up_to"),
                 {"up_to": up_to})
    conn.execute(text(f"ANALYZE {RELATION}"))
    return RELATION

"""The regulators' settlement feed: every settled order line in the region, with its parties,
waste codes, kilograms, prices, amounts and manifest numbers (DESIGN.md §8), as JSON rows or CSV.

A line is in the feed when its order settled within [date_from, date_to] (days in Asia/Shanghai)
and the order lies in the regulator's region. Amounts come from the settlement's own rows, and
released_fen from the escrow movements that posted the releases, so the feed agrees with the
ledger to the fen (tests/services/test_oversight_feed.py checks it against the postings).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from market import db
from market.accounts.models import Organisation
from market.escrow.models import Movement
from market.manifests.models import Manifest
from market.orders.models import Order, OrderLine
from market.region_scope import order_in_region
from market.settlement.models import Settlement, SettlementLine

TZ = ZoneInfo("Asia/Shanghai")
COLUMNS = ("id", "order_number", "settled_at", "kind", "category", "waste_code",
           "generator_id", "generator_name", "generator_credit_code", "generator_region",
           "operator_id", "operator_name", "operator_credit_code", "operator_region",
           "pickup_region", "payer_id", "payer_name", "payee_id", "payee_name",
           "accepted_kg", "unit_price_fen_per_t", "value_fen", "fee_fen", "retained_fen",
           "released_fen", "manifest_numbers")
# A spreadsheet runs a cell that begins with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def day_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of date_from, start of the day after date_to) in Asia/Shanghai."""
    return (datetime.combine(date_from, time(), TZ),
            datetime.combine(date_to + timedelta(days=1), time(), TZ))


def settlements_query(prefix: str | None) -> Select:
    """A select of the settled settlements in the region: the change feed's base (a settlement
    comes again, with all its lines, when it or one of its lines changes)."""
    stmt = (select(Settlement).join(Order, Order.id == Settlement.order_id)
            .where(Settlement.status == "settled"))
    return stmt if prefix is None else stmt.where(order_in_region(prefix))


def feed_rows(prefix: str | None, date_from: date | None, date_to: date | None, *,
              after_id: int | None = None, limit: int | None = None,
              settlement_ids: list[int] | None = None) -> list[dict]:
    """Settled lines in the range (or of the given settlements), by settlement line id; prefix
    None is every region (staff)."""
    gen, op, payer, payee = (aliased(Organisation) for _ in range(4))
    released = (select(func.coalesce(func.sum(Movement.value_fen), 0))
                .where(Movement.kind == "release", Movement.line_id == SettlementLine.line_id)
                .correlate(SettlementLine).scalar_subquery())
    manifests = (select(func.array_agg(aggregate_order_by(Manifest.number, Manifest.number)))
                 .where(Manifest.order_id == Order.id, Manifest.status != "cancelled")
                 .correlate(Order).scalar_subquery())
    stmt = (select(SettlementLine.id, Order.number, Settlement.settled_at, SettlementLine.kind,
                   Order.category_code, Order.waste_code,
                   gen.id, gen.name, gen.credit_code, gen.region_code,
                   op.id, op.name, op.credit_code, op.region_code, Order.region_code,
                   payer.id, payer.name, payee.id, payee.name,
                   Settlement.accepted_kg, OrderLine.unit_price_fen_per_t, SettlementLine.value_fen,
                   SettlementLine.fee_fen, SettlementLine.retained_fen, released, manifests)
            .join(Settlement, Settlement.id == SettlementLine.settlement_id)
            .join(OrderLine, OrderLine.id == SettlementLine.line_id)
            .join(Order, Order.id == Settlement.order_id)
            .join(gen, gen.id == Order.generator_id).join(op, op.id == Order.operator_id)
            .join(payer, payer.id == SettlementLine.payer_org_id)
            .join(payee, payee.id == SettlementLine.payee_org_id)
            .where(Settlement.status == "settled")
            .order_by(SettlementLine.id))
    if date_from is not None and date_to is not None:
        start, end = day_bounds(date_from, date_to)
        stmt = stmt.where(and_(Settlement.settled_at >= start, Settlement.settled_at < end))
    if settlement_ids is not None:
        stmt = stmt.where(Settlement.id.in_(settlement_ids))
    if prefix is not None:
        stmt = stmt.where(order_in_region(prefix))
    if after_id is not None:
        stmt = stmt.where(SettlementLine.id > after_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    for row in db.session.execute(stmt):
        item = dict(zip(COLUMNS, row))
        item["settled_at"] = item["settled_at"].astimezone(TZ).isoformat()
        item["manifest_numbers"] = list(item["manifest_numbers"] or [])
        item["released_fen"] = int(item["released_fen"])
        out.append(item)
    return out


def neutralise(value) -> str:
    """A CSV cell that no spreadsheet runs: text beginning with = + - @ gets a leading quote.
    Numbers (negative prices included) stay numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = " ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def feed_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for row in rows:
        w.writerow([neutralise(row[c]) for c in COLUMNS])
    # A BOM so that Excel opens the Chinese names as UTF-8.
    return "\ufeff" + buf.getvalue()

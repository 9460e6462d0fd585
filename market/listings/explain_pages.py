"""Explanations at national scale: the operators excluded from a request, nearest first, a page
at a time.

Judging every operator on the platform (matches(explain=True)) reads all of them with their
licences: about a second at 10,000 operators. A page orders the operators by an estimate of their
distance from the pickup in one light query over organisations alone (those without coordinates
last; without the pickup's coordinates, the same city, then the same province, first), then
judges them a batch at a time with the same facts and rules as matching, keeping the excluded ones
(optionally those failing one rule) until the page is full. The cursor is the (distance key, id)
of the last operator judged, so the next page goes on from there.
"""
from __future__ import annotations

import math
from decimal import Decimal
from dataclasses import dataclass

from sqlalchemy import Float, case, cast, func, literal, select, tuple_

from market import db
from market.accounts.models import Organisation
from market.listings.matching import Exclusion, RequestFacts, haversine_km, match
from market.listings.queries import _is_operator, candidate_facts

NO_COORDINATES = 1e12  # sorts operators without coordinates after every located one
MAX_BATCHES = 20
START_RADIUS_DEG, MAX_RADIUS_DEG = 0.5, 40.0


@dataclass(frozen=True)
class ExclusionPage:
    items: list[tuple[Exclusion, float | None]]   # (exclusion, distance km or None)
    next: tuple[float, int] | None


def _distance_key(facts: RequestFacts):
    if facts.coordinates is None:
        r = facts.region_code
        return case((Organisation.region_code.startswith(r[:4]), 0.0),
                    (Organisation.region_code.startswith(r[:2]), 1.0), else_=2.0)
    lat, lon = facts.coordinates
    k = math.cos(math.radians(lat))
    dlat = Organisation.latitude - lat
    dlon = (Organisation.longitude - lon) * k
    # Squared equirectangular distance in degrees: the order of true distances at these scales.
    return func.coalesce(cast(dlat * dlat + dlon * dlon, Float), literal(NO_COORDINATES))


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.6f}")


def _nearest(facts: RequestFacts, after: tuple[float, int] | None, n: int) -> list[tuple[int, float]]:
    key = _distance_key(facts).label("key")
    base = select(Organisation.id, key).where(_is_operator())
    if after is not None:
        base = base.where(tuple_(key, Organisation.id) > tuple_(literal(after[0], Float),
                                                               literal(after[1])))
    if facts.coordinates is not None:
        # Widening circles: every operator within radius r lies in the box around the pickup,
        # so the nearest ones inside r come in their true order without sorting the whole land.
        lat, lon = facts.coordinates
        k = max(math.cos(math.radians(lat)), 0.01)
        r = max(START_RADIUS_DEG, math.sqrt(after[0]) * 1.25 if after and after[0] < NO_COORDINATES else 0)
        while r < MAX_RADIUS_DEG:
            # Decimal bounds: the columns are numeric, and a float would cast them (no index).
            stmt = base.where(Organisation.latitude.between(_dec(lat - r), _dec(lat + r)),
                              Organisation.longitude.between(_dec(lon - r / k), _dec(lon + r / k)),
                              key <= r * r)
            rows = db.session.execute(stmt.order_by(key, Organisation.id).limit(n)).all()
            if len(rows) == n:
                return [(i, float(d)) for i, d in rows]
            r *= 3
    return [(i, float(d)) for i, d in
            db.session.execute(base.order_by(key, Organisation.id).limit(n)).all()]


def excluded_page(facts: RequestFacts, *, after: tuple[float, int] | None = None,
                  limit: int = 20, rule: str | None = None) -> ExclusionPage:
    """Up to `limit` excluded operators nearest the pickup after the cursor (of one rule, if given)."""
    batch = limit + 10  # nearly every operator near the pickup that does not qualify is excluded
    found: list[tuple[Exclusion, float | None]] = []
    position = after
    for _round in range(MAX_BATCHES):
        ids = _nearest(facts, position, batch)
        if not ids:
            return ExclusionPage(found, None)
        cands = candidate_facts(facts, operator_ids=[i for i, _k in ids], exclusions_only=True)
        _qualified, excluded = match(facts, cands)
        by_id = {e.operator_id: e for e in excluded}
        where = {c.operator_id: c.coordinates for c in cands}
        for org_id, key in ids:
            position = (key, org_id)
            e = by_id.get(org_id)
            if e is None or (rule is not None and e.rule != rule):
                continue
            km = (round(haversine_km(facts.coordinates, where[org_id]), 1)
                  if facts.coordinates is not None and where.get(org_id) is not None else None)
            found.append((e, km))
            if len(found) == limit:
                return ExclusionPage(found, position)
        if len(ids) < batch:
            return ExclusionPage(found, None)
    return ExclusionPage(found, position)

"""Which licensed operators may lawfully and physically take a disposal request (DESIGN.md §5).

Pure: no Flask, no SQLAlchemy. `queries.candidate_facts` loads the facts; `match` decides.

Rules, checked in this order; an excluded operator carries the FIRST rule it fails:

1. ``org_suspended`` / ``org_blacklisted`` / ``org_not_verified`` — the organisation is verified,
   not suspended, and not blacklisted by a regulator (a sanction in force today or on the wanted
   date);
2. ``licence_not_valid`` — a licence of the operator is verified and valid on the wanted date
   (the request's window_start);
3. ``category_not_covered`` — an item of that licence covers the request's category;
4. ``code_not_covered`` — where the item lists codes and the request names one, the code is listed;
5. ``operation_not_allowed`` — the item allows 利用 or 处置, or 收集 when the request is a small lot;
6. ``capacity_exhausted`` — the item's remaining capacity for the year (approved − active
   reservations − received beyond reservations) is at least the requested quantity;
7. ``region_not_served`` — one of the operator's service-region prefixes is a prefix of the
   pickup region code.

Rules 2–6 are judged per licence item. An operator qualifies through its best item: among the items
passing 2–6, the one with the preferred method group, then the most remaining capacity. When no
item passes, the operator is excluded with the rule at which its furthest-reaching item failed
(an operator without any licence fails ``licence_not_valid``).

Score (0–100, higher is better) of a qualified operator::

    score = 100 × (W_DISTANCE·distance + W_PRICE·price + W_ON_TIME·on_time + W_CREDIT·credit)

each component in [0, 1]:

- distance = 1 / (1 + km / DISTANCE_HALF_KM), km by haversine between the pickup point and the
  operator; when either point is unknown the component is NEUTRAL (0.5, as if 100 km away) —
  never 0 km, which would reward operators for hiding their location;
- price = 1 / (1 + (total − best) / scale), where total is the storefront's cost of the requested
  quantity (unit price × kg / 1000 + transport fee, integer fen), best the lowest total among the
  qualified operators and scale = max(|best|, PRICE_SCALE_FLOOR_FEN); the cheapest scores 1, one
  twice as expensive 0.5; no standing offer → NEUTRAL;
- on_time = share of the operator's shipped manifests picked up on time (market.reviews.policies:
  shipped no later than ON_TIME_GRACE after the planned pickup); none shipped yet → NEUTRAL;
- credit = organisation credit score / 100, clamped to [0, 1]; unknown → NEUTRAL.

Ties are broken by remaining capacity (more first), then operator id.

Besides its reasons, each match carries its track record (`Match.record`): the on-time rate over
its shipped manifests and the mean score and count of the reviews generators gave it, or that
neither is measured yet. The record informs; only the on-time rate enters the score.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from market.money import line_amount_fen

W_DISTANCE = 0.40
W_PRICE = 0.35
W_ON_TIME = 0.15
W_CREDIT = 0.10
NEUTRAL = 0.5
DISTANCE_HALF_KM = 100.0
PRICE_SCALE_FLOOR_FEN = 100_000  # ¥1,000: keeps the price component sane when best is ~0 or < 0
EARTH_RADIUS_KM = 6371.0088

DISPOSAL_OPERATIONS = frozenset({"利用", "处置"})
SMALL_LOT_OPERATIONS = DISPOSAL_OPERATIONS | {"收集"}
METHOD_GROUPS = ("R", "D10", "D1", "D9", "C1", "other")

RULES = ("org_suspended", "org_blacklisted", "org_not_verified", "licence_not_valid", "category_not_covered",
         "code_not_covered", "operation_not_allowed", "capacity_exhausted", "region_not_served")
# Per-item rules in the order they are judged; the index is how far an item got.
_ITEM_RULES = ("licence_not_valid", "category_not_covered", "code_not_covered",
               "operation_not_allowed", "capacity_exhausted")


@dataclass(frozen=True)
class RequestFacts:
    category: str
    code: str | None
    quantity_kg: int
    region_code: str
    wanted_on: date
    small_lot: bool = False
    coordinates: tuple[float, float] | None = None
    method_group: str | None = None


# ItemFacts and CandidateFacts are named tuples rather than frozen dataclasses: matching builds
# hundreds of each per request, and a frozen dataclass costs three times as much to construct.
class ItemFacts(NamedTuple):
    """A licence item with its licence's validity and its capacity use for the wanted year."""
    item_id: int
    licence_id: int
    licence_number: str
    licence_status: str
    valid_from: date
    valid_to: date
    category: str
    codes: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    approved_kg: int = 0
    reserved_kg: int = 0
    received_kg: int = 0  # received beyond reservations (off-platform deliveries)

    @property
    def remaining_kg(self) -> int:
        return self.approved_kg - self.reserved_kg - self.received_kg


class CandidateFacts(NamedTuple):
    operator_id: int
    name: str
    verified: bool
    suspended: bool = False
    blacklisted: bool = False
    coordinates: tuple[float, float] | None = None
    items: tuple[ItemFacts, ...] = ()
    service_prefixes: tuple[str, ...] = ()
    storefront_price_fen_per_t: int | None = None
    storefront_transport_fen: int = 0
    on_time_rate: float | None = None
    on_time_manifests: int = 0        # shipped manifests the rate is measured over
    review_average: float | None = None
    review_count: int = 0
    credit_score: int | None = None


@dataclass(frozen=True)
class Reason:
    rule: str
    params: dict = field(default_factory=dict)


@dataclass
class Match:
    operator_id: int
    operator_name: str
    licence_item_id: int
    remaining_kg: int
    score: float
    distance_km: float | None
    storefront_total_fen: int | None
    components: dict
    basis: tuple = field(default=(), repr=False, compare=False)  # (request, item, prefix)
    record: tuple = field(default=(), compare=False)  # track record: Reasons, see record_for()

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Why it qualifies, one Reason per rule; built on demand (ranking rarely reads them all)."""
        return reasons_for(*self.basis)


@dataclass(frozen=True)
class Exclusion:
    operator_id: int
    operator_name: str
    rule: str
    params: dict = field(default_factory=dict)


def method_group_of(method_code: str) -> str:
    """The price-index method group of a method code: every R* is R; D10, D1, D9, C1; else other."""
    if method_code.startswith("R"):
        return "R"
    return method_code if method_code in METHOD_GROUPS else "other"


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def allowed_operations(small_lot: bool) -> frozenset[str]:
    return SMALL_LOT_OPERATIONS if small_lot else DISPOSAL_OPERATIONS


def _item_stage(req: RequestFacts, item: ItemFacts) -> int:
    """How many per-item rules the item passes, in order (len(_ITEM_RULES) = all)."""
    if not (item.licence_status == "verified" and item.valid_from <= req.wanted_on <= item.valid_to):
        return 0
    if item.category != req.category:
        return 1
    if item.codes and req.code is not None and req.code not in item.codes:
        return 2
    if not allowed_operations(req.small_lot) & set(item.operations):
        return 3
    if item.remaining_kg < req.quantity_kg:
        return 4
    return 5


def item_problem(req: RequestFacts, item: ItemFacts) -> str | None:
    """The first per-item rule (2–6) the licence item fails for the request, or None."""
    stage = _item_stage(req, item)
    return None if stage == len(_ITEM_RULES) else _ITEM_RULES[stage]


def _offers_group(req: RequestFacts, item: ItemFacts) -> bool:
    return bool(req.method_group) and any(method_group_of(m) == req.method_group
                                          for m in item.methods)


def _best_item(req: RequestFacts, items: tuple[ItemFacts, ...]) -> tuple[ItemFacts | None, int]:
    """The qualifying item to use (or None) and the furthest stage any item reached."""
    best, best_key, furthest = None, None, 0
    for item in items:
        stage = _item_stage(req, item)
        furthest = max(furthest, stage)
        if stage == len(_ITEM_RULES):
            key = (_offers_group(req, item), item.remaining_kg, -item.item_id)
            if best_key is None or key > best_key:
                best, best_key = item, key
    return best, furthest


def _served_by(req: RequestFacts, prefixes: tuple[str, ...]) -> str | None:
    matching = [p for p in prefixes if p and req.region_code.startswith(p)]
    return max(matching, key=len) if matching else None


def _exclude(c: CandidateFacts, rule: str, **params) -> Exclusion:
    return Exclusion(c.operator_id, c.name, rule, params)


def evaluate(req: RequestFacts, c: CandidateFacts) -> tuple[ItemFacts, str] | Exclusion:
    """Judge one candidate: (item to use, served prefix) when it qualifies, else an Exclusion."""
    if c.suspended:
        return _exclude(c, "org_suspended")
    if c.blacklisted:
        return _exclude(c, "org_blacklisted")
    if not c.verified:
        return _exclude(c, "org_not_verified")
    item, furthest = _best_item(req, c.items)
    if item is None:
        rule = _ITEM_RULES[furthest]
        params = {"quantity_kg": req.quantity_kg} if rule == "capacity_exhausted" else {}
        if rule == "capacity_exhausted":
            params["remaining_kg"] = max(i.remaining_kg for i in c.items
                                         if _item_stage(req, i) == furthest)
        return _exclude(c, rule, **params)
    prefix = _served_by(req, c.service_prefixes)
    if prefix is None:
        return _exclude(c, "region_not_served", region_code=req.region_code)
    return item, prefix


def reasons_for(req: RequestFacts, item: ItemFacts, prefix: str) -> tuple[Reason, ...]:
    """The reasons a candidate qualifies through `item`, one per rule it passed."""
    ops = sorted(allowed_operations(req.small_lot) & set(item.operations))
    reasons = [Reason("org_verified"),
               Reason("licence_valid", {"licence": item.licence_number,
                                        "valid_to": item.valid_to.isoformat()}),
               Reason("category_covered", {"category": req.category})]
    if req.code is not None:
        reasons.append(Reason("code_covered", {"code": req.code, "listed": bool(item.codes)}))
    reasons += [Reason("operation_allowed", {"operations": ops}),
                Reason("capacity_available", {"remaining_kg": item.remaining_kg}),
                Reason("region_served", {"prefix": prefix})]
    if _offers_group(req, item):
        reasons.append(Reason("method_group_offered", {"group": req.method_group}))
    return tuple(reasons)


def record_for(c: CandidateFacts) -> tuple[Reason, ...]:
    """The candidate's track record: on-time rate over its shipped manifests, and its reviews."""
    on_time = (Reason("on_time_record", {"rate": c.on_time_rate, "manifests": c.on_time_manifests})
               if c.on_time_rate is not None else Reason("on_time_not_measured"))
    reviews = (Reason("reviews", {"average": c.review_average, "count": c.review_count})
               if c.review_count else Reason("no_reviews"))
    return on_time, reviews


def storefront_total_fen(req: RequestFacts, c: CandidateFacts) -> int | None:
    if c.storefront_price_fen_per_t is None:
        return None
    return line_amount_fen(c.storefront_price_fen_per_t, req.quantity_kg) + c.storefront_transport_fen


def distance_component(km: float | None) -> float:
    return NEUTRAL if km is None else 1.0 / (1.0 + km / DISTANCE_HALF_KM)


def price_component(total: int | None, best: int | None) -> float:
    if total is None or best is None:
        return NEUTRAL
    scale = max(abs(best), PRICE_SCALE_FLOOR_FEN)
    return 1.0 / (1.0 + (total - best) / scale)


def rate_component(rate: float | None) -> float:
    return NEUTRAL if rate is None else min(1.0, max(0.0, float(rate)))


def credit_component(score: int | None) -> float:
    return NEUTRAL if score is None else min(1.0, max(0.0, score / 100))


def combine(distance: float, price: float, on_time: float, credit: float) -> float:
    return round(100 * (W_DISTANCE * distance + W_PRICE * price + W_ON_TIME * on_time
                        + W_CREDIT * credit), 2)


def match(req: RequestFacts, candidates) -> tuple[list[Match], list[Exclusion]]:
    """Qualified candidates ranked by score, and the excluded ones with their first failing rule."""
    passed, excluded = [], []
    for c in candidates:
        outcome = evaluate(req, c)
        if isinstance(outcome, Exclusion):
            excluded.append(outcome)
        else:
            passed.append((c, *outcome))
    totals = {c.operator_id: storefront_total_fen(req, c) for c, *_ in passed}
    known = [t for t in totals.values() if t is not None]
    best = min(known) if known else None
    matches = []
    for c, item, prefix in passed:
        km = (haversine_km(req.coordinates, c.coordinates)
              if req.coordinates is not None and c.coordinates is not None else None)
        parts = {"distance": distance_component(km),
                 "price": price_component(totals[c.operator_id], best),
                 "on_time": rate_component(c.on_time_rate),
                 "credit": credit_component(c.credit_score)}
        matches.append(Match(c.operator_id, c.name, item.item_id, item.remaining_kg,
                             combine(**parts), None if km is None else round(km, 1),
                             totals[c.operator_id], parts, (req, item, prefix), record_for(c)))
    matches.sort(key=lambda m: (-m.score, -m.remaining_kg, m.operator_id))
    excluded.sort(key=lambda e: e.operator_id)
    return matches, excluded

"""Read helpers of the marketplace pages: who may see a request or a shop, shop facts, offer search.

Read-only: nothing here writes. Matching itself stays in queries.py and matching.py.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select

from market import db
from market.accounts.models import Licence, Organisation, User
from market.accounts.policies import region_in_scope
from market.catalog.models import Region, WasteCategory, WasteCode
from market.errors import NotFound
from market.listings import capacity
from market.listings.explain import reason_message, rule_message
from market.listings.matching import Exclusion, haversine_km, reasons_for
from market.listings.models import DisposalRequest, Quote, ServiceArea, StorefrontOffer
from market.listings.queries import judge_operator, request_facts
from market.listings.validation import today
from market.orders.models import Order
from market.oversight.sanctions import blacklist_in_force
from market.region_scope import order_in_region, request_covered
from market.reviews.queries import record_of
from market.web.security import get_visible

# An operator licensed for the request's category sees it even when a later rule excludes it, so
# it learns why it cannot quote; rules before these mean it has no business with the request.
_LICENSED_FOR_CATEGORY = {"code_not_covered", "operation_not_allowed", "capacity_exhausted",
                          "region_not_served"}
# Orders in these states count as completed for the shop's track record.
COMPLETED_ORDER_STATUSES = ("settled", "closed")


def _not_found(what: str = "") -> NotFound:
    return NotFound(_("No such request.") if what == "request" else _("Not found."))


# --- requests -------------------------------------------------------------------------------------

def visible_request(user: User, request_id: int) -> tuple[DisposalRequest, str]:
    """The request and how the user relates to it (owner, operator, regulator, platform), or 404."""
    if user.is_platform:
        return get_visible(DisposalRequest, request_id, user,
                           org_column=DisposalRequest.generator_id), "platform"
    if user.is_regulator:
        if not request_covered(user.org.scope_prefix, request_id):
            raise _not_found("request")
        return db.session.get(DisposalRequest, request_id), "regulator"
    req = db.session.get(DisposalRequest, request_id)
    if req is None:
        raise _not_found("request")
    if req.generator_id == user.org_id:
        return req, "owner"
    if user.org.has_type("operator") and req.status != "draft":
        quoted = db.session.scalar(select(exists().where(Quote.request_id == req.id,
                                                         Quote.operator_id == user.org_id)))
        if quoted:
            return req, "operator"
        if req.status == "open":
            outcome = judge_operator(request_facts(req), user.org_id)
            if not isinstance(outcome, Exclusion) or outcome.rule in _LICENSED_FOR_CATEGORY:
                return req, "operator"
    raise _not_found("request")


def operator_standing(req: DisposalRequest, org_id: int) -> dict:
    """Whether the operator may quote on the request: its reasons, or the rule that stops it."""
    facts = request_facts(req)
    outcome = judge_operator(facts, org_id)
    if isinstance(outcome, Exclusion):
        return {"qualifies": False, "rule": outcome.rule, "message": rule_message(outcome.rule, outcome.params)}
    item, prefix = outcome
    return {"qualifies": True, "reasons": [reason_message(r) for r in reasons_for(facts, item, prefix)]}


def live_quote_counts(request_ids) -> dict[int, int]:
    """Submitted quotes per request, for lists."""
    if not request_ids:
        return {}
    rows = db.session.execute(select(Quote.request_id, func.count()).where(
        Quote.request_id.in_(list(request_ids)), Quote.status == "submitted").group_by(Quote.request_id))
    return dict(rows.all())


def order_of_request(req: DisposalRequest) -> Order | None:
    return db.session.scalar(select(Order).where(Order.request_id == req.id).order_by(Order.id.desc()))


def category_of_code(code: str) -> str | None:
    wc = db.session.get(WasteCode, code.strip())
    return wc.category_code if wc else None


def search_waste_codes(q: str, limit: int = 50) -> list[WasteCode]:
    """Codes whose code, description, category code or category name (Chinese) contains q."""
    stmt = select(WasteCode).order_by(WasteCode.code).limit(limit)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        in_named = select(WasteCategory.code).where(  # the Chinese or the English name
            or_(WasteCategory.name_zh.ilike(like), WasteCategory.name_en.ilike(like)))
        stmt = stmt.where(or_(WasteCode.code.ilike(like), WasteCode.description.ilike(like),
                              WasteCode.category_code.ilike(like), WasteCode.category_code.in_(in_named)))
    return list(db.session.scalars(stmt))


def region_names(codes) -> dict[str, str]:
    """Region code or prefix → name, padding 2- and 4-digit prefixes to their region's code."""
    wanted = {c: (c + "0000")[:6] for c in codes if c}
    if not wanted:
        return {}
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_(set(wanted.values())))).all())
    return {c: names.get(full, "") for c, full in wanted.items()}


# --- shops ----------------------------------------------------------------------------------------

def _open_shop_clause():
    """SQL: the organisation is a verified operator holding a verified licence valid today."""
    day = today()
    return (Organisation.kind == "enterprise") & Organisation.types.contains(["operator"]) & \
        (Organisation.status == "verified") & exists().where(
            Licence.org_id == Organisation.id, Licence.status == "verified",
            Licence.valid_from <= day, Licence.valid_to >= day)


def shop_visible(user: User, org: Organisation) -> bool:
    """Owners, platform staff and regulators of the region see any shop; others only open ones."""
    if not org.has_type("operator"):
        return False
    if user.is_platform or org.id == user.org_id:
        return True
    if user.is_regulator:
        prefix = user.org.scope_prefix
        # its own region, or the operator of an order in the region (the order page links it)
        return region_in_scope(org.region_code, prefix) or bool(db.session.scalar(select(exists().where(
            Order.operator_id == org.id, order_in_region(prefix)))))
    return bool(db.session.scalar(select(Organisation.id).where(Organisation.id == org.id,
                                                                _open_shop_clause())))


def visible_shop(user: User, org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or not shop_visible(user, org):
        raise _not_found()
    return org


def visible_offer(user: User, offer_id: int) -> StorefrontOffer:
    """An offer of a shop the user may see; inactive ones only for their owner and overseers."""
    offer = db.session.get(StorefrontOffer, offer_id)
    if offer is None or not shop_visible(user, offer.operator):
        raise _not_found()
    if not offer.active and offer.operator_id != user.org_id and not (user.is_platform or user.is_regulator):
        raise _not_found()
    return offer


def shop_facts(org: Organisation) -> dict:
    """What the shop page shows: valid licences with this year's capacity, regions, offers, record."""
    day = today()
    usage = [u for u in capacity.usage(org.id, day.year) if u["licence"].is_valid_on(day)]
    areas = list(db.session.scalars(select(ServiceArea.region_prefix)
                                    .where(ServiceArea.org_id == org.id).order_by(ServiceArea.region_prefix)))
    offers = list(db.session.scalars(select(StorefrontOffer).where(
        StorefrontOffer.operator_id == org.id, StorefrontOffer.active.is_(True))
        .order_by(StorefrontOffer.category_code, StorefrontOffer.unit_price_fen_per_t)))
    completed = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.operator_id == org.id, Order.status.in_(COMPLETED_ORDER_STATUSES))) or 0
    prefixes = areas or [org.region_code[:2]]
    for o in offers:
        prefixes += o.service_region_prefixes
    record = record_of(org.id)
    return {"usage": usage, "service_areas": areas, "own_province": org.region_code[:2],
            "offers": offers, "completed_orders": completed,
            # measured from its shipped manifests (market.reviews.policies.ON_TIME_GRACE)
            "on_time_rate": record.on_time_rate, "shipped_manifests": record.shipped_manifests,
            "reviews": record.reviews, "region_names": region_names(set(prefixes)),
            "category_names": category_names(),
            # the credit score and a regulator's blacklist in force (market/oversight)
            "credit_score": org.credit_score, "blacklist": blacklist_in_force(org.id, day)}


def category_names() -> dict[str, str]:
    return dict(db.session.execute(select(WasteCategory.code, WasteCategory.name)).all())


def search_offers(*, category: str | None = None, code: str | None = None, region: str | None = None,
                  method: str | None = None, sort: str = "price",
                  origin: tuple[float, float] | None = None, limit: int = 200
                  ) -> list[tuple[StorefrontOffer, float | None]]:
    """Active offers of open shops matching the filters, each with its distance from origin (km)."""
    stmt = (select(StorefrontOffer).join(Organisation, Organisation.id == StorefrontOffer.operator_id)
            .where(StorefrontOffer.active.is_(True), _open_shop_clause()))
    if code:
        # An offer for the whole category applies to each of its codes.
        stmt = stmt.where(or_(StorefrontOffer.waste_code == code,
                              StorefrontOffer.waste_code.is_(None)
                              & (StorefrontOffer.category_code == (category_of_code(code) or ""))))
    if category:
        stmt = stmt.where(StorefrontOffer.category_code == category)
    if region:
        stmt = stmt.where(StorefrontOffer.service_region_prefixes.overlap(
            sorted({region[:2], region[:4], region[:6]})))
    if method:
        stmt = stmt.where(StorefrontOffer.method_code == method)
    stmt = stmt.order_by(StorefrontOffer.unit_price_fen_per_t, StorefrontOffer.id).limit(limit)
    rows = []
    for offer in db.session.scalars(stmt):
        there = offer.operator.coordinates
        km = round(haversine_km(origin, there), 1) if origin and there else None
        rows.append((offer, km))
    if sort == "distance":
        rows.sort(key=lambda r: (r[1] is None, r[1] or 0, r[0].unit_price_fen_per_t))
    return rows

"""Read side of listings: the facts matching needs, matches, and tenant-scoped lists.

candidate_facts() loads everything the pure matcher needs in a fixed number of statements whatever
the number of operators. Ranking takes one: the qualifying licence items with their licence's
terms (copied onto each item), organisation, service areas, reserved kg (GROUP BY item for the
year), the operator's best standing offer and its track record (blacklisted operators left out).
Judging every operator (explain) reads the items of all of them with their blacklists in force
and best offers, then their track records (a page of explanations needs neither offers nor
records).
"""
from __future__ import annotations

import functools
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import (BigInteger, Date, Float, Numeric, and_, any_, bindparam, cast, func, null,
                        or_, select, true, type_coerce)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.sql.sqltypes import NULLTYPE

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, User
from market.errors import NotFound
from market.listings.capacity import usage
from market.listings.matching import (CandidateFacts, Exclusion, ItemFacts, Match, RequestFacts,
                                      allowed_operations, evaluate, haversine_km, match)
from market.listings.models import (CapacityReservation, DisposalRequest, Quote, ServiceArea,
                                    StorefrontOffer)
from market.listings.validation import today
from market.money import line_amount_fen
from market.orders.models import Order
from market.oversight.sanctions import blacklisted_clause
from market.reviews.queries import TrackRecord, ranking_figures, record_columns, records


def request_facts(req: DisposalRequest) -> RequestFacts:
    return RequestFacts(category=req.category_code, code=req.waste_code,
                        quantity_kg=req.quantity_kg, region_code=req.region_code,
                        wanted_on=req.window_start, small_lot=req.small_lot,
                        coordinates=req.coordinates, method_group=req.method_group)


def _base_columns(*, licence_from_item: bool = False):
    """The organisation, licence and item columns of a candidate row; the licence's from the
    item's own copies of them (accounts.models.LicenceItem) where the statement does without
    joining licences."""
    i = LicenceItem
    licence = ((i.licence_id.label("lic_id"), i.licence_number.label("number"),
                i.licence_status.label("lic_status"), i.licence_valid_from.label("valid_from"),
                i.licence_valid_to.label("valid_to")) if licence_from_item else
               (Licence.id.label("lic_id"), Licence.number, Licence.status.label("lic_status"),
                Licence.valid_from, Licence.valid_to))
    return (Organisation.id.label("org_id"), Organisation.name, Organisation.status,
            Organisation.region_code, Organisation.latitude, Organisation.longitude,
            Organisation.credit_score, *licence, i.id.label("item_id"), i.category_code, i.codes,
            i.operations, i.method_codes, i.approved_kg_per_year)


def _as_is(column):
    # psycopg already returns Python lists; skipping SQLAlchemy's per-element ARRAY processing
    # saves a few milliseconds when hundreds of items qualify.
    return type_coerce(column, NULLTYPE)


def _is_operator():
    return and_(Organisation.kind == "enterprise", Organisation.types.contains(["operator"]))


def _reserved(year: int, item_ids):
    """Active reserved kg per licence item for the year: GROUP BY over the given items only."""
    return (select(CapacityReservation.licence_item_id, func.sum(CapacityReservation.kg).label("kg"))
            .where(CapacityReservation.licence_item_id.in_(item_ids),
                   CapacityReservation.year == year, CapacityReservation.released_at.is_(None))
            .group_by(CapacityReservation.licence_item_id).subquery())


def _serves():
    """SQL twin of the region rule: one of the operator's service prefixes begins the pickup
    region, or it has none and sits in the pickup's province.

    Prefixes have 2, 4 or 6 digits (a CHECK constraint), so "begins" is equality with one of the
    region's own three prefixes (an index lookup); region codes have 6 digits, so a province is a
    code range. Judged per candidate item found by category, which stays fast however densely
    operators crowd one province (bench/matching.py --dense).
    """
    areas = select(ServiceArea.id).where(ServiceArea.org_id == Organisation.id)
    return or_(areas.where(ServiceArea.region_prefix.in_(
                   [bindparam("p2"), bindparam("p4"), bindparam("p6")])).exists(),
               and_(Organisation.region_code.between(bindparam("province_lo"), bindparam("province_hi")),
                    ~areas.exists()))


@functools.cache
def _ranking_statement():
    """Built once with bind parameters: composing this statement costs more than running it."""
    # SQL drops the rows that rules 1–7 would drop anyway, so Python sees only qualifying items;
    # matching.match() still judges every row, and a test holds this path equal to the explain
    # path, which filters nothing. Keep these conditions in step with matching.py.
    code = bindparam("code", type_=LicenceItem.codes.type.item_type)
    cand = (select(*_base_columns(licence_from_item=True)).select_from(LicenceItem)
            .join(Organisation, Organisation.id == LicenceItem.licence_org_id)
            .where(_serves(), _is_operator(),
                   Organisation.status == "verified", LicenceItem.licence_status == "verified",
                   # rule 1's blacklist here too: no third round trip for sanctions
                   ~blacklisted_clause(Organisation.id, bindparam("today", type_=Date),
                                       bindparam("wanted_on", type_=Date)),
                   LicenceItem.licence_valid_from <= bindparam("wanted_on"),
                   LicenceItem.licence_valid_to >= bindparam("wanted_on"),
                   LicenceItem.category_code == bindparam("category"),
                   LicenceItem.operations.overlap(bindparam("operations", type_=LicenceItem.operations.type)),
                   or_(code.is_(None), func.cardinality(LicenceItem.codes) == 0,
                       code == any_(LicenceItem.codes)))
            .cte("cand"))
    reserved = _reserved(bindparam("year"), select(cand.c.item_id))
    prefixes = (select(func.array_agg(ServiceArea.region_prefix))
                .where(ServiceArea.org_id == cand.c.org_id).scalar_subquery())
    c = cand.c
    # The operator's best standing offer and its track record (reviews, on-time manifests) come
    # along: no further round trip for either.
    offer = _best_offer(c.org_id)
    track, track_on, track_columns = record_columns(c.org_id)
    # Coordinates as double precision and the reserved sum as bigint: hundreds of rows per
    # request, so no numeric text to parse into Decimals only to turn them into float and int.
    return (select(c.org_id, c.name, c.status, c.region_code, cast(c.latitude, Float),
                   cast(c.longitude, Float), c.credit_score, _as_is(prefixes), c.lic_id, c.number,
                   c.lic_status, c.valid_from, c.valid_to, c.item_id, c.category_code,
                   _as_is(c.codes), _as_is(c.operations), _as_is(c.method_codes),
                   c.approved_kg_per_year, cast(func.coalesce(reserved.c.kg, 0), BigInteger),
                   offer.c.price, offer.c.fee, *track_columns)
            .select_from(cand)
            .outerjoin(reserved, reserved.c.licence_item_id == c.item_id)
            .outerjoin(offer, true())
            .outerjoin(track, track_on)
            # Received-beyond-reservations is zero until manifests exist (see capacity.py).
            .where(c.approved_kg_per_year - func.coalesce(reserved.c.kg, 0) >= bindparam("quantity")))


def _ranking_rows(facts: RequestFacts):
    # Core execution on the session's connection: plain rows, none of the ORM's result handling.
    return db.session.connection().execute(_ranking_statement(), _request_params(facts)).all()


def _all_rows(facts: RequestFacts, operator_id: int | None, item_ids: list[int] | None,
              operator_ids: list[int] | None = None, *, offers: bool = True):
    # Every operator (or the ones asked about), with or without licences, so that each excluded
    # one can be told the first rule it fails.
    where = [_is_operator()]
    if operator_id is not None:
        where.append(Organisation.id == operator_id)
    if operator_ids is not None:
        where.append(Organisation.id.in_(operator_ids))
    if item_ids is not None:
        where.append(LicenceItem.id.in_(item_ids))
    items = (select(LicenceItem.id).join(Licence, Licence.id == LicenceItem.licence_id)
             .join(Organisation, Organisation.id == Licence.org_id).where(*where))
    reserved = _reserved(facts.wanted_on.year, items)
    prefixes = (select(func.array_agg(ServiceArea.region_prefix))
                .where(ServiceArea.org_id == Organisation.id).correlate(Organisation).scalar_subquery())
    cols = _base_columns()
    barred = blacklisted_clause(Organisation.id, bindparam("today", type_=Date),
                                bindparam("wanted_on", type_=Date))
    offer = _best_offer(Organisation.id)
    stmt = (select(*cols[:7], _as_is(prefixes), *cols[7:14], *map(_as_is, cols[14:17]), cols[17],
                   func.coalesce(reserved.c.kg, 0),
                   *((offer.c.price, offer.c.fee) if offers else (null(), null())), barred)
            .select_from(Organisation)
            .outerjoin(Licence, Licence.org_id == Organisation.id)
            .outerjoin(LicenceItem, LicenceItem.licence_id == Licence.id)
            .outerjoin(reserved, reserved.c.licence_item_id == LicenceItem.id).where(*where))
    if offers:
        stmt = stmt.outerjoin(offer, true())
    return db.session.connection().execute(stmt, _request_params(facts)).all()


def _item_rows(facts: RequestFacts, *, explain: bool, operator_id: int | None,
               item_ids: list[int] | None, operator_ids: list[int] | None = None,
               offers: bool = True):
    if explain or operator_id is not None or operator_ids is not None:
        return _all_rows(facts, operator_id, item_ids, operator_ids, offers=offers)
    return _ranking_rows(facts)


def _best_offer(org_id_column):
    """The operator's cheapest active standing offer serving the request, as a LATERAL to join ON
    true: its unit price and transport fee (NULLs when it has none).

    Cheapest by the exact total, unit price × kg / 1000 + transport fee; rounding that to fen
    (money.line_amount_fen) never reorders two offers, so it picks an offer of the lowest total.
    Offer regions are 2, 4 or 6 digit prefixes, so serving the pickup region is overlapping its
    own three prefixes.
    """
    o = StorefrontOffer
    quantity = bindparam("quantity", type_=BigInteger)
    total = cast(o.unit_price_fen_per_t, Numeric) * quantity / 1000 + o.transport_fee_fen
    return (select(o.unit_price_fen_per_t.label("price"), o.transport_fee_fen.label("fee"))
            # `active`, not `active IS true`: only the former lets the planner use the partial
            # index ix_storefront_offer_category_active
            .where(o.operator_id == org_id_column, o.active,
                   o.category_code == bindparam("category"),
                   o.min_kg <= quantity, o.max_kg >= quantity,
                   # an offer for a code applies only to requests naming that code
                   or_(o.waste_code.is_(None),
                       o.waste_code == bindparam("code", type_=o.waste_code.type)),
                   o.service_region_prefixes.overlap(cast(
                       array([bindparam("p2"), bindparam("p4"), bindparam("p6")]),
                       o.service_region_prefixes.type)))
            .order_by(total, o.id).limit(1).lateral("best_offer"))


def _request_params(facts: RequestFacts) -> dict:
    """The bind parameters the statements above share."""
    r = facts.region_code
    return dict(p2=r[:2], p4=r[:4], p6=r[:6], province_lo=r[:2] + "0000",
                province_hi=r[:2] + "9999", wanted_on=facts.wanted_on, today=today(),
                category=facts.category, code=facts.code,
                operations=sorted(allowed_operations(facts.small_lot)), year=facts.wanted_on.year,
                quantity=facts.quantity_kg)


def candidate_facts(facts: RequestFacts, *, explain: bool = False, operator_id: int | None = None,
                    item_ids: list[int] | None = None, operator_ids: list[int] | None = None,
                    exclusions_only: bool = False) -> list[CandidateFacts]:
    """The operators to judge for a request, as pure facts for matching.match(); `operator_ids`
    judges just those (a page of explanations, market/listings/explain_pages.py).

    `exclusions_only`: the caller keeps only the excluded operators and their rule, which never
    depend on storefront prices or track records, so those two reads are skipped."""
    orgs: dict[int, dict] = {}
    items: dict[int, list[ItemFacts]] = defaultdict(list)
    ranking = not (explain or operator_id is not None or operator_ids is not None)
    figures: dict[int, tuple] = {}   # ranking: (reviews, average, shipped, on-time rate) per operator
    barred: set[int] = set()  # the ranking statement leaves blacklisted operators out itself
    for (org_id, name, status, region, lat, lon, credit, prefixes, lic_id, lic_no, lic_status, vfrom,
         vto, item_id, cat, codes, ops, methods, approved, reserved, price, fee, *extra) in _item_rows(
            facts, explain=explain, operator_id=operator_id, item_ids=item_ids,
            operator_ids=operator_ids, offers=not exclusions_only):
        if ranking and org_id not in figures:  # the ranking statement's track record columns
            figures[org_id] = ranking_figures(*extra)
        elif not ranking and extra[0]:  # judging everyone: blacklisted in force, a column
            barred.add(org_id)
        if org_id not in orgs:
            orgs[org_id] = dict(name=name, status=status, credit=credit, region=region,
                                prefixes=prefixes, price=price, fee=fee or 0,
                                coords=None if lat is None or lon is None else (float(lat), float(lon)))
        if item_id is not None:
            items[org_id].append(ItemFacts(
                item_id=item_id, licence_id=lic_id, licence_number=lic_no, licence_status=lic_status,
                valid_from=vfrom, valid_to=vto, category=cat, codes=tuple(codes or ()),
                operations=tuple(ops or ()), methods=tuple(methods or ()), approved_kg=approved,
                reserved_kg=int(reserved)))
    if not orgs:
        return []
    if not ranking:
        # one batch for all candidates, never one query per operator
        track = defaultdict(TrackRecord) if exclusions_only else records(orgs)
        figures = {org_id: (rec.reviews.count, rec.reviews.average, rec.shipped_manifests,
                            rec.on_time_rate) for org_id, rec in ((k, track[k]) for k in orgs)}
    out = []
    for org_id, o in orgs.items():
        review_count, review_average, shipped, on_time_rate = figures[org_id]
        out.append(CandidateFacts(
            operator_id=org_id, name=o["name"], verified=o["status"] == "verified",
            suspended=o["status"] == "suspended", blacklisted=org_id in barred,
            coordinates=o["coords"],
            items=tuple(items[org_id]),
            # An operator that has not said where it collects serves its own province.
            service_prefixes=tuple(o["prefixes"] or [o["region"][:2]]),
            storefront_price_fen_per_t=o["price"], storefront_transport_fen=o["fee"],
            on_time_rate=on_time_rate, on_time_manifests=shipped,
            review_average=review_average, review_count=review_count,
            credit_score=o["credit"]))
    return out


def matches(req: DisposalRequest | RequestFacts, explain: bool = False
            ) -> tuple[list[Match], list[Exclusion]]:
    """Ranked matches for a request; with explain, the excluded operators and their first rule."""
    facts = req if isinstance(req, RequestFacts) else request_facts(req)
    qualified, excluded = match(facts, candidate_facts(facts, explain=explain))
    return qualified, (excluded if explain else [])


def judge_operator(facts: RequestFacts, operator_id: int, *, item_ids: list[int] | None = None,
                   override=None):
    """evaluate() for one operator: (item, served prefix) or an Exclusion.

    `override` may replace fields of the candidate (an offer's own regions, say) before judging.
    """
    found = candidate_facts(facts, operator_id=operator_id, item_ids=item_ids)
    cand = found[0] if found else CandidateFacts(operator_id=operator_id, name="", verified=False)
    if override:
        cand = cand._replace(**override(cand))
    return evaluate(facts, cand)


# --- tenant-scoped reads -------------------------------------------------------------------------

def request_for_generator(actor: User, request_id: int, *, lock: bool = False) -> DisposalRequest:
    """The actor's own organisation's request; anyone else's is a 404."""
    stmt = select(DisposalRequest).where(DisposalRequest.id == request_id,
                                         DisposalRequest.generator_id == actor.org_id)
    req = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if req is None:
        raise NotFound(_("No such request."))
    return req


def requests_of(org_id: int, status: str | None = None) -> list[DisposalRequest]:
    stmt = select(DisposalRequest).where(DisposalRequest.generator_id == org_id) \
        .order_by(DisposalRequest.id.desc())
    if status:
        stmt = stmt.where(DisposalRequest.status == status)
    return list(db.session.scalars(stmt))


def quotes_for_request(req: DisposalRequest) -> list[tuple[Quote, int]]:
    """Every quote on the request with its total for the requested quantity (fen), cheapest first."""
    quotes = db.session.scalars(select(Quote).where(Quote.request_id == req.id)).all()
    rows = [(q, line_amount_fen(q.unit_price_fen_per_t, req.quantity_kg) + q.transport_fee_fen)
            for q in quotes]
    return sorted(rows, key=lambda r: (r[0].status != "submitted", r[1], r[0].id))


def quotes_of_operator(org_id: int, status: str | None = None) -> list[Quote]:
    stmt = select(Quote).where(Quote.operator_id == org_id).order_by(Quote.id.desc())
    if status:
        stmt = stmt.where(Quote.status == status)
    return list(db.session.scalars(stmt))


def open_requests_for_operator(org_id: int, limit: int = 200) -> list[tuple[DisposalRequest, Match]]:
    """Open requests this operator may take, newest first, each with its match (reasons, score)."""
    cats = select(LicenceItem.category_code).join(Licence).where(Licence.org_id == org_id)
    reqs = db.session.scalars(select(DisposalRequest).where(
        DisposalRequest.status == "open", DisposalRequest.generator_id != org_id,
        DisposalRequest.category_code.in_(cats)).order_by(DisposalRequest.id.desc()).limit(limit)).all()
    # The operator's facts depend on the request only through the year of its reservations.
    per_year: dict[int, list[CandidateFacts]] = {}
    out = []
    for req in reqs:
        facts = request_facts(req)
        if facts.wanted_on.year not in per_year:
            per_year[facts.wanted_on.year] = candidate_facts(facts, operator_id=org_id)
        qualified, _excluded = match(facts, per_year[facts.wanted_on.year])
        if qualified:
            out.append((req, qualified[0]))
    return out


# --- storefronts (Tmall style) -------------------------------------------------------------------

def browse_offers(*, category: str | None = None, code: str | None = None,
                  region_code: str | None = None, method_code: str | None = None,
                  sort: str = "price", origin: tuple[float, float] | None = None,
                  limit: int = 100) -> list[tuple[StorefrontOffer, float | None]]:
    """Active offers of verified operators, filtered, with the distance from `origin` when known.

    sort="price" lists the lowest unit price first (negative prices, where the operator pays,
    come first); sort="distance" the nearest operator first, unknown distances last.
    """
    stmt = (select(StorefrontOffer).join(Organisation, Organisation.id == StorefrontOffer.operator_id)
            .where(StorefrontOffer.active.is_(True), Organisation.status == "verified"))
    if category:
        stmt = stmt.where(StorefrontOffer.category_code == category)
    if code:
        stmt = stmt.where(or_(StorefrontOffer.waste_code.is_(None), StorefrontOffer.waste_code == code))
    if method_code:
        stmt = stmt.where(StorefrontOffer.method_code == method_code)
    if region_code:
        own = [region_code[:2], region_code[:4], region_code[:6]]
        stmt = stmt.where(StorefrontOffer.service_region_prefixes.overlap(own))
    offers = db.session.scalars(stmt.order_by(StorefrontOffer.unit_price_fen_per_t, StorefrontOffer.id)
                                .limit(limit if sort == "price" else 1000)).all()
    rows = [(o, haversine_km(origin, o.operator.coordinates)
             if origin and o.operator.coordinates else None) for o in offers]
    if sort == "distance":
        rows.sort(key=lambda r: (r[1] is None, r[1] or 0, r[0].unit_price_fen_per_t))
    return rows[:limit]


def storefront(org_id: int, year: int | None = None) -> dict:
    """An operator's shop: verified licences with remaining capacity, regions, offers, record."""
    org = db.session.get(Organisation, org_id)
    if org is None or not org.has_type("operator") or org.status != "verified":
        raise NotFound(_("No such storefront."))
    day = today()
    lines = [u for u in usage(org_id, year or day.year) if u["licence"].is_valid_on(day)]
    prefixes = list(db.session.scalars(select(ServiceArea.region_prefix)
                                       .where(ServiceArea.org_id == org_id).order_by(ServiceArea.region_prefix)))
    offers = list(db.session.scalars(select(StorefrontOffer).where(
        StorefrontOffer.operator_id == org_id, StorefrontOffer.active.is_(True))
        .order_by(StorefrontOffer.category_code, StorefrontOffer.unit_price_fen_per_t)))
    completed = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.operator_id == org_id, Order.status.in_(("settled", "closed"))))
    record = records([org_id])[org_id]
    return {"organisation": org, "capacity": lines, "service_prefixes": prefixes or [org.region_code[:2]],
            "offers": offers, "completed_orders": completed,
            "on_time_rate": record.on_time_rate, "reviews": record.reviews}

"""API routes of the marketplace: disposal requests, matches, quotes and storefront offers.

Views parse and type-check the JSON (integers must be JSON integers), call one use case of
market.listings and map the outcome; the use cases validate the business rules (known codes, a
window not in the past, the operator matching the request) and raise typed errors that
market.web.errors turns into `{"error": {code, message, field}}`.

Who sees a request: its generator's organisation and platform staff always; regulators when its
generator's, pickup or awarded operator's region lies in their scope (market.region_scope); an
operator when it has quoted on it or the request is open and
the operator currently matches it. Anyone else gets a 404, never a hint that the id exists.
"""
from __future__ import annotations

from typing import Any, Sequence

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import Select, select

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, User
from market.api import bp
from market.api.auth import api_user
from market.api.changes import FeedRequest, changes_page, feed_request
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.pagination import (Key, Page, PageRequest, encode_cursor, list_body, page_request,
                                   paginate)
from market.api.parsing import (json_body, optional_bool, optional_date, optional_int, optional_str,
                                query_str, require_date, require_int, require_str)
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.listings import offers as offer_service
from market.listings import quotes as quote_service
from market.listings import services as request_service
from market.listings.explain import exclusion_message, reason_message
from market.listings.explain_pages import excluded_page
from market.listings.matching import Exclusion
from market.listings.models import (FORMS, HAZARDS, METHOD_GROUPS, RECURRING, REQUEST_STATUSES,
                                    DisposalRequest, Quote, StorefrontOffer)
from market.listings.queries import judge_operator, matches, quotes_for_request, request_facts
from market.listings.validation import MAX_MONEY_FEN, MAX_QUANTITY_KG, today
from market.orders import lifecycle
from market.region_scope import request_covered, request_in_region
from market.web.i18n import date as shown_date

# Path ids are PostgreSQL integers: a larger one is simply not found (no overflow in the query).
ID = "int(max=2147483647)"
MAX_LEAD_DAYS = 365
# How many open requests an operator's "matching" list judges per round trip.
_MATCH_BATCH = 200


# --- small helpers -------------------------------------------------------------------------------

def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _choice_param(name: str, allowed: Sequence[str]) -> str | None:
    value = query_str(name, 50)
    if value is not None and value not in allowed:
        raise ValidationFailed(_("%(field)s must be one of %(choices)s.", field=name,
                                 choices=", ".join(allowed)), field=name)
    return value


def _str_list(body: dict, name: str, max_items: int, max_len: int, choices: Sequence[str] = ()
              ) -> list[str] | None:
    """A JSON array of at most max_items strings, or None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > max_items:
        if choices:
            raise ValidationFailed(_("Choose one of: %(choices)s.", choices=", ".join(choices)),
                                   field=name)
        # An array is wanted: say what each of its elements must be.
        raise ValidationFailed(_("%(field)s must be a string.", field=f"{name}[]"), field=name)
    for item in value:
        if not isinstance(item, str) or "\x00" in item:
            raise ValidationFailed(_("%(field)s must be a string.", field=f"{name}[]"), field=name)
        if len(item) > max_len:
            raise ValidationFailed(_("%(field)s must be at most %(n)d characters.",
                                     field=f"{name}[]", n=max_len), field=name)
    return list(value)


def _unknown_fields(body: dict, allowed: Sequence[str]) -> None:
    """Refuse fields the endpoint does not take (status, number, another party's id …)."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationFailed(_("Field %(f)s cannot be set here.", f=unknown[0]), field=unknown[0])


def paginate_newest_first(stmt: Select, column, page: PageRequest) -> Page:
    """Keyset paging by an integer id, newest (largest) first; the cursor holds the last id sent."""
    if page.after is not None:
        stmt = stmt.where(column < page.after[0])
    rows = list(db.session.scalars(stmt.order_by(column.desc()).limit(page.limit + 1)))
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    return Page(items=rows, next=encode_cursor([rows[-1].id]) if more else None)


ID_KEYS = (Key(DisposalRequest.id, int, "id"),)  # any integer-id list: one int in the cursor
# A page of excluded operators: (distance key, operator id) of the last one judged.
EXCLUDED_KEYS = (Key(None, float, "key"), Key(None, int, "id"))
EXCLUSION_RULES = ("org_suspended", "org_not_verified", "licence_not_valid", "category_not_covered",
                   "code_not_covered", "operation_not_allowed", "capacity_exhausted",
                   "region_not_served")


# --- who may see a request -----------------------------------------------------------------------

def _operator_matches(user: User, req: DisposalRequest) -> bool:
    if req.status != "open" or not user.org.has_type("operator") or req.generator_id == user.org_id:
        return False
    return not isinstance(judge_operator(request_facts(req), user.org_id), Exclusion)


def _has_quoted(user: User, req: DisposalRequest) -> bool:
    return db.session.scalar(select(Quote.id).where(Quote.request_id == req.id,
                                                    Quote.operator_id == user.org_id).limit(1)) \
        is not None


def request_role(user: User, req: DisposalRequest) -> str | None:
    """How the user sees the request: generator, platform, regulator, operator, or None (hidden)."""
    if req.generator_id == user.org_id:
        return "generator"
    if user.is_platform:
        return "platform"
    if req.status == "draft":
        return None
    if user.is_regulator:
        return "regulator" if request_covered(user.org.scope_prefix, req.id) else None
    if user.org.has_type("operator") and (_has_quoted(user, req) or _operator_matches(user, req)):
        return "operator"
    return None


def visible_request(user: User, request_id: int) -> tuple[DisposalRequest, str]:
    req = db.session.get(DisposalRequest, request_id)
    role = request_role(user, req) if req is not None else None
    if role is None:
        raise NotFound(_("No such request."))
    return req, role


# --- JSON shapes ---------------------------------------------------------------------------------

def quote_json(quote: Quote, total_fen: int) -> dict:
    return {"id": quote.id, "request_id": quote.request_id, "operator_id": quote.operator_id,
            "operator_name": quote.operator.name, "licence_item_id": quote.licence_item_id,
            "unit_price_fen_per_t": quote.unit_price_fen_per_t,
            "transport_fee_fen": quote.transport_fee_fen, "total_fen": total_fen,
            "valid_until": _iso(quote.valid_until), "subject_to_sampling": quote.subject_to_sampling,
            "note": quote.note, "status": quote.status, "created_at": _iso(quote.created_at)}


def request_json(req: DisposalRequest) -> dict:
    return {"id": req.id, "number": req.number, "status": req.status,
            "generator_id": req.generator_id, "category": req.category_code,
            "waste_code": req.waste_code, "description": req.description, "form": req.form,
            "packaging": req.packaging, "hazards": list(req.hazards or []),
            "quantity_kg": req.quantity_kg, "small_lot": req.small_lot,
            "region_code": req.region_code, "address": req.address,
            "window_start": _iso(req.window_start), "window_end": _iso(req.window_end),
            "method_group": req.method_group, "requires_sampling": req.requires_sampling,
            "budget_fen": req.budget_fen, "recurring": req.recurring,
            "published_at": _iso(req.published_at), "created_at": _iso(req.created_at)}


def request_detail_json(user: User, req: DisposalRequest, role: str) -> dict:
    """The request with its quotes: all of them for its generator, staff and regulators, the
    operator's own for an operator."""
    quotes = quotes_for_request(req)
    if role == "operator":
        quotes = [(q, total) for q, total in quotes if q.operator_id == user.org_id]
    return {**request_json(req), "quotes": [quote_json(q, total) for q, total in quotes]}


def offer_json(offer: StorefrontOffer) -> dict:
    return {"id": offer.id, "operator_id": offer.operator_id, "operator_name": offer.operator.name,
            "category": offer.category_code, "waste_code": offer.waste_code,
            "method_code": offer.method_code,
            "service_region_prefixes": list(offer.service_region_prefixes),
            "min_kg": offer.min_kg, "max_kg": offer.max_kg,
            "unit_price_fen_per_t": offer.unit_price_fen_per_t,
            "transport_fee_fen": offer.transport_fee_fen, "lead_time_days": offer.lead_time_days,
            "description": offer.description, "active": offer.active}


def match_json(m) -> dict:
    return {"operator_id": m.operator_id, "operator_name": m.operator_name,
            "licence_item_id": m.licence_item_id, "remaining_kg": m.remaining_kg,
            "score": m.score, "distance_km": m.distance_km,
            "storefront_total_fen": m.storefront_total_fen,
            "reasons": [{"rule": r.rule, "message": reason_message(r)} for r in m.reasons],
            "record": [{"rule": r.rule, "params": r.params, "message": reason_message(r)}
                       for r in m.record]}


def exclusion_json(e: Exclusion) -> dict:
    return {"operator_id": e.operator_id, "operator_name": e.operator_name, "rule": e.rule,
            "message": exclusion_message(e)}


# --- disposal requests ---------------------------------------------------------------------------

REQUEST_BODY = ("category", "waste_code", "description", "form", "packaging", "hazards",
                "quantity_kg", "region_code", "address", "window_start", "window_end",
                "method_group", "requires_sampling", "budget_fen", "recurring")


def _request_input(body: dict) -> dict:
    """Type-check a request body in form order; the use case judges the values."""
    _unknown_fields(body, REQUEST_BODY)
    return dict(
        category=require_str(body, "category", 10),
        waste_code=optional_str(body, "waste_code", 20),
        description=require_str(body, "description", 2000),
        form=require_str(body, "form", 30),
        packaging=require_str(body, "packaging", 100),
        hazards=_str_list(body, "hazards", 10, 10, HAZARDS) or [],
        quantity_kg=require_int(body, "quantity_kg", 1, MAX_QUANTITY_KG),
        region_code=require_str(body, "region_code", 12),
        address=require_str(body, "address", 300),
        window_start=require_date(body, "window_start"),
        window_end=require_date(body, "window_end"),
        method_group=optional_str(body, "method_group", 10),
        requires_sampling=optional_bool(body, "requires_sampling"),
        budget_fen=optional_int(body, "budget_fen", -MAX_MONEY_FEN, MAX_MONEY_FEN),
        recurring=optional_str(body, "recurring", 10),
    )


@bp.post("/requests")
@idempotent
def create_request():
    """Post a disposal request (generator).
    ---
    post:
      tags: [requests]
      summary: Post a disposal request
      description: >
        The request opens at once and the operators that match it are notified. Quantities are
        integer kg (more than 0), money integer fen; the wanted window may not start in the past,
        and a waste code must belong to the category. Only verified generators may post.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RequestInput'}
      responses:
        201:
          description: The request, open
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RequestCreated'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    values = _request_input(json_body())
    req = request_service.create_request(api_user(), **values)
    return jsonify(id=req.id, number=req.number, status=req.status), 201


@bp.get(f"/requests/<{ID}:request_id>")
def get_request(request_id: int):
    """One disposal request, with its quotes.
    ---
    get:
      tags: [requests]
      summary: A disposal request
      description: >
        Visible to its generator, platform staff, regulators of its region, and operators
        that quoted on it or currently match it while it is open. `quotes` holds every quote for
        the generator, staff and regulators, and only the caller's own for an operator.
      parameters:
        - {name: request_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The request
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RequestDetail'}
        401: Unauthorized
        404: NotFound
    """
    user = api_user()
    req, role = visible_request(user, request_id)
    return jsonify(request_detail_json(user, req, role))


def _matching_requests(user: User, status: str | None, page: PageRequest | None,
                       feed: FeedRequest | None = None) -> Page:
    """Open requests of others that the operator currently matches, newest first (or, as a feed,
    in change order)."""
    if status not in (None, "open"):
        return Page(items=[], next=None)
    categories = select(LicenceItem.category_code).join(Licence).where(Licence.org_id == user.org_id)
    base = select(DisposalRequest).where(DisposalRequest.status == "open",
                                         DisposalRequest.generator_id != user.org_id,
                                         DisposalRequest.category_code.in_(categories))
    if feed is not None:
        return changes_page(base, DisposalRequest, feed, keep=lambda r: _operator_matches(user, r))
    after = page.after[0] if page.after is not None else None
    found: list[DisposalRequest] = []
    while len(found) <= page.limit:
        stmt = base if after is None else base.where(DisposalRequest.id < after)
        batch = list(db.session.scalars(stmt.order_by(DisposalRequest.id.desc()).limit(_MATCH_BATCH)))
        for req in batch:
            if _operator_matches(user, req):
                found.append(req)
                if len(found) > page.limit:
                    break
        if len(batch) < _MATCH_BATCH:
            break
        after = batch[-1].id
    more = len(found) > page.limit
    found = found[:page.limit]
    return Page(items=found, next=encode_cursor([found[-1].id]) if more else None)


@bp.get("/requests")
def list_requests():
    """Disposal requests the caller works with, newest first.
    ---
    get:
      tags: [requests]
      summary: Disposal requests
      description: >
        Generators: their organisation's own requests. Operators: the open requests of others
        they currently match (`scope=matching`, the default for an organisation that is an
        operator and not a generator). Regulators: published requests whose generator's, pickup
        or awarded operator's region lies in their scope. Platform staff: all.
      parameters:
        - name: status
          in: query
          schema: {type: string, enum: [draft, open, awarded, cancelled, expired]}
        - name: scope
          in: query
          description: For organisations that both generate and operate; ignored for regulators and staff
          schema: {type: string, enum: [own, matching]}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: Requests by id, newest first (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RequestList'}
        401: Unauthorized
        422: ValidationFailed
    """
    user = api_user()
    status = _choice_param("status", REQUEST_STATUSES)
    scope = _choice_param("scope", ("own", "matching"))
    feed = feed_request()
    page = None if feed else page_request(ID_KEYS)
    if user.is_platform or user.is_regulator:
        stmt = select(DisposalRequest)
        if user.is_regulator:
            stmt = stmt.where(request_in_region(user.org.scope_prefix))
    else:
        if scope is None:
            is_operator_only = user.org.has_type("operator") and not user.org.has_type("generator")
            scope = "matching" if is_operator_only else "own"
        if scope == "matching":
            return jsonify(list_body(_matching_requests(user, status, page, feed), request_json))
        stmt = select(DisposalRequest).where(DisposalRequest.generator_id == user.org_id)
    if status:
        stmt = stmt.where(DisposalRequest.status == status)
    if feed:
        return jsonify(list_body(changes_page(stmt, DisposalRequest, feed), request_json))
    return jsonify(list_body(paginate_newest_first(stmt, DisposalRequest.id, page), request_json))


def _explain_param() -> bool:
    value = _choice_param("explain", ("0", "1", "false", "true"))
    return value in ("1", "true")


@bp.get(f"/requests/<{ID}:request_id>/matches")
def request_matches(request_id: int):
    """The operators that may take a request, ranked; with explain=1 also the excluded ones.
    ---
    get:
      tags: [requests]
      summary: Matches of a request
      description: >
        Only the request's generator, platform staff and regulators of its region may see
        matches. Each match carries the reasons it qualifies; with `explain=1` the response also
        lists excluded operators with the first rule they fail (org_suspended,
        org_not_verified, licence_not_valid, category_not_covered, code_not_covered,
        operation_not_allowed, capacity_exhausted, region_not_served), nearest to the pickup
        first, a page at a time: `limit` and `cursor` (from `excluded_next`) page them, `rule`
        keeps those failing one rule.
      parameters:
        - {name: request_id, in: path, required: true, schema: {type: integer}}
        - name: explain
          in: query
          schema: {type: string, enum: ['0', '1', 'false', 'true'], default: '0'}
        - name: rule
          in: query
          description: With explain=1, only operators excluded by this rule
          schema: {type: string, enum: [org_suspended, org_not_verified, licence_not_valid,
                   category_not_covered, code_not_covered, operation_not_allowed,
                   capacity_exhausted, region_not_served]}
        - cursor
        - limit
      responses:
        200:
          description: Qualified operators by score, best first
          content:
            application/json:
              schema: {$ref: '#/components/schemas/MatchList'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: ValidationFailed
    """
    user = api_user()
    explain = _explain_param()
    req, role = visible_request(user, request_id)
    if role not in ("generator", "platform", "regulator"):
        raise PermissionDenied(_("You may not do this."))
    rule = _choice_param("rule", EXCLUSION_RULES) if explain else None
    page = page_request(EXCLUDED_KEYS) if explain else None
    qualified, _none = matches(req)
    body: dict[str, Any] = {"items": [match_json(m) for m in qualified]}
    if explain:
        found = excluded_page(request_facts(req), limit=page.limit, rule=rule,
                              after=tuple(page.after) if page.after else None)
        body["excluded"] = [{**exclusion_json(e), "distance_km": km} for e, km in found.items]
        body["excluded_next"] = encode_cursor(list(found.next)) if found.next else None
    return jsonify(body)


# --- quotes --------------------------------------------------------------------------------------

QUOTE_BODY = ("unit_price_fen_per_t", "transport_fee_fen", "valid_until", "subject_to_sampling",
              "note")


@bp.post(f"/requests/<{ID}:request_id>/quotes")
@idempotent
def submit_quote(request_id: int):
    """Quote on an open request the operator matches.
    ---
    post:
      tags: [quotes]
      summary: Quote on a request
      description: >
        The unit price is integer fen per tonne and may be negative (the operator pays for
        valuable waste); the transport fee is integer fen, not negative. An operator that does not
        match the request is refused with 403 and the failing matching rule as `code`
        (e.g. region_not_served, capacity_exhausted).
      parameters:
        - {name: request_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/QuoteInput'}
      responses:
        201:
          description: The quote, submitted
          content:
            application/json:
              schema: {$ref: '#/components/schemas/QuoteState'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    _unknown_fields(body, QUOTE_BODY)
    values = dict(
        unit_price_fen_per_t=require_int(body, "unit_price_fen_per_t", -MAX_MONEY_FEN, MAX_MONEY_FEN),
        transport_fee_fen=optional_int(body, "transport_fee_fen", 0, MAX_MONEY_FEN) or 0,
        valid_until=require_date(body, "valid_until"),
        subject_to_sampling=optional_bool(body, "subject_to_sampling"),
        note=optional_str(body, "note", 2000) or "")
    quote = quote_service.submit_quote(api_user(), request_id, **values)
    return jsonify(id=quote.id, status=quote.status), 201


@bp.post(f"/quotes/<{ID}:quote_id>/accept")
@idempotent
def accept_quote(quote_id: int):
    """Accept a quote: award the request and create the order (generator).
    ---
    post:
      tags: [quotes]
      summary: Accept a quote
      description: >
        Reserves the quantity on the operator's licence item, creates the order and rejects the
        other quotes. A quote that expired, was withdrawn or rejected, or was already accepted is
        a 409; resending with the same Idempotency-Key replays the first answer.
      parameters:
        - {name: quote_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      responses:
        200:
          description: The order created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OrderCreated'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    order = lifecycle.accept_quote(api_user(), quote_id)
    return jsonify(order_id=order.id)


@bp.post(f"/quotes/<{ID}:quote_id>/withdraw")
@idempotent
def withdraw_quote(quote_id: int):
    """Withdraw a quote that has not been accepted (operator).
    ---
    post:
      tags: [quotes]
      summary: Withdraw a quote
      parameters:
        - {name: quote_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      responses:
        200:
          description: The quote, withdrawn
          content:
            application/json:
              schema: {$ref: '#/components/schemas/QuoteState'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    quote = quote_service.withdraw_quote(api_user(), quote_id)
    return jsonify(id=quote.id, status=quote.status)


# --- storefront offers ---------------------------------------------------------------------------

OFFER_BODY = ("category", "waste_code", "method_code", "service_region_prefixes", "min_kg", "max_kg",
              "unit_price_fen_per_t", "transport_fee_fen", "lead_time_days", "description")


@bp.post("/offers")
@idempotent
def create_offer():
    """Publish a storefront offer (operator).
    ---
    post:
      tags: [offers]
      summary: Publish an offer
      description: >
        A standing price for a category (or one code of it) and a method the operator's valid
        licence covers, in the given service regions (prefixes of 2, 4 or 6 digits), for orders
        between min_kg and max_kg. The unit price may be negative.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/OfferInput'}
      responses:
        201:
          description: The offer, active
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Created'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    _unknown_fields(body, OFFER_BODY)
    values = dict(
        category=require_str(body, "category", 10),
        waste_code=optional_str(body, "waste_code", 20),
        method_code=require_str(body, "method_code", 10),
        service_region_prefixes=_str_list(body, "service_region_prefixes", 100, 6) or [],
        min_kg=require_int(body, "min_kg", 1, MAX_QUANTITY_KG),
        max_kg=require_int(body, "max_kg", 1, MAX_QUANTITY_KG),
        unit_price_fen_per_t=require_int(body, "unit_price_fen_per_t", -MAX_MONEY_FEN, MAX_MONEY_FEN),
        transport_fee_fen=optional_int(body, "transport_fee_fen", 0, MAX_MONEY_FEN) or 0,
        lead_time_days=optional_int(body, "lead_time_days", 0, MAX_LEAD_DAYS),
        description=optional_str(body, "description", 2000) or "")
    if values["lead_time_days"] is None:
        del values["lead_time_days"]  # the use case's default
    offer = offer_service.create_offer(api_user(), **values)
    return jsonify(id=offer.id), 201


OFFER_KEYS = (Key(StorefrontOffer.id, int, "id"),)


@bp.get("/offers")
def list_offers():
    """Active storefront offers of verified operators.
    ---
    get:
      tags: [offers]
      summary: Storefront offers
      parameters:
        - name: category
          in: query
          schema: {type: string, example: HW08}
        - name: region
          in: query
          description: >
            A pickup region code (or a 2- or 4-digit prefix); only offers serving it are listed,
            i.e. with a service prefix that begins it
          schema: {type: string, pattern: '^[0-9]{2}([0-9]{2}){0,2}$'}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: >
            Offers by id (with updated_after, in change order, withdrawn ones included with
            `active: false` so a sync learns of them)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OfferList'}
        401: Unauthorized
        422: ValidationFailed
    """
    category = query_str("category", 10)
    region = query_str("region", 10)
    if region is not None and not (region.isascii() and region.isdigit() and len(region) in (2, 4, 6)):
        raise ValidationFailed(_("Region prefix %(p)s must have 2, 4 or 6 digits.", p=region),
                               field="region")
    feed = feed_request()
    page = None if feed else page_request(OFFER_KEYS)
    stmt = (select(StorefrontOffer).join(Organisation, Organisation.id == StorefrontOffer.operator_id)
            .where(Organisation.status == "verified"))
    if not feed:
        stmt = stmt.where(StorefrontOffer.active.is_(True))
    if category:
        stmt = stmt.where(StorefrontOffer.category_code == category.upper())
    if region:
        stmt = stmt.where(StorefrontOffer.service_region_prefixes.overlap(
            sorted({region[:n] for n in (2, 4, 6) if n <= len(region)})))
    if feed:
        return jsonify(list_body(changes_page(stmt, StorefrontOffer, feed), offer_json))
    return jsonify(list_body(paginate(stmt, OFFER_KEYS, page), offer_json))


ORDER_FROM_OFFER_BODY = ("quantity_kg", "region_code", "address", "window_start")


@bp.post(f"/offers/<{ID}:offer_id>/order")
@idempotent
def order_from_offer(offer_id: int):
    """Order directly from a storefront offer (generator).
    ---
    post:
      tags: [offers]
      summary: Order from an offer
      description: >
        Creates an order exactly as an accepted quote does, reserving the quantity on the
        operator's licence item. Pickup region and address default to the generator's own;
        window_start (the pickup date) defaults to today and may not be in the past.
      parameters:
        - {name: offer_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/OfferOrderInput'}
      responses:
        201:
          description: The order created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OrderCreated'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    _unknown_fields(body, ORDER_FROM_OFFER_BODY)
    quantity = require_int(body, "quantity_kg", 1, MAX_QUANTITY_KG)
    region_code = optional_str(body, "region_code", 12)
    address = optional_str(body, "address", 300)
    wanted_on = optional_date(body, "window_start")
    if wanted_on is not None and wanted_on < today():
        raise ValidationFailed(_("The wanted window cannot start in the past (today is %(d)s).",
                                 d=shown_date(today())), field="window_start")
    try:
        order = lifecycle.order_from_offer(api_user(), offer_id, quantity_kg=quantity,
                                               region_code=region_code, address=address,
                                               wanted_on=wanted_on)
    except ValidationFailed as exc:
        # The use case calls the pickup date wanted_on; this endpoint calls it window_start.
        if exc.field == "wanted_on":
            exc.field = "window_start"
        raise
    return jsonify(order_id=order.id), 201


# --- OpenAPI schemas -----------------------------------------------------------------------------

def _obj(required: list[str], **props) -> dict:
    return {"type": "object", "required": required, "properties": props}


_S = {"type": "string"}
_NS = {"type": "string", "nullable": True}
_I = {"type": "integer"}
_NI = {"type": "integer", "nullable": True}
_B = {"type": "boolean"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time", "nullable": True}
_FEN = {"type": "integer", "description": "Integer fen"}
_KG = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY_KG, "description": "Integer kg"}
_ARR = lambda item: {"type": "array", "items": item}  # noqa: E731
_REQ_STATUS = {"type": "string", "enum": list(REQUEST_STATUSES)}
_RULE = {"type": "string", "description": "Rule id, e.g. region_not_served"}

_REQUEST_FIELDS = dict(
    category={**_S, "example": "HW08"}, waste_code={**_NS, "example": "900-214-08"},
    description={**_S, "maxLength": 2000}, form={"type": "string", "enum": list(FORMS)},
    packaging={**_S, "maxLength": 100},
    hazards=_ARR({"type": "string", "enum": list(HAZARDS)}), quantity_kg=_KG,
    region_code={**_S, "example": "440306"}, address={**_S, "maxLength": 300},
    window_start=_DATE, window_end=_DATE,
    method_group={"type": "string", "enum": list(METHOD_GROUPS), "nullable": True},
    requires_sampling=_B, budget_fen={**_FEN, "nullable": True},
    recurring={"type": "string", "enum": list(RECURRING), "default": "none"})

_QUOTE = _obj(["id", "request_id", "operator_id", "operator_name", "licence_item_id",
               "unit_price_fen_per_t", "transport_fee_fen", "total_fen", "valid_until",
               "subject_to_sampling", "note", "status", "created_at"],
              id=_I, request_id=_I, operator_id=_I, operator_name=_S, licence_item_id=_I,
              unit_price_fen_per_t=_FEN, transport_fee_fen=_FEN,
              total_fen={**_FEN, "description": "Disposal of the requested quantity plus transport"},
              valid_until=_DATE, subject_to_sampling=_B, note=_S,
              status={"type": "string", "enum": ["submitted", "withdrawn", "rejected", "expired",
                                                 "accepted"]},
              created_at=_TIME)

_REQUEST = _obj(["id", "number", "status", "generator_id", *_REQUEST_FIELDS, "small_lot",
                 "published_at", "created_at"],
                id=_I, number={**_S, "example": "RQ2026000123"}, status=_REQ_STATUS,
                generator_id=_I, **_REQUEST_FIELDS, small_lot=_B, published_at=_TIME,
                created_at=_TIME)

_OFFER_FIELDS = dict(
    category={**_S, "example": "HW08"}, waste_code=_NS, method_code={**_S, "example": "R9"},
    service_region_prefixes=_ARR({"type": "string", "pattern": "^[0-9]{2}([0-9]{2}){0,2}$"}),
    min_kg=_KG, max_kg=_KG,
    unit_price_fen_per_t={**_FEN, "description": "Integer fen per tonne; negative: the operator pays"},
    transport_fee_fen={**_FEN, "minimum": 0, "default": 0},
    lead_time_days={"type": "integer", "minimum": 0, "maximum": MAX_LEAD_DAYS, "default": 7},
    description={**_S, "maxLength": 2000})

SCHEMAS.update({
    "RequestInput": _obj(["category", "description", "form", "packaging", "quantity_kg",
                          "region_code", "address", "window_start", "window_end"],
                         **_REQUEST_FIELDS),
    "RequestCreated": _obj(["id", "number", "status"], id=_I, number=_S, status=_REQ_STATUS),
    "Request": _REQUEST,
    "RequestDetail": {"allOf": [{"$ref": "#/components/schemas/Request"},
                                _obj(["quotes"], quotes=_ARR({"$ref": "#/components/schemas/Quote"}))]},
    "Quote": _QUOTE,
    "QuoteInput": _obj(["unit_price_fen_per_t", "valid_until"],
                       unit_price_fen_per_t={**_FEN, "description": "Integer fen per tonne; may be negative"},
                       transport_fee_fen={**_FEN, "minimum": 0, "default": 0},
                       valid_until=_DATE, subject_to_sampling={**_B, "default": False},
                       note={**_S, "maxLength": 2000}),
    "QuoteState": _obj(["id", "status"], id=_I, status=_S),
    "OrderCreated": _obj(["order_id"], order_id=_I),
    "Created": _obj(["id"], id=_I),
    "Reason": _obj(["rule", "message"], rule=_S, message=_S),
    "Match": _obj(["operator_id", "operator_name", "licence_item_id", "remaining_kg", "score",
                   "reasons"],
                  operator_id=_I, operator_name=_S, licence_item_id=_I, remaining_kg=_I,
                  score={"type": "number", "minimum": 0, "maximum": 100},
                  distance_km={"type": "number", "nullable": True},
                  storefront_total_fen=_NI,
                  reasons=_ARR({"$ref": "#/components/schemas/Reason"}),
                  record={**_ARR({"$ref": "#/components/schemas/RecordFact"}),
                          "description": "Track record: on_time_record {rate, manifests} or "
                                         "on_time_not_measured; reviews {average, count} or "
                                         "no_reviews"}),
    "RecordFact": _obj(["rule", "message"], rule=_S, message=_S,
                       params={"type": "object", "additionalProperties": True}),
    "Exclusion": _obj(["operator_id", "rule"], operator_id=_I, operator_name=_S, rule=_RULE,
                      message=_S, distance_km={"type": "number", "nullable": True}),
    "MatchList": _obj(["items"], items=_ARR({"$ref": "#/components/schemas/Match"}),
                      excluded={**_ARR({"$ref": "#/components/schemas/Exclusion"}),
                                "description": "Only with explain=1: a page, nearest first"},
                      excluded_next={"type": "string", "nullable": True,
                                     "description": "Pass as ?cursor= for the next page of "
                                                    "excluded operators; null on the last"}),
    "OfferInput": _obj(["category", "method_code", "service_region_prefixes", "min_kg", "max_kg",
                        "unit_price_fen_per_t"], **_OFFER_FIELDS),
    "Offer": _obj(["id", "operator_id", "operator_name", *_OFFER_FIELDS, "active"],
                  id=_I, operator_id=_I, operator_name=_S, **_OFFER_FIELDS, active=_B),
    "OfferOrderInput": _obj(["quantity_kg"], quantity_kg=_KG, region_code=_S,
                            address={**_S, "maxLength": 300},
                            window_start={**_DATE, "description": "Pickup date; default today"}),
})


def _list_of(ref: str) -> dict:
    return _obj(["items", "next"], items=_ARR({"$ref": f"#/components/schemas/{ref}"}),
                next={"type": "string", "nullable": True,
                      "description": "Pass as ?cursor= for the next page; null on the last"})


SCHEMAS["RequestList"] = _list_of("Request")
SCHEMAS["OfferList"] = _list_of("Offer")

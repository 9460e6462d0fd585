"""API lists of quotes, manifests and settlements: plain (newest first) or, with `updated_after`,
change feeds (market/api/changes.py) that serve each change exactly once in commit order; and the
collection rounds feed behind GET /collection-rounds?updated_after=.

An item that is a parent with child rows (a manifest with its lines, signatures and discrepancies;
a settlement with its lines; a round with its categories and bookings) comes back whenever a child
changes too: the child's trigger registers the parent in row_change (migration 0022_feeds).
"""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import or_, select

from market import db
from market.accounts.models import User
from market.api import bp
from market.api.auth import api_user
from market.api.changes import FeedRequest, changes_page, feed_request
from market.api.listings import ID_KEYS, _choice_param, paginate_newest_first, quote_json
from market.api.manifests import manifest_json
from market.api.openapi import SCHEMAS, _INT, _STR, _list_of, _obj
from market.api.pagination import list_body, page_request
from market.collection.models import CollectionRound
from market.collection.queries import round_json, rounds_query
from market.collection.state import serves
from market.listings.models import QUOTE_STATUSES, DisposalRequest, Quote
from market.manifests.access import visible_manifests
from market.manifests.models import MANIFEST_STATUSES, Manifest
from market.money import line_amount_fen
from market.orders.models import Order
from market.orders.queries import visible_orders
from market.region_scope import request_in_region
from market.settlement.models import SETTLEMENT_STATUSES, Settlement
from market.settlement.queries import settlement_view


def visible_quotes(user: User):
    """Quotes the user may read: its operator's own, those on its generator's requests; platform
    staff all; regulators those on requests in their region (market.region_scope)."""
    stmt = select(Quote).join(DisposalRequest, DisposalRequest.id == Quote.request_id)
    if user.is_platform:
        return stmt
    if user.is_regulator:
        return stmt.where(request_in_region(user.org.scope_prefix))
    return stmt.where(or_(Quote.operator_id == user.org_id,
                          DisposalRequest.generator_id == user.org_id))


def _quote_item(quote: Quote) -> dict:
    total = line_amount_fen(quote.unit_price_fen_per_t, quote.request.quantity_kg) \
        + quote.transport_fee_fen
    return quote_json(quote, total)


@bp.get("/quotes")
def list_quotes():
    """Quotes the caller's organisation made or received, newest first.
    ---
    get:
      tags: [listings]
      summary: Quotes
      description: >
        An operator sees the quotes it submitted; a generator the quotes on its requests;
        regulators the quotes on requests in their region; platform staff all. With
        `updated_after` the list is a change feed: each quote created or changed (submitted,
        withdrawn, accepted, rejected, expired) after that time comes once per change, in
        commit order; keep passing `cursor`.
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [submitted, accepted, rejected, withdrawn, expired]}}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: Quotes by id, newest first (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/QuoteList'}
        401: Unauthorized
        422: ValidationFailed
    """
    user = api_user()
    status = _choice_param("status", QUOTE_STATUSES)
    feed = feed_request()
    page = None if feed else page_request(ID_KEYS)
    stmt = visible_quotes(user)
    if status:
        stmt = stmt.where(Quote.status == status)
    if feed:
        return jsonify(list_body(changes_page(stmt, Quote, feed), _quote_item))
    return jsonify(list_body(paginate_newest_first(stmt, Quote.id, page), _quote_item))


@bp.get("/manifests")
def list_manifests():
    """Manifests the caller's organisation is generator, carrier or receiver of, newest first.
    ---
    get:
      tags: [manifests]
      summary: Manifests
      description: >
        The manifests the caller may read (as GET /manifests/{id}): its generator, carrier and
        receiving operator, platform staff, regulators of the generator's, pickup or operator's
        region. With `updated_after` the list is a change feed in commit order: a manifest comes
        again when it, one of its lines (weights received or refused), signatures or
        discrepancies changes; keep passing `cursor`.
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [draft, shipped, received, closed, cancelled]}}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: Manifests by id, newest first (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ManifestList'}
        401: Unauthorized
        422: ValidationFailed
    """
    user = api_user()
    status = _choice_param("status", MANIFEST_STATUSES)
    feed = feed_request()
    page = None if feed else page_request(ID_KEYS)
    stmt = visible_manifests(select(Manifest), user)
    if status:
        stmt = stmt.where(Manifest.status == status)
    if feed:
        found = changes_page(stmt, Manifest, feed)
    else:
        found = paginate_newest_first(stmt, Manifest.id, page)
    return jsonify(list_body(found, lambda m: manifest_json(m, user)))


def _settlement_item(row: Settlement) -> dict:
    order = db.session.get(Order, row.order_id)
    return {"id": row.id, "order_id": order.id, "order_number": order.number,
            "settled_at": row.settled_at.isoformat() if row.settled_at else None,
            **settlement_view(order).as_json()}


@bp.get("/settlements")
def list_settlements():
    """Settlements of the orders the caller's organisation is party to, newest first.
    ---
    get:
      tags: [settlement]
      summary: Settlements
      description: >
        One item per settled (or top-up-due) order the caller may see (as GET /orders): the
        order's settlement as GET /orders/{id}/settlement shows it, with the order's id and
        number. Orders not settled yet are not listed (follow them in GET /orders). With
        `updated_after` the list is a change feed in commit order: a settlement comes again when
        it or one of its lines changes (settled after a top-up, the certificate uploaded and the
        retention released); keep passing `cursor`.
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [topup_due, settled]}}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: Settlements by id, newest first (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SettlementItemList'}
        401: Unauthorized
        422: ValidationFailed
    """
    user = api_user()
    status = _choice_param("status", SETTLEMENT_STATUSES)
    feed = feed_request()
    page = None if feed else page_request(ID_KEYS)
    stmt = visible_orders(select(Settlement).join(Order, Order.id == Settlement.order_id), user)
    if status:
        stmt = stmt.where(Settlement.status == status)
    if feed:
        return jsonify(list_body(changes_page(stmt, Settlement, feed), _settlement_item))
    return jsonify(list_body(paginate_newest_first(stmt, Settlement.id, page), _settlement_item))


def rounds_feed(feed: FeedRequest, region: str | None, category: str | None) -> dict:
    """A page of the collection rounds change feed (GET /collection-rounds?updated_after=)."""
    page = changes_page(rounds_query(category), CollectionRound, feed,
                        keep=lambda r: region is None or serves(r.region_codes, region))
    return list_body(page, round_json)


SCHEMAS["QuoteList"] = _list_of("Quote")
SCHEMAS["ManifestList"] = _list_of("Manifest")
SCHEMAS["SettlementItem"] = {"allOf": [
    {"$ref": "#/components/schemas/Settlement"},
    _obj(["id", "order_id", "order_number"], id=_INT, order_id=_INT, order_number=_STR,
         settled_at={**_STR, "format": "date-time", "nullable": True})]}
SCHEMAS["SettlementItemList"] = _list_of("SettlementItem")

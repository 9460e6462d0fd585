"""API routes of outbound webhooks, and the objects webhooks carry, shown as this API shows them.

An organisation's admin registers endpoints; the secret is in the creation response only.
Deliveries are signed with `Hazex-Signature` (docs/webhooks.md says how to verify them).
"""
from __future__ import annotations

from flask import jsonify

from market import db
from market.api import bp
from market.api.auth import api_user
from market.api.contracts import contract_json
from market.api.idempotency import idempotent
from market.api.listings import ID, _iso, _obj, _unknown_fields, quote_json
from market.api.manifests import manifest_json
from market.api.openapi import SCHEMAS
from market.api.orders import order_json
from market.api.regulator import alert_json
from market.api.parsing import json_body, query_int
from market.contracts.models import ContractVersion
from market.escrow.models import Payout
from market.listings.models import Quote
from market.manifests.models import Manifest
from market.money import line_amount_fen
from market.orders.models import Order
from market.oversight.models import Alert
from market.settlement.models import Settlement
from market.settlement.queries import settlement_view
from market.webhooks import registry
from market.webhooks import services as webhooks
from market.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

# --- what webhooks carry ------------------------------------------------------------------------


def _order_orgs(order: Order) -> set[int]:
    return {order.generator_id, order.operator_id} | {ln.payee_org_id for ln in order.lines}


def _quote_data(quote: Quote) -> dict:
    total = line_amount_fen(quote.unit_price_fen_per_t, quote.request.quantity_kg) \
        + quote.transport_fee_fen
    return quote_json(quote, total)


def _contract_data(version: ContractVersion) -> dict:
    contract = version.contract
    return {**contract_json(contract.order, contract), "signed_version": version.version}


def payout_json(payout: Payout) -> dict:
    return {"id": payout.id, "org_id": payout.org_id, "order_id": payout.order_id,
            "gateway": payout.gateway, "method": payout.method, "amount_fen": payout.amount_fen,
            "status": payout.status, "executed_at": _iso(payout.executed_at)}


def _settlement_data(row: Settlement) -> dict:
    return {"order_id": row.order_id, **settlement_view(db.session.get(Order, row.order_id)).as_json()}


for _source in (
    registry.Source("trade_order", Order, order_json, _order_orgs),
    registry.Source("quote", Quote, _quote_data,
                    lambda q: {q.operator_id, q.request.generator_id}),
    registry.Source("contract_version", ContractVersion, _contract_data,
                    lambda v: _order_orgs(v.contract.order)),
    registry.Source("escrow_payout", Payout, payout_json, lambda p: {p.org_id}),
    registry.Source("manifest", Manifest, lambda m: manifest_json(m, None),
                    lambda m: {m.generator_org_id, m.carrier_org_id, m.receiver_org_id}),
    registry.Source("settlement", Settlement, _settlement_data,
                    lambda s: _order_orgs(db.session.get(Order, s.order_id))),
    # Alerts go to regulators whose region holds the record, never to the parties.
    registry.Source("oversight_alert", Alert, alert_json, lambda a: set(),
                    regions=lambda a: (a.generator_region, a.pickup_region, a.operator_region)),
):
    registry.register(_source)


# --- endpoints ----------------------------------------------------------------------------------

def endpoint_json(ep: WebhookEndpoint) -> dict:
    return {"id": ep.id, "url": ep.url, "events": list(ep.events), "active": ep.active,
            "disabled_at": _iso(ep.disabled_at), "failing_since": _iso(ep.failing_since),
            "created_at": _iso(ep.created_at)}


def delivery_json(d: WebhookDelivery) -> dict:
    return {"id": d.id, "event_id": d.event.public_id, "type": d.event.type,
            "object": d.object_key, "status": d.status, "attempts": d.attempts,
            "last_status_code": d.last_status_code, "last_error": d.last_error,
            "next_attempt_at": _iso(d.next_attempt_at), "delivered_at": _iso(d.delivered_at),
            "replay_of": d.replay_of, "created_at": _iso(d.created_at)}


@bp.post("/webhooks")
@idempotent
def create_webhook():
    """Register a webhook endpoint (organisation admins).
    ---
    post:
      tags: [webhooks]
      summary: Register a webhook endpoint
      description: >
        Events of the objects that concern the caller's organisation are POSTed to `url` as
        `{id, type, created_at, data}` where `data` is the object as this API shows it, signed in
        the header `Hazex-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
        Verify the signature over the raw body and reject a `t` more than 5 minutes from your
        clock (replays). The `secret` is in this response only. Failed deliveries are retried with
        exponential backoff (30 s doubling, at most hourly) for a day; deliveries of one object
        arrive in order; an endpoint failing for a day is switched off and your admins notified.
        Regulators' endpoints receive `alert.raised` for alerts in their region.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/WebhookInput'}
      responses:
        201:
          description: The endpoint, with its secret (shown only here)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/WebhookCreated'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    _unknown_fields(body, ("url", "events"))
    ep, secret = webhooks.create_endpoint(api_user(), body.get("url"), body.get("events"))
    return jsonify({**endpoint_json(ep), "secret": secret}), 201


@bp.get("/webhooks")
def list_webhooks():
    """The caller's organisation's webhook endpoints.
    ---
    get:
      tags: [webhooks]
      summary: Webhook endpoints
      responses:
        200:
          description: Endpoints (never their secrets)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/WebhookList'}
        401: Unauthorized
    """
    return jsonify(items=[endpoint_json(e) for e in webhooks.endpoints_of(api_user())], next=None)


@bp.delete(f"/webhooks/<{ID}:endpoint_id>")
@idempotent
def delete_webhook(endpoint_id: int):
    """Remove a webhook endpoint (organisation admins).
    ---
    delete:
      tags: [webhooks]
      summary: Remove a webhook endpoint
      parameters:
        - {name: endpoint_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      responses:
        200:
          description: Removed; nothing more is sent to it
          content:
            application/json:
              schema:
                type: object
                required: [id, deleted]
                properties:
                  id: {type: integer}
                  deleted: {type: boolean}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    webhooks.delete_endpoint(api_user(), endpoint_id)
    return jsonify(id=endpoint_id, deleted=True)


@bp.get(f"/webhooks/<{ID}:endpoint_id>/deliveries")
def webhook_deliveries(endpoint_id: int):
    """The delivery log of one endpoint, newest first.
    ---
    get:
      tags: [webhooks]
      summary: Deliveries of an endpoint
      parameters:
        - {name: endpoint_id, in: path, required: true, schema: {type: integer}}
        - {name: before, in: query, schema: {type: integer}, description: Deliveries older than this id}
        - limit
      responses:
        200:
          description: Deliveries with their status codes
          content:
            application/json:
              schema: {$ref: '#/components/schemas/WebhookDeliveryList'}
        401: Unauthorized
        404: NotFound
        422: ValidationFailed
    """
    limit = query_int("limit", 50, 1, 200)
    before = query_int("before", 0, 0, 2**63 - 1) or None
    rows = webhooks.deliveries_of(api_user(), endpoint_id, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(items=[delivery_json(d) for d in rows],
                   next=str(rows[-1].id) if more else None)


@bp.post(f"/webhooks/<{ID}:endpoint_id>/deliveries/<{ID}:delivery_id>/replay")
@idempotent
def replay_webhook_delivery(endpoint_id: int, delivery_id: int):
    """Send a delivery's event again (organisation admins).
    ---
    post:
      tags: [webhooks]
      summary: Replay a delivery
      description: The same event id is sent again as a new delivery; receivers drop ids they have.
      parameters:
        - {name: endpoint_id, in: path, required: true, schema: {type: integer}}
        - {name: delivery_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      responses:
        201:
          description: The new delivery
          content:
            application/json:
              schema: {$ref: '#/components/schemas/WebhookDelivery'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    d = webhooks.replay(api_user(), endpoint_id, delivery_id)
    return jsonify(delivery_json(db.session.get(WebhookDelivery, d.id))), 201


_S = {"type": "string"}
_DT = {"type": "string", "format": "date-time", "nullable": True}
_EVENTS = {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}}
_ENDPOINT = dict(id={"type": "integer"}, url={**_S, "format": "uri"}, events=_EVENTS,
                 active={"type": "boolean"}, disabled_at=_DT, failing_since=_DT, created_at=_DT)
SCHEMAS["WebhookInput"] = _obj(["url", "events"], url={**_S, "format": "uri", "maxLength": 500},
                               events=_EVENTS)
SCHEMAS["Webhook"] = _obj(["id", "url", "events", "active"], **_ENDPOINT)
SCHEMAS["WebhookCreated"] = _obj(["id", "url", "events", "active", "secret"], **_ENDPOINT,
                                 secret={**_S, "description": "Shown only in this response"})
SCHEMAS["WebhookList"] = _obj(["items", "next"], items={"type": "array", "items": {
    "$ref": "#/components/schemas/Webhook"}}, next={**_S, "nullable": True})
SCHEMAS["WebhookDelivery"] = _obj(
    ["id", "event_id", "type", "status", "attempts"], id={"type": "integer"}, event_id=_S,
    type={"type": "string", "enum": list(EVENT_TYPES)}, object=_S,
    status={"type": "string", "enum": ["pending", "delivered", "failed"]},
    attempts={"type": "integer"}, last_status_code={"type": "integer", "nullable": True},
    last_error={**_S, "nullable": True}, next_attempt_at=_DT, delivered_at=_DT,
    replay_of={"type": "integer", "nullable": True}, created_at=_DT)
SCHEMAS["WebhookDeliveryList"] = _obj(["items", "next"], items={"type": "array", "items": {
    "$ref": "#/components/schemas/WebhookDelivery"}}, next={**_S, "nullable": True,
                                                           "description": "Pass as ?before="})

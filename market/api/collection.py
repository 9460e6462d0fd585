"""API routes of collection rounds (DESIGN.md §9, issue 13): publish and find rounds, book and
cancel a pickup, start the round, record each stop, receive the trip."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.changes import feed_request
from market.api.feeds import rounds_feed
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, query_str
from market.collection import queries, run, services
from market.collection.state import BOOKING_STATUSES, ROUND_STATUSES
from market.errors import ValidationFailed
from market.catalog import messages as catalog_messages

ID = "int(max=2147483647)"

_I = {"type": "integer"}
_NI = {"type": "integer", "nullable": True}
_S = {"type": "string"}
_NS = {"type": "string", "nullable": True}


def _obj(required: list[str], **props) -> dict:
    return {"type": "object", "required": required, "properties": props}


SCHEMAS["CollectionRoundRequest"] = _obj(
    ["region_codes", "date", "window_start", "window_end", "categories", "price_fen_per_kg",
     "vehicle_capacity_kg", "booking_closes_at"],
    region_codes={"type": "array", "items": {**_S, "example": "440300"}},
    date={**_S, "format": "date"}, window_start={**_S, "example": "09:00"},
    window_end={**_S, "example": "17:00"},
    categories={"type": "array", "items": {"oneOf": [
        {**_S, "example": "HW08"},
        _obj(["category"], category=_S, codes={"type": "array", "items": _S})]}},
    price_fen_per_kg={**_I, "description": "may be negative: the collector pays"},
    minimum_fen={**_I, "minimum": 0}, vehicle_capacity_kg={**_I, "minimum": 1},
    booking_closes_at={**_S, "format": "date-time"},
    repeat={**_S, "enum": ["none", "weekly", "monthly"]})
SCHEMAS["CollectionRound"] = _obj(
    ["id", "number", "status", "operator_id", "date", "categories", "price_fen_per_kg",
     "minimum_fen", "free_capacity_kg"],
    id=_I, number=_S, status={**_S, "enum": list(ROUND_STATUSES)}, operator_id=_I,
    operator_name=_S, date={**_S, "format": "date"}, window_start=_S, window_end=_S,
    region_codes={"type": "array", "items": _S}, categories={"type": "array", "items": _S},
    price_fen_per_kg=_I, minimum_fen=_I, vehicle_capacity_kg=_I, free_capacity_kg=_I,
    booking_closes_at={**_S, "format": "date-time"}, repeat=_S)
SCHEMAS["CollectionRoundList"] = _obj(
    ["items", "next"], items={"type": "array", "items": {"$ref": "#/components/schemas/CollectionRound"}},
    next=_NS)
SCHEMAS["BookingRequest"] = _obj(
    ["category", "estimated_kg", "region_code", "address"], category={**_S, "example": "HW08"},
    waste_code={**_S, "example": "900-214-08"}, estimated_kg={**_I, "minimum": 1},
    containers={**_I, "minimum": 1}, region_code={**_S, "example": "440605"}, address=_S)
SCHEMAS["Booking"] = _obj(
    ["id", "status", "amount_fen", "weighed_kg", "settled_fen", "refunded_fen"],
    id=_I, round_id=_I, order_id=_I, order_number=_S,
    status={**_S, "enum": ["awaiting_payment", "booked", "settled", *BOOKING_STATUSES]},
    category=_S, waste_code=_NS, estimated_kg=_I, containers=_I, region_code=_S, address=_S,
    amount_fen={**_I, "description": "asked into escrow: max(minimum, estimated kg × price)"},
    reference={**_NS, "description": "the bank reference to quote when paying"},
    funded_fen=_I, weighed_kg=_NI, received_kg=_NI, settled_fen=_I, refunded_fen=_I,
    fees_fen=_I, topup_fen=_I, note=_NS)
SCHEMAS["Trip"] = _obj(["id", "round_id"], id=_I, round_id=_I, carrier_org_id=_I,
                       vehicle_plate=_S, driver_name=_S, manifest_ids={"type": "array",
                                                                      "items": _I})
SCHEMAS["StartRoundRequest"] = _obj(
    ["vehicle_plate", "driver_name", "driver_phone"],
    carrier_org_id={**_I, "description": "default: the collector itself"},
    vehicle_plate={**_S, "example": "粤E12345"}, driver_name=_S,
    driver_phone={**_S, "example": "13800138000"}, driver_email={**_S, "format": "email"})
SCHEMAS["PickupRequest"] = {"type": "object", "properties": {
    "weighed_kg": {**_I, "minimum": 1}, "no_show": {"type": "boolean"}, "note": _S}}
SCHEMAS["ReceiveTripRequest"] = _obj(
    ["method_code", "bookings"], method_code={**_S, "example": "R9"},
    bookings={"type": "array", "items": _obj(
        ["booking_id", "received_kg"], booking_id=_I, received_kg={**_I, "minimum": 0},
        comment=_S, method_code={**_S, "description": "this booking's method, if not the trip's"})})


def _day(name: str) -> date | None:
    raw = query_str(name, 10)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("Enter a date."), field=name) from None


@bp.post("/collection-rounds")
@idempotent
def publish_round():
    """Publish a collection round (and its weekly or monthly repeats).
    ---
    post:
      tags: [collection]
      summary: Publish a collection round
      description: >
        A verified operator whose licence item allows collection (收集) of every category. Each
        category and region is judged like matching (licence valid on the day, codes listed,
        capacity for the vehicle's load this year, region served), and a refusal carries the
        matching rule as its code. `repeat` weekly publishes four rounds, monthly three.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CollectionRoundRequest'}
      responses:
        201:
          description: The first round published (its repeats follow in `repeats`)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CollectionRound'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    rounds = services.publish_round(api_user(), json_body())
    body = queries.round_json(rounds[0])
    body["repeats"] = [r.id for r in rounds[1:]]
    return jsonify(body), 201


@bp.get("/collection-rounds")
def list_rounds():
    """Rounds still taking bookings, by region, category and date.
    ---
    get:
      tags: [collection]
      summary: Find collection rounds
      parameters:
        - {name: region, in: query, description: the pickup region code, schema: {type: string, example: '440605'}}
        - {name: category, in: query, schema: {type: string, example: HW08}}
        - {name: from, in: query, schema: {type: string, format: date}}
        - {name: to, in: query, description: default six weeks on, schema: {type: string, format: date}}
        - updated_after
        - cursor
        - limit
      description: >
        Without `updated_after`: the rounds still taking bookings between `from` and `to`. With
        `updated_after`: a change feed of every round (any status, any date) serving `region`
        and collecting `category` when given, in commit order; a round comes again when it,
        its categories or a booking on it changes (its free capacity); keep passing `cursor`.
      responses:
        200:
          description: Rounds by date, with their free vehicle capacity (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CollectionRoundList'}
        401: Unauthorized
        422: ValidationFailed
    """
    api_user()
    region = query_str("region", 6)
    if region is not None and not (region.isascii() and region.isdigit()):
        raise ValidationFailed(catalog_messages.unknown_region(region), field="region")
    feed = feed_request()
    if feed:
        return jsonify(rounds_feed(feed, region, query_str("category", 10)))
    items = queries.open_rounds(region=region, category=query_str("category", 10),
                                frm=_day("from"), to=_day("to"))
    return jsonify({"items": items, "next": None})


@bp.post(f"/collection-rounds/<{ID}:round_id>/bookings")
@idempotent
def book(round_id: int):
    """Book a pickup on a round.
    ---
    post:
      tags: [collection]
      summary: Book a pickup
      description: >
        A verified generator. Reserves room on the vehicle and the collector's licensed capacity
        under the same locks as an award, and asks for max(minimum, estimated kg × price) into
        escrow: pay by bank transfer quoting `reference`. Unpaid at the booking deadline, the
        booking lapses. Refused (nothing changed): a category the round does not collect, after
        the deadline, beyond the free capacity, a pickup region the round does not serve.
      parameters:
        - {name: round_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/BookingRequest'}
      responses:
        201:
          description: The booking, awaiting payment
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Booking'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    booking = services.book_round(api_user(), round_id, json_body())
    return jsonify(queries.booking_json(booking)), 201


@bp.get(f"/bookings/<{ID}:booking_id>")
def get_booking(booking_id: int):
    """One booking with its money.
    ---
    get:
      tags: [collection]
      summary: A booking
      description: >
        Visible to its generator, the collector, the trip's carrier, platform staff and
        regulators whose scope covers the pickup region or the collector.
      parameters:
        - {name: booking_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The booking
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Booking'}
        401: Unauthorized
        404: NotFound
    """
    return jsonify(queries.booking_json(queries.visible_booking(api_user(), booking_id)))


@bp.post(f"/bookings/<{ID}:booking_id>/cancel")
@idempotent
def cancel_booking(booking_id: int):
    """Cancel a booking.
    ---
    post:
      tags: [collection]
      summary: Cancel a booking
      description: >
        The generator, before the round starts. Before the booking deadline everything paid is
        refunded; after it the collector keeps the configured no-show fee.
      parameters:
        - {name: booking_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {reason: {type: string}}}
      responses:
        200:
          description: The booking, cancelled
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Booking'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body() if request.get_data() else {}
    reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
    booking = services.cancel_booking(api_user(), booking_id, reason)
    return jsonify(queries.booking_json(booking))


@bp.post(f"/collection-rounds/<{ID}:round_id>/start")
@idempotent
def start_round(round_id: int):
    """Start a round: one trip, one manifest per paid booking.
    ---
    post:
      tags: [collection]
      summary: Start a round
      description: >
        The collector. Unpaid bookings lapse; each paid booking gets a draft manifest linked to
        the trip. The carrier (default the collector) needs a valid transport permit. A second
        start is refused (`already_started`).
      parameters:
        - {name: round_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/StartRoundRequest'}
      responses:
        200:
          description: The trip
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Trip'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    trip = run.start_round(api_user(), round_id, json_body())
    return jsonify({"id": trip.id, "round_id": trip.round_id,
                    "carrier_org_id": trip.carrier_org_id, "vehicle_plate": trip.vehicle_plate,
                    "driver_name": trip.driver_name,
                    "manifest_ids": run.manifest_ids(trip.id)})


@bp.post(f"/bookings/<{ID}:booking_id>/pickup")
@idempotent
def pickup(booking_id: int):
    """Record a stop: the weighed kg, or a no-show with a note.
    ---
    post:
      tags: [collection]
      summary: Record a pickup
      description: >
        The collector or the trip's carrier. `{weighed_kg}` sets the manifest's sent kg; a
        carrier's call also signs the carrier part, and the generator signs its part on the
        driver's phone (`POST /manifests/{id}/sign`), which ships the manifest.
        `{no_show: true, note}` cancels the draft manifest: the collector keeps the no-show fee,
        the rest is refunded.
      parameters:
        - {name: booking_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PickupRequest'}
      responses:
        200:
          description: The booking
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Booking'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    booking = run.pickup(api_user(), booking_id, json_body(), ip=request.remote_addr)
    return jsonify(queries.booking_json(booking))


@bp.post(f"/collection-rounds/<{ID}:round_id>/receive")
@idempotent
def receive(round_id: int):
    """Receive the whole trip at the depot.
    ---
    post:
      tags: [collection]
      summary: Receive a round's trip
      description: >
        The collector, once: every picked-up booking with its received kg (a difference beyond
        the tolerance needs a comment and opens a discrepancy). Each booking settles on its own:
        max(minimum, received kg × price) released to the collector, the difference refunded, or
        a top-up asked first. A booking never picked up is refused (`not_picked_up`).
      parameters:
        - {name: round_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ReceiveTripRequest'}
      responses:
        200:
          description: The round and its bookings
          content:
            application/json:
              schema:
                type: object
                properties:
                  round: {$ref: '#/components/schemas/CollectionRound'}
                  bookings: {type: array, items: {$ref: '#/components/schemas/Booking'}}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    r = run.receive_trip(api_user(), round_id, json_body(), ip=request.remote_addr)
    return jsonify({"round": queries.round_json(r),
                    "bookings": [queries.booking_json(b) for b in run.bookings_of(r.id)]})

"""The run of a collection round (issue 13): start the trip, pick up at each stop, receive the
whole trip at the depot.

    start    one trip; one manifest per paid booking (the existing manifest model), each linked to
             the trip by trip_id; unpaid bookings lapse now
    pickup   the driver weighs (the manifest's sent kg) and signs the carrier part; the generator
             signs its part on the driver's phone (POST /manifests/{id}/sign, or the driver's
             one-time code path): the manifest ships. A no-show is recorded with a note: the draft
             manifest is cancelled and the booking's escrow pays the no-show fee, the rest back.
    receive  the collector receives every picked-up booking at once, with its received kg; each
             booking's order is received and settles on its own (release, refund, or a top-up
             first) through the settlement context.

Each function is one use case; locks in the order round → order → manifest.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.collection import services as collection
from market.collection.models import Booking, CollectionRound, Trip
from market.collection.state import round_problem
from market.collection.validation import TZ
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.escrow import book
from market.listings import validation as v
from market.manifests import queries as manifest_queries
from market.manifests import receiving, signing
from market.manifests import services as manifests
from market.manifests.access import roles_of
from market.manifests.models import Manifest
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.orders import services as orders
from market.orders import settling
from market.orders.models import Order
from market.uow import transaction


def _operator_round(actor: User, round_id: int) -> CollectionRound:
    r = collection.lock_round(round_id)
    if actor.org_id != r.operator_id and not actor.is_platform:
        raise NotFound(_("No such collection round."))
    if actor.org_id != r.operator_id:
        raise PermissionDenied(_("Only the collector runs its round."))
    return r


def _round_move(r: CollectionRound, to: str, role: str) -> None:
    problem = round_problem(r.status, to, role)
    if problem == "invalid_transition":
        code = "already_started" if r.status in ("started", "received") and to == "started" \
            else "invalid_transition"
        raise InvalidState(_("Round %(number)s is %(status)s: it cannot become %(to)s.",
                             number=r.number, status=_(r.status), to=_(to)), code=code)
    if problem == "actor_not_allowed":
        raise PermissionDenied(_("Only the collector runs its round."))
    r.status = to


def follow(order: Order, actor: User | None) -> None:
    """Move a booking's order after its manifest moved (order locked), as the lifecycle does for
    any order: shipped → in transfer, received → received and settled when nothing holds it."""
    frm = order.status
    if order.status == "funded" and manifest_queries.any_shipped(order.id):
        orders.transition(order, "in_transfer", "system")
    if order.status == "in_transfer" and manifest_queries.all_received(order.id):
        orders.transition(order, "received", "system")
    if order.status != frm:
        record("order.transferred", order, actor=actor, changes={"status": [frm, order.status]})
    settling.settle_if_ready(order, actor)


def bookings_of(round_id: int, *statuses: str) -> list[Booking]:
    stmt = select(Booking).where(Booking.round_id == round_id).order_by(Booking.id)
    if statuses:
        stmt = stmt.where(Booking.status.in_(statuses))
    return list(db.session.scalars(stmt))


def trip_of(round_id: int) -> Trip | None:
    return db.session.scalar(select(Trip).where(Trip.round_id == round_id))


def manifest_of(booking: Booking) -> Manifest | None:
    """The booking's manifest on its round's trip (the live one, if any was cancelled)."""
    order_id = db.session.scalar(select(Order.id).where(Order.booking_id == booking.id))
    return db.session.scalar(select(Manifest).where(Manifest.order_id == order_id,
                                                    Manifest.trip_id.is_not(None))
                             .order_by(Manifest.id.desc()).limit(1))


def start_round(actor: User, round_id: int, data: dict) -> Trip:
    """The collector starts the round: one trip, one manifest per paid booking."""
    with transaction():
        r = _operator_round(actor, round_id)
        _round_move(r, "started", "operator")
        for b in bookings_of(r.id, "open"):
            collection.lapse(b)  # still unpaid: it lapses now
        carrier_id = data.get("carrier_org_id") or actor.org_id
        part = manifests.parse_carrier_part(data)
        trip = Trip(round_id=r.id, carrier_org_id=carrier_id, started_by_id=actor.id,
                    vehicle_plate=part["vehicle_plate"], driver_name=part["driver_name"],
                    driver_phone=part["driver_phone"])
        db.session.add(trip)
        db.session.flush()
        pickup_at = datetime.combine(r.day, r.window_start, tzinfo=TZ)
        count = 0
        for b in bookings_of(r.id, "open"):
            order = collection.order_of(b, lock=True)
            if order.status != "funded":
                continue
            manifests.draft_manifest(actor, order, {
                **data, "carrier_org_id": carrier_id, "planned_pickup_at": pickup_at,
                "lines": [{"quantity_kg": b.estimated_kg, "count": b.containers,
                           "packaging": _("%(n)s containers", n=b.containers)}]},
                trip_id=trip.id)
            count += 1
        record("collection.round_started", r, actor=actor, changes={
            "number": r.number, "trip_id": trip.id, "manifests": count,
            "vehicle_plate": trip.vehicle_plate})
        return trip


def _stop(actor: User, booking_id: int) -> tuple[CollectionRound, Booking, Order, Manifest, set]:
    """A stop of a started round: round, booking, order and its draft manifest, locked; the roles
    of the actor on the manifest (the collector or the trip's carrier)."""
    b = db.session.get(Booking, booking_id)
    if b is None:
        raise NotFound(_("No such booking."))
    r = collection.lock_round(b.round_id)
    order = collection.order_of(b, lock=True)
    b = db.session.scalar(select(Booking).where(Booking.id == booking_id).with_for_update()
                          .execution_options(populate_existing=True))
    m = manifest_of(b)
    roles = roles_of(m, actor) if m is not None else set()
    if actor.org_id == r.operator_id:
        roles.add("operator")
    if not roles & {"operator", "carrier"}:
        if actor.org_id == b.generator_id:
            raise PermissionDenied(_("Only the collector or its driver records a stop."))
        raise NotFound(_("No such booking."))
    if r.status != "started" or m is None:
        raise InvalidState(_("Pickups are recorded once the round has started, for paid "
                             "bookings."), code="not_started")
    return r, b, order, m, roles


def pickup(actor: User, booking_id: int, data: dict, ip: str | None = None) -> Booking:
    """At the stop: the weighed kg (and the driver's carrier signature), or a no-show with a note."""
    with transaction():
        r, b, order, m, roles = _stop(actor, booking_id)
        role = "carrier" if "carrier" in roles else "operator"
        if data.get("no_show") is True:
            note = v.text(data.get("note"), "note", 1000, required=True)
            collection.move(b, "no_show", role)
            b.note = note
            manifests.transition(m, "cancelled", "system")
            m.cancelled_at, m.cancel_reason = utcnow(), note
            fee, refunded = collection.keep_fee_and_refund(order, actor, note)
            record("collection.no_show", b, actor=actor, changes={
                "round": r.number, "order": order.number, "note": note, "fee_fen": fee,
                "refunded_fen": refunded})
            notify_org(b.generator_id, "collection.no_show",
                       message("Nobody handed over the waste at your stop on round %(number)s.",
                               number=r.number), verbatim(note), link=f"/collection/bookings/{b.id}")
            return b
        kg = v.whole_kg(data.get("weighed_kg"), "weighed_kg")
        collection.move(b, "picked_up", role)
        b.weighed_kg = kg
        if m.status != "draft":
            raise InvalidState(_("Manifest %(number)s is %(status)s.", number=m.number,
                                 status=_(m.status)), code="invalid_transition")
        m.lines[0].sent_kg = kg  # the driver's scale is the weight that leaves
        db.session.flush()
        record("collection.weighed", b, actor=actor, changes={
            "round": r.number, "manifest": m.number, "weighed_kg": kg})
        if "carrier" in roles:
            signing.sign_pickup(actor, m.id, "carrier", ip)
            follow(order, actor)
        return b


def receive_trip(actor: User, round_id: int, data: dict, ip: str | None = None) -> CollectionRound:
    """The depot receives the whole trip at once: every picked-up booking with its received kg."""
    with transaction():
        r = _operator_round(actor, round_id)
        if r.status != "started":
            raise InvalidState(_("Round %(number)s is %(status)s: only a started round's trip is "
                                 "received.", number=r.number, status=_(r.status)),
                               code="not_started")
        raw = data.get("bookings")
        if not isinstance(raw, list) or not raw:
            raise ValidationFailed(_("Give the received kg of every booking picked up."),
                                   field="bookings")
        mine = {b.id: b for b in bookings_of(r.id)}
        seen: dict[int, dict] = {}
        for i, item in enumerate(raw):
            bid = item.get("booking_id") if isinstance(item, dict) else None
            b = mine.get(bid) if isinstance(bid, int) else None
            if b is None:
                raise ValidationFailed(_("Not a booking of this round."),
                                       field=f"bookings[{i}].booking_id")
            if b.status != "picked_up" or bid in seen:
                raise InvalidState(_("Booking %(id)s was never picked up: it cannot be received.",
                                     id=bid), code="not_picked_up",
                                   field=f"bookings[{i}].booking_id")
            kg = item.get("received_kg")
            if not isinstance(kg, int) or isinstance(kg, bool) or kg < 0:
                raise ValidationFailed(_("Weights are whole numbers of kilograms, zero or more."),
                                       field=f"bookings[{i}].received_kg")
            seen[bid] = {"received_kg": kg, "comment": item.get("comment") or "",
                         "method_code": item.get("method_code") or data.get("method_code")}
        missing = [bid for bid, b in mine.items() if b.status == "picked_up" and bid not in seen]
        if missing:
            raise ValidationFailed(_("The depot receives the whole trip at once: give the received "
                                     "kg of booking(s) %(ids)s too.",
                                     ids=", ".join(map(str, missing))), field="bookings")
        orders_by_booking = {bid: collection.order_of(mine[bid]) for bid in seen}
        for bid in sorted(seen, key=lambda k: orders_by_booking[k].id):
            b, w = mine[bid], seen[bid]
            order = book.lock_order(orders_by_booking[bid].id)
            m = manifest_of(b)
            line = m.lines[0]
            receiving.receive(actor, m.id, w["method_code"],
                              [{"line_id": line.id, "received_kg": w["received_kg"],
                                "refused_kg": 0, "comment": w["comment"]}], ip)
            collection.move(b, "received", "operator")
            b.received_kg = w["received_kg"]
            follow(order, actor)
        _round_move(r, "received", "operator")
        trip = trip_of(r.id)
        trip.received_at = utcnow()
        record("collection.trip_received", r, actor=actor, changes={
            "number": r.number, "bookings": {str(k): w["received_kg"] for k, w in seen.items()}})
        return r


def manifest_ids(trip_id: int) -> list[int]:
    return list(db.session.scalars(select(Manifest.id).where(Manifest.trip_id == trip_id)
                                   .order_by(Manifest.id)))


def sign_as_generator(actor: User, manifest_id: int, ip: str | None = None) -> Manifest:
    """The generator signs its pickup part (on the driver's phone); the order follows."""
    with transaction():
        m = signing.sign_pickup(actor, manifest_id, "generator", ip)
        follow(m.order, actor)
        return m

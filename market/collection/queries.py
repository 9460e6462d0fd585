"""Read side of collection: rounds a generator can book, a booking as the API shows it, and what a
regulator sees in its scope (rounds, bookings and no-shows; market.oversight builds its flows,
capacity and feed from these)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from market import db
from market.accounts.models import Organisation, User
from market.collection import state
from market.collection.models import Booking, CollectionRound, RoundItem, Trip
from market.collection.services import booked_kg, order_of
from market.db import utcnow
from market.errors import NotFound
from market.escrow import book, funding
from market.listings.validation import today
from market.region_scope import org_in_region, region_matches
from market.settlement import queries as settlement

HORIZON_DAYS = 42  # "the next weeks"


def open_rounds(*, region: str | None = None, category: str | None = None,
                frm: date | None = None, to: date | None = None, limit: int = 200) -> list[dict]:
    """Published rounds still taking bookings, serving the region and collecting the category."""
    frm = frm or today()
    to = to or frm + timedelta(days=HORIZON_DAYS)
    stmt = (select(CollectionRound, Organisation.name)
            .join(Organisation, Organisation.id == CollectionRound.operator_id)
            .where(CollectionRound.status == "published", CollectionRound.day >= frm,
                   CollectionRound.day <= to, CollectionRound.booking_closes_at > utcnow())
            .order_by(CollectionRound.day, CollectionRound.window_start, CollectionRound.id))
    if category:
        stmt = stmt.where(CollectionRound.items.any(RoundItem.category_code == category.upper()))
    out = []
    for r, name in db.session.execute(stmt.limit(limit * 4)):
        if region and not state.serves(r.region_codes, region):
            continue
        out.append(round_json(r, name))
        if len(out) >= limit:
            break
    return out


def rounds_query(category: str | None = None):
    """A select of every round (any status), of those collecting the category if given: the
    rounds change feed's base (GET /collection-rounds?updated_after=)."""
    stmt = select(CollectionRound)
    if category:
        stmt = stmt.where(CollectionRound.items.any(RoundItem.category_code == category.upper()))
    return stmt


def round_json(r: CollectionRound, operator_name: str | None = None) -> dict:
    return {"id": r.id, "number": r.number, "status": r.status, "operator_id": r.operator_id,
            "operator_name": operator_name or r.operator.name, "date": r.day.isoformat(),
            "window_start": r.window_start.strftime("%H:%M"),
            "window_end": r.window_end.strftime("%H:%M"), "region_codes": list(r.region_codes),
            "categories": r.categories, "price_fen_per_kg": r.price_fen_per_kg,
            "minimum_fen": r.minimum_fen, "vehicle_capacity_kg": r.vehicle_capacity_kg,
            "free_capacity_kg": max(r.vehicle_capacity_kg - booked_kg(r.id), 0),
            "booking_closes_at": r.booking_closes_at.isoformat(), "repeat": r.repeat}


def visible_booking(actor: User, booking_id: int) -> Booking:
    """A booking its generator, its collector, the trip's carrier, staff or a regulator whose
    scope holds either party may read; else 404."""
    b = db.session.get(Booking, booking_id)
    if b is None:
        raise NotFound(_("No such booking."))
    if actor.is_platform or actor.org_id in (b.generator_id, b.round.operator_id):
        return b
    if actor.is_regulator and db.session.scalar(
            bookings_in_scope(actor.org.scope_prefix).where(Booking.id == booking_id)) is not None:
        return b
    if actor.org_id is not None and db.session.scalar(
            select(Trip.id).where(Trip.round_id == b.round_id,
                                  Trip.carrier_org_id == actor.org_id)) is not None:
        return b
    raise NotFound(_("No such booking."))


def visible_round(actor: User, round_id: int) -> CollectionRound:
    """A round's page: its collector, platform staff, regulators whose scope holds it, and the
    generators booked on it (others find published rounds in the list and book from there)."""
    r = db.session.get(CollectionRound, round_id)
    if r is None:
        raise NotFound(_("No such collection round."))
    if actor.is_platform or actor.org_id == r.operator_id:
        return r
    if actor.is_regulator and db.session.scalar(
            rounds_in_scope(actor.org.scope_prefix).where(CollectionRound.id == round_id)
            .with_only_columns(CollectionRound.id)) is not None:
        return r
    if actor.org_id is not None and db.session.scalar(
            select(Booking.id).where(Booking.round_id == round_id,
                                     Booking.generator_id == actor.org_id).limit(1)) is not None:
        return r
    raise NotFound(_("No such collection round."))


def booking_json(b: Booking) -> dict:
    order = order_of(b)
    st = book.escrow_state(order.id)
    reqs = funding.requests_of(order.id)
    payer_req = next((q for q in reqs if q.payer_org_id == b.generator_id), None)
    row = settlement.settlement_of(order.id)
    return {"id": b.id, "round_id": b.round_id, "order_id": order.id,
            "order_number": order.number,
            "status": state.display_status(b.status, order.status),
            "category": b.category_code, "waste_code": b.waste_code,
            "estimated_kg": b.estimated_kg, "containers": b.containers,
            "region_code": b.region_code, "address": b.address,
            "amount_fen": order.total_fen, "reference": payer_req.reference if payer_req else None,
            "funded_fen": sum(st.funded.values()), "weighed_kg": b.weighed_kg,
            "received_kg": b.received_kg, "settled_fen": sum(st.released_value.values()),
            "refunded_fen": sum(st.refunded.values()), "fees_fen": st.fees,
            "topup_fen": row.topup_fen if row is not None and row.status == "topup_due" else 0,
            "note": b.note}


def bookings_of_generator(org_id: int, limit: int = 200) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(Booking.generator_id == org_id)
                                   .order_by(Booking.id.desc()).limit(limit)))


def rounds_of_operator(org_id: int, limit: int = 200) -> list[CollectionRound]:
    return list(db.session.scalars(select(CollectionRound)
                                   .where(CollectionRound.operator_id == org_id)
                                   .order_by(CollectionRound.day.desc(), CollectionRound.id)
                                   .limit(limit)))


# --- the regulator's scope ---------------------------------------------------------------------

def rounds_in_scope(prefix: str):
    """Rounds whose collector lies in the scope, or that serve a region in it."""
    return select(CollectionRound).where(or_(
        org_in_region(CollectionRound.operator_id, prefix),
        func.array_to_string(CollectionRound.region_codes, ",").contains(prefix)))


def bookings_in_scope(prefix: str):
    """Bookings picked up in the scope, or of a collector in it."""
    return (select(Booking).join(CollectionRound, CollectionRound.id == Booking.round_id)
            .where(or_(region_matches(Booking.region_code, prefix),
                       org_in_region(CollectionRound.operator_id, prefix))))


def no_shows_in_scope(prefix: str):
    return bookings_in_scope(prefix).where(Booking.status == "no_show")


def scope_summary(prefix: str, frm: date | None = None, to: date | None = None) -> dict:
    """Counts and kg for a regulator's page or the oversight feed."""
    bq = bookings_in_scope(prefix)
    rq = rounds_in_scope(prefix)
    if frm:
        bq, rq = bq.where(CollectionRound.day >= frm), rq.where(CollectionRound.day >= frm)
    if to:
        bq, rq = bq.where(CollectionRound.day <= to), rq.where(CollectionRound.day <= to)
    bookings = list(db.session.scalars(bq))
    return {"rounds": len(list(db.session.scalars(rq))), "bookings": len(bookings),
            "no_shows": sum(1 for b in bookings if b.status == "no_show"),
            "received_kg": sum(b.received_kg or 0 for b in bookings if b.status == "received")}

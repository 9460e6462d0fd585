"""Collection rounds and bookings (issue 13): publish a round, book a place, cancel, lapse.

Each booking is an order of its own source (trade_order.booking_id) with one disposal line at the
round's price per kg and its minimum charge, funded by the existing bank-reference path, moved by
the orders context's state table and settled by the settlement context: every promise of the
manifests and settlement issue (discrepancies, alerts, statements, reviews, the provincial report)
holds per booking. Locks, always in this order: the round row, then the licence item (as an award
takes it), then the booking's order. The run of a round is in market.collection.run.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.accounts.models import Licence, LicenceItem, User
from market.audit.services import record
from market.collection import state
from market.collection import validation as cv
from market.collection.models import Booking, CollectionRound, RoundItem
from market.db import utcnow
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.escrow import book, funding
from market.escrow import services as escrow
from market.escrow.policies import plan_release
from market.listings import capacity
from market.listings import validation as v
from market.listings.explain import rule_message
from market.listings.matching import Exclusion, RequestFacts
from market.listings.queries import judge_operator
from market.notifications.messages import as_kg, message
from market.notifications.services import notify_org
from market.orders import services as orders
from market.orders.models import Order
from market.uow import transaction

COLLECTION = "收集"


class VehicleFull(Conflict):
    code = "vehicle_full"


# --- rounds -----------------------------------------------------------------------------------

def collecting_items(org_id: int, category: str) -> list[int]:
    """Ids of the organisation's licence items that allow collection (收集) of the category."""
    return list(db.session.scalars(
        select(LicenceItem.id).join(Licence, Licence.id == LicenceItem.licence_id)
        .where(Licence.org_id == org_id, LicenceItem.category_code == category,
               LicenceItem.operations.contains([COLLECTION])).order_by(LicenceItem.id)))


def licensed_item(org_id: int, category: str, codes: list[str], region_codes: list[str],
                  day, kg: int) -> int:
    """The licence item under which the operator may collect the category on the day in every
    region, judged like matching (licence valid, codes listed, capacity, region served), or a
    refusal with the matching rule's explanation."""
    ids = collecting_items(org_id, category)
    if not ids:
        raise ValidationFailed(_("Your licence does not cover the collection (收集) of %(category)s.",
                                 category=category), field="categories",
                               code="collection_not_licensed")
    found = None
    for region_code in region_codes:
        for code in codes or [None]:
            facts = RequestFacts(category=category, code=code, quantity_kg=kg,
                                 region_code=region_code, wanted_on=day, small_lot=True)
            result = judge_operator(facts, org_id, item_ids=ids)
            if isinstance(result, Exclusion):
                field = "region_codes" if result.rule == "region_not_served" else (
                    "vehicle_capacity_kg" if result.rule == "capacity_exhausted" else "categories")
                raise ValidationFailed(f"{category}: {rule_message(result.rule, result.params)}",
                                       field=field, code=result.rule)
            found = found or result[0].item_id
    return found


def publish_round(actor: User, data: dict) -> list[CollectionRound]:
    """An operator publishes a round (and its weekly or monthly repeats)."""
    v.require_verified(actor, "operator")
    f = cv.round_fields(data)
    with transaction():
        items = [(category, codes, licensed_item(actor.org_id, category, codes,
                                                 f["region_codes"], f["day"],
                                                 f["vehicle_capacity_kg"]))
                 for category, codes in f["categories"]]
        rounds, series_id = [], None
        for i in range(state.REPEAT_COUNT[f["repeat"]]):
            if f["repeat"] == "weekly":
                day, shift = f["day"] + timedelta(weeks=i), timedelta(weeks=i)
            elif f["repeat"] == "monthly":
                day = cv.shift_months(f["day"], i)
                shift = day - f["day"]
            else:
                day, shift = f["day"], timedelta(0)
            r = CollectionRound(
                number=f"CR-{utcnow().timestamp():.6f}"[:20], operator_id=actor.org_id,
                created_by_id=actor.id, repeat=f["repeat"], region_codes=f["region_codes"],
                day=day, window_start=f["window_start"], window_end=f["window_end"],
                price_fen_per_kg=f["price_fen_per_kg"], minimum_fen=f["minimum_fen"],
                vehicle_capacity_kg=f["vehicle_capacity_kg"],
                booking_closes_at=f["booking_closes_at"] + shift, status="published",
                items=[RoundItem(category_code=c, codes=codes, licence_item_id=item_id)
                       for c, codes, item_id in items])
            db.session.add(r)
            db.session.flush()
            series_id = series_id or r.id
            r.series_id, r.number = series_id, f"CR{day.year}{r.id:06d}"
            record("collection.round_published", r, actor=actor, changes={
                "number": r.number, "day": day.isoformat(), "regions": r.region_codes,
                "categories": [c for c, _codes, _i in items],
                "price_fen_per_kg": r.price_fen_per_kg, "minimum_fen": r.minimum_fen,
                "vehicle_capacity_kg": r.vehicle_capacity_kg})
            rounds.append(r)
        db.session.flush()
        return rounds


def lock_round(round_id: int) -> CollectionRound:
    r = db.session.scalar(select(CollectionRound).where(CollectionRound.id == round_id)
                          .with_for_update(of=CollectionRound)
                          .execution_options(populate_existing=True))
    if r is None:
        raise NotFound(_("No such collection round."))
    return r


def booked_kg(round_id: int) -> int:
    """Estimated kg of the round's live bookings (what the vehicle must keep room for)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Booking.estimated_kg), 0))
        .where(Booking.round_id == round_id, Booking.status.in_(state.LIVE_BOOKINGS))))


def free_capacity_kg(r: CollectionRound) -> int:
    return max(r.vehicle_capacity_kg - booked_kg(r.id), 0)


# --- bookings ---------------------------------------------------------------------------------

def book_round(actor: User, round_id: int, data: dict) -> Booking:
    """A generator books a place: vehicle and licence capacity reserved, payment asked for."""
    v.require_verified(actor, "generator")
    f = cv.booking_fields(data)
    with transaction():
        r = lock_round(round_id)
        if r.status != "published":
            raise InvalidState(_("Round %(number)s takes no more bookings.", number=r.number),
                               code="round_not_open")
        if utcnow() >= r.booking_closes_at:
            raise InvalidState(_("Bookings for round %(number)s closed at %(at)s.",
                                 number=r.number, at=r.booking_closes_at.astimezone(cv.TZ)
                                 .strftime("%Y-%m-%d %H:%M")), code="booking_closed",
                               field="round_id")
        item = r.item_for(f["category"])
        if item is None:
            raise ValidationFailed(_("Round %(number)s does not collect %(category)s.",
                                     number=r.number, category=f["category"]),
                                   field="category", code="category_not_collected")
        if item.codes and f["waste_code"] not in item.codes:
            raise ValidationFailed(_("Round %(number)s collects only these codes of %(category)s: "
                                     "%(codes)s.", number=r.number, category=f["category"],
                                     codes=", ".join(item.codes)), field="waste_code",
                                   code="code_not_collected")
        if not state.serves(r.region_codes, f["region_code"]):
            raise ValidationFailed(_("Round %(number)s does not serve region %(region)s.",
                                     number=r.number, region=f["region_code"]),
                                   field="region_code", code="region_not_served")
        if r.operator_id == actor.org_id:
            raise PermissionDenied(_("You cannot book your own round."))
        free = free_capacity_kg(r)
        if f["estimated_kg"] > free:
            raise VehicleFull(_("The vehicle has room for %(free)s kg more on this round.",
                                free=f"{free:,}"), field="estimated_kg")
        li = capacity.lock_item(item.licence_item_id)
        left = capacity.remaining_kg(li, r.day.year)
        if f["estimated_kg"] > left:
            raise capacity.CapacityExhausted(_(
                "Remaining licensed capacity this year (%(remaining)s kg) is below the quantity "
                "(%(quantity)s kg).", remaining=f"{left:,}", quantity=f"{f['estimated_kg']:,}"),
                field="estimated_kg")
        booking = Booking(round_id=r.id, generator_id=actor.org_id, created_by_id=actor.id,
                          category_code=f["category"], waste_code=f["waste_code"],
                          estimated_kg=f["estimated_kg"], containers=f["containers"],
                          region_code=f["region_code"], address=f["address"], status="open")
        db.session.add(booking)
        db.session.flush()
        order = orders.create_order(
            actor=actor, generator_id=actor.org_id, operator_id=r.operator_id,
            licence_item_id=item.licence_item_id, year=r.day.year, category_code=f["category"],
            waste_code=f["waste_code"], quantity_kg=f["estimated_kg"],
            region_code=f["region_code"], address=f["address"],
            unit_price_fen_per_t=r.price_fen_per_kg * 1000, transport_fee_fen=0,
            booking_id=booking.id, minimum_fen=r.minimum_fen or None)
        orders.transition(order, "funding", "system")
        if not funding.open_requests(order, actor):
            orders.transition(order, "funded", "system")  # nothing to pay
        record("collection.booked", booking, actor=actor, changes={
            "round": r.number, "order": order.number, "category": f["category"],
            "estimated_kg": f["estimated_kg"], "amount_fen": order.total_fen})
        notify_org(r.operator_id, "collection.booked",
                   message("A pickup of %(kg)s kg was booked on round %(number)s.",
                           kg=as_kg(f['estimated_kg']), number=r.number),
                   link=f"/collection/rounds/{r.id}")
        return booking


def order_of(booking: Booking, *, lock: bool = False) -> Order:
    order_id = db.session.scalar(select(Order.id).where(Order.booking_id == booking.id))
    return book.lock_order(order_id) if lock else db.session.get(Order, order_id)


def _booking_for(actor: User, booking_id: int) -> Booking:
    """The booking, visible to its generator, the round's operator and platform staff."""
    b = db.session.get(Booking, booking_id)
    if b is None or not (actor.is_platform or actor.org_id in (b.generator_id,
                                                               b.round.operator_id)):
        raise NotFound(_("No such booking."))
    return b


def lock_booking(actor: User, booking_id: int) -> tuple[CollectionRound, Booking, Order]:
    """Round, booking and order of a booking the actor may see, locked in that order."""
    b = _booking_for(actor, booking_id)
    r = lock_round(b.round_id)
    b = db.session.scalar(select(Booking).where(Booking.id == booking_id).with_for_update()
                          .execution_options(populate_existing=True))
    return r, b, order_of(b, lock=True)


def move(booking: Booking, to: str, role: str) -> None:
    problem = state.booking_problem(booking.status, to, role)
    if problem == "invalid_transition":
        raise InvalidState(_("A booking that is %(frm)s cannot become %(to)s.",
                             frm=_(booking.status), to=_(to)), code="invalid_transition")
    if problem == "actor_not_allowed":
        raise PermissionDenied(_("You may not move this booking from %(frm)s to %(to)s.",
                                 frm=_(booking.status), to=_(to)))
    booking.status = to
    if to in ("no_show", "cancelled", "lapsed", "received"):
        booking.ended_at = utcnow()


def keep_fee_and_refund(order: Order, actor: User | None, reason: str) -> tuple[int, int]:
    """Release the no-show fee of a funded booking's order to the collector, refund the rest and
    cancel the order (order locked; the round's terms let the system do it). (fee, refunded)."""
    fee = 0
    db.session.flush()  # the booking's end first: the database lets the fee go only after it
    if order.status == "funded":
        line = order.line("disposal")
        terms = next(t for t in book.terms_for(order) if t.line_id == line.id)
        if not terms.fee_on_top:  # the generator paid: the collector keeps the fee
            fee = state.no_show_fee_fen(current_app.config["COLLECTION_NO_SHOW_FEE_FEN"],
                                        terms.value_fen)
        if fee:
            escrow.post_release(order, plan_release(terms, 0, fee),
                                f"collection:{order.number}:fee", actor)
    refunded = escrow.refund_everything(order, actor, f"cancel:{order.number}")
    orders.mark_cancelled(order, actor, "system", reason, refunded=refunded)
    return fee, refunded


def cancel_booking(actor: User, booking_id: int, reason: str = "") -> Booking:
    """The generator cancels: before the deadline in full (refunded), after it the no-show fee."""
    with transaction():
        r, b, order = lock_booking(actor, booking_id)
        if actor.org_id != b.generator_id and actor.platform_role != "admin":
            raise PermissionDenied(_("Only the generator cancels its booking."))
        if r.status != "published":
            raise InvalidState(_("Round %(number)s has started: record a no-show at the stop "
                                 "instead.", number=r.number), code="round_started")
        move(b, "cancelled", "admin" if actor.platform_role == "admin" else "generator")
        late = utcnow() >= r.booking_closes_at and order.status == "funded"
        if late:
            fee, refunded = keep_fee_and_refund(order, actor, reason or _("Cancelled late"))
        else:
            fee = 0
            refunded = escrow.refund_everything(order, actor, f"cancel:{order.number}")
            orders.mark_cancelled(order, actor, "system" if order.status == "funded"
                                  else "generator", reason, refunded=refunded)
        b.note = (reason or "").strip()[:1000] or None
        record("collection.cancelled", b, actor=actor, changes={
            "order": order.number, "late": late, "fee_fen": fee, "refunded_fen": refunded})
        notify_org(r.operator_id, "collection.cancelled",
                   message("A booking on round %(number)s was cancelled.", number=r.number),
                   link=f"/collection/rounds/{r.id}")
        return b


def lapse_unpaid(now: datetime | None = None) -> int:
    """Unpaid bookings whose deadline has passed lapse: their order is cancelled, any part
    payment refunded, the capacity freed. Returns how many lapsed."""
    now = now or utcnow()
    ids = list(db.session.scalars(
        select(Booking.id).join(CollectionRound, CollectionRound.id == Booking.round_id)
        .join(Order, Order.booking_id == Booking.id)
        .where(Booking.status == "open", Order.status == "funding",
               CollectionRound.booking_closes_at <= now).order_by(Booking.id)))
    for booking_id in ids:
        with transaction():
            b = db.session.get(Booking, booking_id)
            lock_round(b.round_id)
            lapse(b)
    return len(ids)


def lapse(b: Booking) -> None:
    """One unpaid booking lapses (round locked, inside the caller's transaction)."""
    b = db.session.scalar(select(Booking).where(Booking.id == b.id).with_for_update()
                          .execution_options(populate_existing=True))
    order = order_of(b, lock=True)
    if b.status != "open" or order.status != "funding":
        return
    move(b, "lapsed", "system")
    refunded = escrow.refund_everything(order, None, f"cancel:{order.number}")
    orders.mark_cancelled(order, None, "system", "unpaid at the booking deadline",
                          refunded=refunded)
    record("collection.lapsed", b, changes={"order": order.number, "refunded_fen": refunded})
    notify_org(b.generator_id, "collection.lapsed",
               message("Your booking on round %(number)s lapsed: it was not paid by the deadline.",
                       number=b.round.number), link=f"/collection/bookings/{b.id}")

"""Collection rounds on real PostgreSQL: publish (licence checked like matching), book, pay by
bank reference, run the round (five bookings: a no-show, a heavier one asking a top-up, a lighter
one refunded), receive the whole trip, each booking settled on its own to the fen; and every bad
input refused with nothing changed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market import db, ledger
from market.collection import queries, run, services
from market.collection.models import Booking, CollectionRound, RoundItem, Trip
from market.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed
from market.escrow.models import Movement
from market.listings.models import CapacityReservation
from market.manifests.models import Manifest
from market.orders import lifecycle
from market.orders.models import Order
from tests.factories import LicenceItemFactory
from tests.collection_factories import (book_paid, booking_data, close_booking_window, collector,
                                        pay, publish, round_data, small_generator, start)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> tuple:
    return (count(CollectionRound), count(Booking), count(Order), count(Movement),
            count(CapacityReservation), count(Trip), count(Manifest),
            db.session.scalar(select(func.count()).select_from(Booking)
                              .where(Booking.status == "received")))


def sign_generator(generator, booking):
    m = run.manifest_of(booking)
    lifecycle.sign_manifest(generator, m.id, role="generator")


# --- publishing ----------------------------------------------------------------------------------

def test_publish_weekly_round_repeats_four_times():
    op = collector()
    rounds = services.publish_round(op, round_data(repeat="weekly"))
    assert len(rounds) == 4
    assert [(r.day - rounds[0].day).days for r in rounds] == [0, 7, 14, 21]
    assert {r.series_id for r in rounds} == {rounds[0].id}
    assert all(r.items[0].category_code == "HW08" for r in rounds)


def test_a_round_for_a_category_the_licence_does_not_collect_is_impossible():
    op = collector(categories=("HW08",))
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.publish_round(op, round_data(categories=["HW08", "HW49"]))
    assert exc.value.field == "categories" and exc.value.code == "collection_not_licensed"
    assert snapshot() == before


def test_the_database_refuses_a_round_item_its_licence_does_not_collect():
    op = collector(categories=("HW08",))
    r = publish(op)
    hw08 = r.items[0].licence_item_id
    no_collection = LicenceItemFactory(licence__org=op.org, category_code="HW49",
                                       operations=["处置"])
    someone_elses = collector().org.licences[0].items[0].id
    for category, item_id in (("HW49", hw08), ("HW49", no_collection.id), ("HW08", someone_elses)):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(RoundItem(round_id=r.id, category_code=category,
                                     licence_item_id=item_id))
            db.session.flush()
    assert [it.category_code for it in db.session.get(CollectionRound, r.id).items] == ["HW08"]


def test_a_licence_item_without_collection_cannot_carry_a_round():
    op = collector(operations=("利用",))
    with pytest.raises(ValidationFailed) as exc:
        services.publish_round(op, round_data())
    assert exc.value.code == "collection_not_licensed"
    assert count(CollectionRound) == 0


def test_publishing_explains_a_region_not_served_and_capacity_like_matching():
    op = collector(approved_kg=500)
    with pytest.raises(ValidationFailed) as exc:
        services.publish_round(op, round_data())
    assert exc.value.code == "capacity_exhausted" and exc.value.field == "vehicle_capacity_kg"
    op2 = collector()
    with pytest.raises(ValidationFailed) as exc:
        services.publish_round(op2, round_data(region_codes=["110101"]))
    assert exc.value.code == "region_not_served" and exc.value.field == "region_codes"
    assert count(CollectionRound) == 0


# --- booking ------------------------------------------------------------------------------------

def test_rounds_serving_the_generators_district_with_free_capacity():
    op = collector()
    r = publish(op)
    publish(op, region_codes=["440100"])
    found = queries.open_rounds(region="440306", category="HW08")
    assert [x["id"] for x in found] == [r.id]
    assert found[0]["free_capacity_kg"] == 1_000 and found[0]["price_fen_per_kg"] == 300


def test_booking_asks_for_the_estimate_at_least_the_minimum_by_bank_reference(finance):
    op, gen = collector(), small_generator()
    r = publish(op)
    b = services.book_round(gen, r.id, booking_data(estimated_kg=20))
    view = queries.booking_json(b)
    assert view["status"] == "awaiting_payment"
    assert view["amount_fen"] == 10_000  # 20 kg × ¥3 = ¥60 < the ¥100 minimum
    assert view["reference"]
    pay(b, finance)
    assert queries.booking_json(b)["status"] == "booked"
    assert queries.open_rounds(region="440306")[0]["free_capacity_kg"] == 980


@pytest.mark.parametrize("overrides,field,code", [
    ({"category": "HW49", "waste_code": None}, "category", "category_not_collected"),
    ({"region_code": "440106"}, "region_code", "region_not_served"),
    ({"estimated_kg": 1_001}, "estimated_kg", "vehicle_full"),
    ({"estimated_kg": 0}, "estimated_kg", None),
    ({"address": ""}, "address", None),
])
def test_bad_bookings_are_refused_with_nothing_changed(overrides, field, code):
    op, gen = collector(), small_generator()
    r = publish(op)
    before = snapshot()
    with pytest.raises((ValidationFailed, Conflict)) as exc:
        services.book_round(gen, r.id, booking_data(**overrides))
    assert exc.value.field == field
    if code:
        assert exc.value.code == code
    assert snapshot() == before


def test_booking_after_the_deadline_is_refused_with_nothing_changed():
    op, gen = collector(), small_generator()
    r = publish(op)
    close_booking_window(r)
    before = snapshot()
    with pytest.raises(InvalidState) as exc:
        services.book_round(gen, r.id, booking_data())
    assert exc.value.code == "booking_closed"
    assert snapshot() == before


def test_booking_beyond_the_licence_capacity_is_refused():
    op, gen = collector(approved_kg=1_000), small_generator()
    r1, r2 = publish(op), publish(op)  # two vehicles of 1 000 kg on one licence item
    services.book_round(gen, r1.id, booking_data(estimated_kg=900))  # 100 kg of licence left
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        services.book_round(small_generator(), r2.id, booking_data(estimated_kg=101))
    assert exc.value.field == "estimated_kg" and exc.value.code == "capacity_exhausted"
    assert snapshot() == before


# --- cancelling and lapsing ------------------------------------------------------------------------

def test_cancel_before_the_deadline_refunds_in_full(finance):
    op, gen = collector(), small_generator()
    r = publish(op)
    b = book_paid(gen, r, finance)
    services.cancel_booking(gen, b.id)
    order = services.order_of(b)
    assert b.status == "cancelled" and order.status == "cancelled"
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert queries.booking_json(b)["refunded_fen"] == 24_000
    assert queries.open_rounds(region="440306")[0]["free_capacity_kg"] == 1_000


def test_cancel_after_the_deadline_keeps_the_no_show_fee(app, finance):
    op, gen = collector(), small_generator()
    r = publish(op)
    b = book_paid(gen, r, finance)
    close_booking_window(r)
    services.cancel_booking(gen, b.id)
    view = queries.booking_json(b)
    fee = app.config["COLLECTION_NO_SHOW_FEE_FEN"]
    assert view["settled_fen"] == fee and view["refunded_fen"] == 24_000 - fee
    order = services.order_of(b)
    assert ledger.balance(f"escrow:{order.number}") == 0


def test_unpaid_bookings_lapse_at_the_deadline(finance):
    op, gen = collector(), small_generator()
    r = publish(op)
    unpaid = services.book_round(gen, r.id, booking_data())
    paid = book_paid(small_generator(), r, finance)
    assert services.lapse_unpaid() == 0
    close_booking_window(r)
    assert services.lapse_unpaid() == 1
    assert unpaid.status == "lapsed" and services.order_of(unpaid).status == "cancelled"
    assert paid.status == "open"


# --- the run ---------------------------------------------------------------------------------------

def test_a_round_with_five_bookings_settles_each_to_the_fen(app, finance):
    op = collector()
    r = publish(op, minimum_fen=10_000)  # ¥3/kg, at least ¥100
    gens = [small_generator() for _ in range(5)]
    # 80 kg (¥240): exact; 100 kg (¥300): no-show; 50 kg (¥150): 20 % heavier (60 kg, top-up ¥30);
    # 100 kg (¥300): lighter, 70 kg (¥210, refund ¥90); 20 kg (¥100 minimum): 25 kg still ¥100
    kgs = [80, 100, 50, 100, 20]
    bookings = [book_paid(g, r, finance, estimated_kg=kg) for g, kg in zip(gens, kgs)]
    close_booking_window(r)
    trip = start(op, r)
    assert len(db.session.scalars(select(Manifest).where(Manifest.trip_id == trip.id)).all()) == 5
    with pytest.raises(InvalidState) as exc:
        start(op, r)
    assert exc.value.code == "already_started"
    weighed = [80, None, 60, 70, 25]
    for g, b, kg in zip(gens, bookings, weighed):
        if kg is None:
            run.pickup(op, b.id, {"no_show": True, "note": "门店关门，电话无人接听"})
        else:
            run.pickup(op, b.id, {"weighed_kg": kg})
            sign_generator(g, b)
    # the no-show cannot be received
    before = snapshot()
    with pytest.raises(InvalidState) as exc:
        run.receive_trip(op, r.id, {"method_code": "R9", "bookings": [
            {"booking_id": b.id, "received_kg": kg or 0} for b, kg in zip(bookings, weighed)]})
    assert exc.value.code == "not_picked_up" and exc.value.field == "bookings[1].booking_id"
    assert snapshot() == before
    run.receive_trip(op, r.id, {"method_code": "R9", "bookings": [
        {"booking_id": b.id, "received_kg": kg} for b, kg in zip(bookings, weighed) if kg]})
    assert r.status == "received"
    views = [queries.booking_json(b) for b in bookings]
    fee = app.config["COLLECTION_NO_SHOW_FEE_FEN"]
    assert [v["status"] for v in views] == ["settled", "no_show", "received", "settled", "settled"]
    assert views[2]["topup_fen"] == 3_000
    pay(bookings[2], finance)
    views = [queries.booking_json(b) for b in bookings]
    assert views[2]["status"] == "settled"
    assert [v["settled_fen"] for v in views] == [24_000, fee, 18_000, 21_000, 10_000]
    assert [v["refunded_fen"] for v in views] == [0, 30_000 - fee, 0, 9_000, 0]
    for b, v in zip(bookings, views):
        assert ledger.balance(f"escrow:{v['order_number']}") == 0
        assert v["funded_fen"] == v["settled_fen"] + v["refunded_fen"]
    fees = sum(v["fees_fen"] for v in views)
    assert ledger.balance(f"payable:{op.org_id}") == 24_000 + fee + 18_000 + 21_000 + 10_000 - fees
    assert ledger.trial_balance().total == 0


def test_receiving_before_any_pickup_is_refused(finance):
    op, gen = collector(), small_generator()
    r = publish(op)
    b = book_paid(gen, r, finance)
    start(op, r)
    before = snapshot()
    with pytest.raises(InvalidState) as exc:
        run.receive_trip(op, r.id, {"method_code": "R9",
                                    "bookings": [{"booking_id": b.id, "received_kg": 80}]})
    assert exc.value.code == "not_picked_up"
    assert snapshot() == before


def test_only_the_collector_starts_its_round(finance):
    op, other = collector(), collector()
    r = publish(op)
    with pytest.raises((PermissionDenied, InvalidState, Exception)):
        start(other, r)
    assert r.status == "published" and count(Trip) == 0

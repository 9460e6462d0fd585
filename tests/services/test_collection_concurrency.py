"""Parallel bookings on real PostgreSQL never exceed the vehicle's or the licence's capacity: the
round's row lock, then the licence item's (as an award takes it), serialise them. These tests
commit."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import User
from market.collection import services
from market.collection.models import Booking
from market.errors import Conflict
from market.listings import capacity
from market.listings.models import CapacityReservation
from tests.collection_factories import booking_data, collector, publish, small_generator
from tests.services.test_escrow_concurrency import race

pytestmark = pytest.mark.committed


def _booked(round_ids) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Booking.estimated_kg), 0))
                             .where(Booking.round_id.in_(round_ids)))


def test_parallel_bookings_never_overfill_the_vehicle(app):
    op = collector()
    r = publish(op, vehicle_capacity_kg=200)
    users = [small_generator() for _ in range(6)]
    round_id, user_ids = r.id, [u.id for u in users]
    db.session.remove()

    def book(uid):
        return services.book_round(db.session.get(User, uid), round_id,
                                   booking_data(estimated_kg=60)).id

    results = race(app, [lambda uid=uid: book(uid) for uid in user_ids])
    booked = [x for x in results if isinstance(x, int)]
    refused = [x for x in results if isinstance(x, Exception)]
    assert len(booked) == 3, results
    assert all(isinstance(x, Conflict) and x.code == "vehicle_full" for x in refused), refused
    assert _booked([round_id]) == 180


def test_parallel_bookings_on_two_rounds_never_exceed_the_licence(app):
    op = collector(approved_kg=200)
    r1 = publish(op, vehicle_capacity_kg=200)
    r2 = publish(op, vehicle_capacity_kg=200, region_codes=["440600"])
    item_id, year = r1.items[0].licence_item_id, r1.day.year
    users = [small_generator("440605") for _ in range(6)]
    ids, user_ids = [r1.id, r2.id], [u.id for u in users]
    db.session.remove()

    def book(uid, rid):
        return services.book_round(db.session.get(User, uid), rid,
                                   booking_data(estimated_kg=60, region_code="440605")).id

    results = race(app, [lambda uid=uid, i=i: book(uid, ids[i % 2])
                         for i, uid in enumerate(user_ids)])
    booked = [x for x in results if isinstance(x, int)]
    assert len(booked) == 3, results
    assert all(isinstance(x, capacity.CapacityExhausted) for x in results
               if isinstance(x, Exception)), results
    reserved = db.session.scalar(select(func.sum(CapacityReservation.kg)).where(
        CapacityReservation.licence_item_id == item_id, CapacityReservation.year == year,
        CapacityReservation.released_at.is_(None)))
    assert reserved == 180 and _booked(ids) == 180

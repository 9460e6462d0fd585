"""Builders for collection tests: a licensed collector with a carrier, rounds, bookings paid by
bank reference through the real use cases."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import uuid4

from market import db
from market.collection import run, services
from market.collection.models import Booking, CollectionRound, RoundItem
from market.escrow import funding
from market.jobs.schedule import TZ
from market.listings.validation import today
from market.orders import lifecycle
from market.orders.models import Order, OrderLine
from market.orders.services import next_number
from market.uow import transaction
from tests.factories import (LicenceItemFactory, OrganisationFactory, PermitFactory,
                             UserFactory)
from tests.listing_factories import ServiceAreaFactory


def collector(*, operations=("收集", "贮存"), categories=("HW08",), approved_kg=1_000_000,
              carrier=True):
    """A verified operator licensed to collect the categories, serving Guangdong (44), which is
    also a carrier with a valid transport permit (its own vehicle)."""
    org = OrganisationFactory(types=["operator", "carrier"] if carrier else ["operator"],
                              region_code="440605")
    user = UserFactory(org=org)
    for c in categories:
        LicenceItemFactory(licence__org=org, licence__kind="collection", category_code=c,
                           operations=list(operations), method_codes=["R9"],
                           approved_kg_per_year=approved_kg)
    ServiceAreaFactory(org=org, region_prefix="44")
    if carrier:
        PermitFactory(org=org)
    return user


def small_generator(region_code="440306"):
    return UserFactory(org=OrganisationFactory(types=["generator"], region_code=region_code))


def round_data(**overrides) -> dict:
    day = today() + timedelta(days=7)
    data = {"region_codes": ["440300", "440600"], "date": day.isoformat(),
            "window_start": "09:00", "window_end": "17:00", "categories": ["HW08"],
            "price_fen_per_kg": 300, "minimum_fen": 10_000, "vehicle_capacity_kg": 1_000,
            "booking_closes_at": datetime.combine(day - timedelta(days=1), time(18, 0),
                                                  tzinfo=TZ).isoformat()}
    data.update(overrides)
    return data


def publish(user, **overrides):
    return services.publish_round(user, round_data(**overrides))[0]


def booking_data(**overrides) -> dict:
    data = {"category": "HW08", "waste_code": "900-214-08", "estimated_kg": 80, "containers": 2,
            "region_code": "440306", "address": "深圳市宝安区西乡街道汽修路8号"}
    data.update(overrides)
    return data


def pay(booking: Booking, finance) -> None:
    """Finance confirms the bank receipt of every open funding request of the booking's order."""
    order = services.order_of(booking)
    for req in funding.requests_of(order.id):
        due = funding.due_fen(req)
        if req.status == "open" and due > 0:
            lifecycle.confirm_receipt(finance, reference=req.reference, amount_fen=due,
                                      received_on=date.today(), payer_name="付款单位",
                                      bank_ref=f"BANK-{uuid4().hex[:12]}")


def book_paid(generator, rnd, finance, **overrides) -> Booking:
    b = services.book_round(generator, rnd.id, booking_data(**overrides))
    pay(b, finance)
    return b


def start(user, rnd):
    return run.start_round(user, rnd.id, {"vehicle_plate": "粤E12345", "driver_name": "李师傅",
                                          "driver_phone": "13800138000"})


def close_booking_window(rnd) -> None:
    """Move the round's booking deadline into the past (the round day stays ahead)."""
    with transaction():
        rnd.booking_closes_at = datetime.now(TZ) - timedelta(minutes=1)


def collection_objects(org) -> dict[str, int]:
    """round_id: a round `org` runs; booking_id: `org`'s booking on another collector's round
    (both in `org`'s own region, so a regulator sees them only through `org`)."""
    # a pending licence: `org` must not become a verified operator (matching would show it
    # other organisations' requests)
    item = LicenceItemFactory(licence__org=org, licence__status="pending",
                              operations=["收集", "贮存"])
    other = OrganisationFactory(types=["operator", "carrier"], region_code="441900")
    other_item = LicenceItemFactory(licence__org=other, operations=["收集", "贮存"])
    day = today() + timedelta(days=7)
    closes = datetime.combine(day - timedelta(days=1), time(18, 0), tzinfo=TZ)

    def a_round(operator, licence_item):
        return CollectionRound(
            number=f"CR{day.year}{uuid4().hex[:8]}", operator_id=operator.id, repeat="none",
            region_codes=[org.region_code], day=day, window_start=time(9), window_end=time(17),
            price_fen_per_kg=300, minimum_fen=0, vehicle_capacity_kg=1_000,
            booking_closes_at=closes, status="published",
            items=[RoundItem(category_code="HW08", licence_item_id=licence_item.id)])

    with transaction():
        mine, theirs = a_round(org, item), a_round(other, other_item)
        db.session.add_all([mine, theirs])
        db.session.flush()
        booking = Booking(round_id=theirs.id, generator_id=org.id, category_code="HW08",
                          estimated_kg=80, containers=1, region_code=org.region_code,
                          address=org.address, status="open")
        db.session.add(booking)
        db.session.flush()
        order = Order(number=next_number(), booking_id=booking.id, generator_id=org.id,
                      operator_id=other.id, licence_item_id=other_item.id, category_code="HW08",
                      quantity_kg=80, region_code=org.region_code, address=org.address,
                      status="funding")
        order.lines.append(OrderLine(kind="disposal", payee_org_id=other.id,
                                     unit_price_fen_per_t=300_000, quantity_kg=80,
                                     amount_fen=24_000))
        db.session.add(order)
    return {"round_id": mine.id, "booking_id": booking.id}

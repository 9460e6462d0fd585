"""The collection part of the demo market (DESIGN.md §9a, issue 13): a collector with weekly rounds
through Shenzhen and Foshan, small generators (a lab, a school, two repair shops) and bookings in
every state. Built through the collection use cases; bank receipts are booked as finance would."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.collection import run, services
from market.collection.models import CollectionRound
from market.escrow import book, funding, receipts
from market.jobs.schedule import TZ
from market.listings.validation import today
from market.orders import services as orders
from market.uow import transaction

ROUND = {"region_codes": ["440300", "440600"], "window_start": "09:00", "window_end": "17:00",
         "categories": ["HW08", "HW49"], "price_fen_per_kg": 300, "minimum_fen": 10_000,
         "vehicle_capacity_kg": 2_000}
TRIP = {"vehicle_plate": "粤B6C118", "driver_name": "罗师傅", "driver_phone": "13912345678"}


def _address(user: User) -> dict:
    return {"region_code": user.org.region_code, "address": user.org.address}


def _pay(booking, finance: User) -> None:
    """Finance books the exact bank receipt of each open request; the order is funded."""
    order = services.order_of(booking)
    for req in funding.requests_of(order.id):
        due = funding.due_fen(req)
        if req.status == "open" and due > 0:
            with transaction():
                receipts.confirm_receipt(finance, reference=req.reference, amount_fen=due,
                                         received_on=date.today(), payer_name=booking.generator.name,
                                         bank_ref=f"DEMO-{req.reference}-{due}")
                order = book.lock_order(order.id)
                if funding.fully_paid(order):
                    orders.transition(order, "funded", "finance")
                    funding.announce_funded(order, finance)


def _book(user, rnd, finance=None, **data):
    b = services.book_round(user, rnd.id, {"category": "HW08", "containers": 1, **_address(user),
                                           **data})
    if finance is not None:
        _pay(b, finance)
    return b


def _closes(day: date) -> str:
    return datetime.combine(day - timedelta(days=1), time(18, 0), tzinfo=TZ).isoformat()


def seed(users: dict[str, User]) -> None:
    """users: collector, finance, lab (gen3), school, repair1 (gen2), repair2. Idempotent."""
    collector, finance = users["collector"], users["finance"]
    if db.session.scalar(select(CollectionRound.id).where(
            CollectionRound.operator_id == collector.org_id).limit(1)) is not None:
        return
    first = today() + timedelta(days=3)
    weekly = services.publish_round(collector, {**ROUND, "date": first.isoformat(),
                                                "booking_closes_at": _closes(first),
                                                "repeat": "weekly"})
    nxt = weekly[0]
    _book(users["repair1"], nxt, finance, estimated_kg=80, waste_code="900-214-08")  # booked
    _book(users["repair2"], nxt, estimated_kg=60, containers=2)                      # awaiting pay
    cancelled = _book(users["school"], nxt, finance, estimated_kg=30, category="HW49")
    services.cancel_booking(users["school"], cancelled.id, "改期")                     # cancelled
    # Today's round has run: bookings paid (one not), the trip started, stops recorded, received.
    ran = services.publish_round(collector, {**ROUND, "date": first.isoformat(),
                                             "booking_closes_at": _closes(first)})[0]
    lab = _book(users["lab"], ran, finance, estimated_kg=40, category="HW49")
    shop = _book(users["repair1"], ran, finance, estimated_kg=50)
    school = _book(users["school"], ran, finance, estimated_kg=25, category="HW49")
    _book(users["repair2"], ran, estimated_kg=70)                                    # lapses
    with transaction():
        ran.day, ran.booking_closes_at = today(), datetime.now(TZ) - timedelta(hours=1)
    run.start_round(collector, ran.id, TRIP)
    run.pickup(collector, lab.id, {"weighed_kg": 38})
    run.pickup(collector, shop.id, {"weighed_kg": 60})
    run.pickup(collector, school.id, {"no_show": True, "note": "学校放假，无人交接"})       # no-show
    for b, who in ((lab, "lab"), (shop, "repair1")):  # signed on the driver's phone
        run.sign_as_generator(users[who], run.manifest_of(b).id)
    run.receive_trip(collector, ran.id, {"method_code": "R9", "bookings": [
        {"booking_id": lab.id, "received_kg": 38, "method_code": "D10"},                                    # settled
        {"booking_id": shop.id, "received_kg": 60}]})                                 # top-up due


"""The demo market's collection rounds: a collector with weekly rounds through Shenzhen and Foshan,
small generators, and bookings in every state; seeding twice changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.collection import queries
from market.collection.models import Booking, CollectionRound
from market.demo import seed


def test_demo_has_rounds_and_bookings_in_every_state():
    logins = {email for email, _org, _role in seed(collection=True)}
    assert {"collector@demo.hazex.cn", "school@demo.hazex.cn", "repair2@demo.hazex.cn",
            "gen1@demo.hazex.cn", "admin@demo.hazex.cn"} <= logins
    rounds = db.session.scalars(select(CollectionRound)).all()
    assert len(rounds) == 5 and {tuple(r.region_codes) for r in rounds} == {("440300", "440600")}
    states = {queries.booking_json(b)["status"] for b in db.session.scalars(select(Booking))}
    assert states == {"awaiting_payment", "booked", "cancelled", "lapsed", "no_show", "settled",
                      "received"}
    seed(collection=True)
    assert db.session.scalar(select(func.count()).select_from(CollectionRound)) == 5

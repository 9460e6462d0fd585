"""Property test through the collection use cases: random prices (negative too), minimums,
bookings, weights, cancellations and no-shows. Every booking's escrow ends at zero, released +
refunded = funded (the released part including the platform's fees), each booking settled at
max(minimum, kg × price) or the no-show fee, and the ledger sums to zero. Each example runs in its
own savepoint with constraints IMMEDIATE, so the triggers check every step."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from market import db, ledger
from market.collection import run, services
from market.collection.state import collection_charge_fen, no_show_fee_fen
from market.escrow import book
from market.orders import lifecycle
from market.settlement import queries as settlement
from tests.collection_factories import (booking_data, close_booking_window, collector, pay,
                                        publish, small_generator, start)
from tests.factories import PlatformOrgFactory, UserFactory

OUTCOMES = ("picked_up", "picked_up", "no_show", "cancel_early", "cancel_late")
bookings = st.lists(st.tuples(st.integers(1, 200), st.sampled_from(OUTCOMES),
                              st.integers(1, 300), st.booleans()), min_size=1, max_size=4)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(price=st.integers(-200, 800), minimum=st.integers(0, 20_000), plan=bookings)
def test_every_booking_ends_at_zero_and_adds_up(app, db_session, price, minimum, plan):
    connection = db_session.get_bind()
    db.session.remove()
    example = connection.begin_nested()
    try:
        connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        minimum = minimum if price >= 0 else 0
        finance = UserFactory(org=PlatformOrgFactory(), platform_role="finance")
        op = collector()
        r = publish(op, price_fen_per_kg=price, minimum_fen=minimum)
        gens = [small_generator() for _ in plan]
        booked = []
        for g, (kg, outcome, weighed, _exact) in zip(gens, plan):
            b = services.book_round(g, r.id, booking_data(estimated_kg=kg))
            pay(b, finance)
            if outcome == "cancel_early":
                services.cancel_booking(g, b.id)
            booked.append(b)
        close_booking_window(r)
        for g, b, (kg, outcome, weighed, _exact) in zip(gens, booked, plan):
            if outcome == "cancel_late":
                services.cancel_booking(g, b.id)
        start(op, r)
        received = []
        for g, b, (kg, outcome, weighed, exact) in zip(gens, booked, plan):
            if outcome == "no_show":
                run.pickup(op, b.id, {"no_show": True, "note": "无人"})
            elif outcome == "picked_up":
                run.pickup(op, b.id, {"weighed_kg": weighed})
                run_sign = run.manifest_of(b)
                from_generator(g, run_sign.id)
                got = weighed if exact else weighed - weighed // 25  # within the tolerance
                received.append({"booking_id": b.id, "received_kg": got})
        if received:
            run.receive_trip(op, r.id, {"method_code": "R9", "bookings": received})
            for b in booked:
                pay(b, finance)  # top-ups asked at settlement
        fee_cfg = app.config["COLLECTION_NO_SHOW_FEE_FEN"]
        got_kg = {x["booking_id"]: x["received_kg"] for x in received}
        for b, (kg, outcome, weighed, _exact) in zip(booked, plan):
            order = services.order_of(b)
            state = book.escrow_state(order.id)
            funded = sum(state.funded.values())
            released = sum(state.released_out.values())
            refunded = sum(state.refunded.values())
            assert ledger.balance(book.escrow_account(order)) == 0, (outcome, order.status)
            assert released + refunded == funded
            assert sum(state.payee_fen.values()) + state.fees + refunded == funded
            value = sum(state.released_value.values())
            if outcome == "picked_up":
                assert order.status == "settled"
                assert value == abs(collection_charge_fen(price, minimum, got_kg[b.id]))
                assert settlement.settlement_of(order.id).accepted_kg == got_kg[b.id]
            elif outcome in ("no_show", "cancel_late"):
                assert order.status == "cancelled"
                charge = collection_charge_fen(price, minimum, kg)
                assert value == (no_show_fee_fen(fee_cfg, charge) if charge > 0 else 0)
            else:
                assert order.status == "cancelled" and value == 0
        assert ledger.trial_balance().total == 0
    finally:
        db.session.remove()
        example.rollback()


def from_generator(generator, manifest_id: int) -> None:
    lifecycle.sign_manifest(generator, manifest_id, role="generator")

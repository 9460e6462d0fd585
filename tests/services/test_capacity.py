"""Capacity reservation: award reserves, cancel releases; concurrent awards never overbook."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import LicenceItem, User
from market.errors import DomainError
from market.listings import capacity
from market.listings.models import CapacityReservation, Quote
from market.listings.offers import create_offer
from market.orders.lifecycle import order_from_offer
from market.listings.quotes import submit_quote
from market.orders.lifecycle import accept_quote
from market.listings.services import create_request
from market.listings.validation import today
from market.orders.models import Order
from market.orders.lifecycle import cancel_order
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import quote_data, request_data


def item_of(user) -> LicenceItem:
    return user.org.licences[0].items[0]


def test_award_reserves_and_cancel_releases(generator, operator):
    item = item_of(operator)
    req = create_request(generator, **request_data(quantity_kg=7_500))
    year = req.window_start.year
    assert capacity.remaining_kg(item, year) == 1_000_000
    order = accept_quote(generator, submit_quote(operator, req.id, **quote_data()).id)
    assert capacity.remaining_kg(item, year) == 992_500
    assert capacity.remaining_kg(item, year + 1) == 1_000_000   # reservations are per year
    (usage,) = capacity.usage(operator.org_id, year)
    assert (usage["approved_kg"], usage["reserved_kg"], usage["remaining_kg"]) == (1_000_000, 7_500, 992_500)
    cancel_order(operator, order.id, reason="设备检修")
    assert capacity.remaining_kg(item, year) == 1_000_000
    res = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert res.released_at is not None and res.kg == 7_500   # kept as history, no longer counted


def test_release_is_idempotent(generator, operator):
    req = create_request(generator, **request_data())
    order = accept_quote(generator, submit_quote(operator, req.id, **quote_data()).id)
    first = capacity.release(order.id)
    assert first is not None and capacity.release(order.id) is None


def test_reserve_refuses_beyond_the_approval(generator, operator):
    item = item_of(operator)
    item.approved_kg_per_year = 5_000
    req = create_request(generator, **request_data(quantity_kg=5_000))
    order = accept_quote(generator, submit_quote(operator, req.id, **quote_data()).id)
    with pytest.raises(capacity.CapacityExhausted):
        capacity.reserve(item.id, req.window_start.year, 1, order.id)


# --- concurrency on a real PostgreSQL ------------------------------------------------------------

def run_concurrently(app, n: int, fn) -> list[tuple]:
    """Run fn(i) in n threads released together; each gets its own app context and session."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = ("ok", fn(i))
            except DomainError as exc:
                results[i] = (type(exc).__name__, exc.code)
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                results[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in results), results
    assert not [r for r in results if r[0] == "error"], results
    return results


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def reserved_total(item_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(CapacityReservation.kg), 0)).where(
        CapacityReservation.licence_item_id == item_id, CapacityReservation.released_at.is_(None)))


def _market(approved_kg: int):
    gen = UserFactory(org=OrganisationFactory(types=["generator"]))
    op = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    item = LicenceItemFactory(licence__org=op.org, approved_kg_per_year=approved_kg)
    db.session.commit()
    return gen, op, item


@pytest.mark.committed
def test_concurrent_awards_on_one_item_never_overbook(app):
    n = 8
    gen, op, item = _market(approved_kg=10_000)
    quote_ids = []
    for _ in range(n):  # each request alone fits; any two together would not
        req = create_request(gen, **request_data(quantity_kg=6_000))
        quote_ids.append(submit_quote(op, req.id, **quote_data()).id)
    gen_id = gen.id
    db.session.remove()

    results = run_concurrently(app, n, lambda i: accept_quote(db.session.get(User, gen_id), quote_ids[i]).id)

    assert sum(r[0] == "ok" for r in results) == 1, results
    assert sorted(r for r in results if r[0] != "ok") == [("CapacityExhausted", "capacity_exhausted")] * (n - 1)
    assert count(Order) == 1 and count(CapacityReservation) == 1
    assert reserved_total(item.id) == 6_000 <= 10_000
    assert count(Quote, Quote.status == "accepted") == 1


@pytest.mark.committed
def test_the_same_quote_accepted_twice_concurrently_yields_one_order(app):
    n = 6
    gen, op, item = _market(approved_kg=1_000_000)
    req = create_request(gen, **request_data(quantity_kg=6_000))
    quote_id = submit_quote(op, req.id, **quote_data()).id
    gen_id = gen.id
    db.session.remove()

    results = run_concurrently(app, n, lambda i: accept_quote(db.session.get(User, gen_id), quote_id).id)

    winners = [r for r in results if r[0] == "ok"]
    assert len(winners) == 1, results
    assert sorted(r for r in results if r[0] != "ok") == [("Conflict", "quote_accepted")] * (n - 1)
    assert count(Order) == 1 and count(Order, Order.quote_id == quote_id) == 1
    assert reserved_total(item.id) == 6_000


@pytest.mark.committed
def test_concurrent_storefront_orders_fill_but_never_exceed_the_capacity(app):
    n = 8
    gen, op, item = _market(approved_kg=10_000)
    offer_id = create_offer(op, category="HW08", method_code="R9", service_region_prefixes=["44"],
                            min_kg=100, max_kg=10_000, unit_price_fen_per_t=100_000).id
    gen_id = gen.id
    db.session.remove()

    results = run_concurrently(app, n, lambda i: order_from_offer(
        db.session.get(User, gen_id), offer_id, quantity_kg=3_000,
        wanted_on=today() + timedelta(days=1)).id)

    assert sum(r[0] == "ok" for r in results) == 3, results   # 3 × 3,000 ≤ 10,000 < 4 × 3,000
    assert count(Order) == 3
    assert reserved_total(item.id) == 9_000

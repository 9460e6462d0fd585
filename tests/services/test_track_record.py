"""An operator's track record: on-time pickups measured from manifests, reviews by generators;
shown on its shop and carried by its matches (one statement for a whole batch of candidates)."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy import text as sql

from market import db
from market.listings import queries as listing_queries
from market.listings.explain import reason_message
from market.listings.services import create_request
from market.manifests.models import Manifest, ManifestLine
from market.reviews import services
from market.reviews.models import OperatorTrackRecord, Review
from market.reviews.policies import ON_TIME_GRACE, SHIPPED_STATUSES
from market.reviews.queries import ReviewSummary, TrackRecord, record_of, records
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory, UserFactory
from tests.listing_factories import request_data
from tests.web.marketplace import as_user, text

PLANNED = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
_serial = itertools.count(1)


def manifest(order, *, shipped_after: timedelta | None, status: str = "received") -> Manifest:
    """A manifest of the order, shipped `shipped_after` its planned pickup (None: not shipped)."""
    carrier = OrganisationFactory(types=["carrier"], region_code="440106")
    m = Manifest(number=f"20264403{next(_serial):06d}", order_id=order.id, verify_token="t" * 32,
                 status=status, generator_org_id=order.generator_id, planned_pickup_at=PLANNED,
                 carrier_org_id=carrier.id, carrier_permit_number="粤交运危 440100001",
                 vehicle_plate="粤A12345", driver_name="张三", driver_phone="13800000000",
                 receiver_org_id=order.operator_id, licence_number="粤危废-1",
                 shipped_at=None if shipped_after is None else PLANNED + shipped_after)
    if status in ("received", "closed"):
        m.method_code, m.received_at = "R9", PLANNED + timedelta(hours=5)
    m.lines.append(ManifestLine(category_code=order.category_code, name="废矿物油", form="liquid",
                                count=4, sent_kg=1_000,
                                **({"received_kg": 1_000, "refused_kg": 0}
                                   if status in ("received", "closed") else {})))
    db.session.add(m)
    db.session.flush()
    return m


def test_on_time_means_shipped_within_the_grace_after_the_planned_pickup():
    order = make_order(status="settled")
    manifest(order, shipped_after=-timedelta(minutes=30))
    manifest(order, shipped_after=ON_TIME_GRACE)                       # at the limit: on time
    manifest(order, shipped_after=ON_TIME_GRACE + timedelta(minutes=1), status="shipped")  # late
    manifest(order, shipped_after=None, status="draft")                # not shipped: not counted
    manifest(order, shipped_after=None, status="cancelled")
    rec = record_of(order.operator_id)
    assert (rec.shipped_manifests, rec.on_time_manifests) == (3, 2)
    assert rec.on_time_rate == 2 / 3


def test_records_cover_every_operator_asked_even_without_history():
    order = make_order(status="closed")
    services.submit_review(UserFactory(org=order.generator), order.id,
                           {"on_time": 4, "as_agreed": 5, "communication": 3}, "好")
    other = OrganisationFactory(types=["operator"], region_code="441900")
    out = records([order.operator_id, other.id])
    assert out[other.id] == TrackRecord() and out[other.id].on_time_rate is None
    assert out[order.operator_id].reviews == ReviewSummary(
        1, 4.0, (("on_time", 4.0), ("as_agreed", 5.0), ("communication", 3.0)))
    assert out[order.operator_id].shipped_manifests == 0


def test_matches_carry_the_record_and_the_on_time_rate_enters_the_score(generator, operator):
    order = make_order(operator_org=operator.org, status="settled")
    manifest(order, shipped_after=timedelta(0))
    manifest(order, shipped_after=timedelta(hours=3))
    services.submit_review(UserFactory(org=order.generator), order.id,
                           {"on_time": 2, "as_agreed": 4, "communication": 3})
    req = create_request(generator, **request_data())
    [m], _excluded = listing_queries.matches(req)
    # the ranking statement reads the record itself; judging everyone reads it apart: the same
    assert listing_queries.matches(req, explain=True)[0] == [m]
    assert m.components["on_time"] == 0.5
    rules = {r.rule: r.params for r in m.record}
    assert rules == {"on_time_record": {"rate": 0.5, "manifests": 2},
                     "reviews": {"average": 3.0, "count": 1}}
    with force_locale("en"):
        assert [reason_message(r) for r in m.record] == [
            "Picked up on time: 50% of 2 shipped manifests.",
            "Rated 3.0 / 5 by generators (1 reviews)."]


def test_an_operator_without_history_is_not_measured(generator, operator):
    req = create_request(generator, **request_data())
    [m], _excluded = listing_queries.matches(req)
    assert [r.rule for r in m.record] == ["on_time_not_measured", "no_reviews"]


def test_the_shop_shows_the_on_time_rate_and_reviews(client, generator, operator):
    order = make_order(operator_org=operator.org, status="settled")
    for after in (timedelta(0), timedelta(0), timedelta(0), timedelta(hours=4)):
        manifest(order, shipped_after=after)
    services.submit_review(UserFactory(org=order.generator), order.id,
                           {"on_time": 5, "as_agreed": 4, "communication": 4})
    as_user(client, generator)
    page = text(client.get(f"/shops/{operator.org_id}"))
    assert "75% picked up on time (4 shipped manifests)" in page
    assert "4.3 / 5 reviews by generators: 1" in page and "Collected on time: 5.0" in page
    client.post("/logout")
    as_user(client, generator, lang="zh-CN")
    page = text(client.get(f"/shops/{operator.org_id}"))
    assert "按时提运（已起运联单 4 份）" in page and "产废单位评价：1 条" in page


# --- the running totals the database keeps (reviews.models.OperatorTrackRecord) -------------------

_FROM_HISTORY = sql("""
    SELECT o.id, count(DISTINCT r.id),
           coalesce(sum(r.on_time), 0), coalesce(sum(r.as_agreed), 0), coalesce(sum(r.communication), 0),
           (SELECT count(*) FROM manifest m WHERE m.receiver_org_id = o.id
               AND m.status = ANY(:shipped) AND m.shipped_at IS NOT NULL),
           (SELECT count(*) FROM manifest m WHERE m.receiver_org_id = o.id
               AND m.status = ANY(:shipped) AND m.shipped_at <= m.planned_pickup_at + :grace)
    FROM organisation o LEFT JOIN order_review r ON r.subject_org_id = o.id AND r.side = 'generator'
    GROUP BY o.id""")


def _kept() -> dict[int, tuple]:
    rows = db.session.execute(select(OperatorTrackRecord)).scalars()
    return {r.org_id: (r.reviews, r.on_time_points, r.as_agreed_points, r.communication_points,
                       r.shipped_manifests, r.on_time_manifests) for r in rows}


def assert_totals_match_history() -> None:
    """Every organisation's kept totals equal the aggregates over its reviews and manifests, with
    the policy's shipped statuses and grace (the migration spells both out)."""
    db.session.flush()
    kept = _kept()
    for org_id, *history in db.session.execute(_FROM_HISTORY, {
            "shipped": list(SHIPPED_STATUSES), "grace": ON_TIME_GRACE}):
        assert kept.get(org_id, (0,) * 6) == tuple(history), f"organisation {org_id}"


def test_the_kept_totals_follow_every_change_to_reviews_and_manifests():
    first, second = make_order(status="settled"), make_order(status="settled")
    on_time = manifest(first, shipped_after=timedelta(minutes=10))
    late = manifest(first, shipped_after=ON_TIME_GRACE + timedelta(seconds=1), status="shipped")
    draft = manifest(first, shipped_after=None, status="draft")
    assert_totals_match_history()
    assert _kept()[first.operator_id][4:] == (2, 1)

    draft.status, draft.shipped_at = "shipped", PLANNED + ON_TIME_GRACE  # signed at the gate
    assert_totals_match_history()
    late.planned_pickup_at = PLANNED + timedelta(hours=2)  # the plan corrected: now on time
    assert_totals_match_history()
    on_time.receiver_org_id = second.operator_id  # the manifest named the wrong receiver
    assert_totals_match_history()
    late.status = "cancelled"
    assert_totals_match_history()
    db.session.delete(draft)
    assert_totals_match_history()
    assert _kept()[first.operator_id][4:] == (0, 0) and _kept()[second.operator_id][4:] == (1, 1)

    services.submit_review(UserFactory(org=first.generator), first.id,
                           {"on_time": 5, "as_agreed": 4, "communication": 2})
    # the operator rating its generator says nothing about the operator's own record
    operator_review = services.submit_review(UserFactory(org=first.operator), first.id,
                                             {"as_declared": 1, "payment": 1})
    assert_totals_match_history()
    assert _kept()[first.operator_id][:4] == (1, 5, 4, 2)
    assert first.generator_id not in _kept()
    review = db.session.scalar(select(Review).where(Review.order_id == first.id,
                                                    Review.side == "generator"))
    review.subject_org_id, review.communication = second.operator_id, 3
    assert_totals_match_history()
    db.session.delete(review)
    db.session.delete(operator_review)
    assert_totals_match_history()
    assert record_of(first.operator_id) == TrackRecord()

"""Storefront offers and ordering directly from one."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings import offers as svc
from market.listings.capacity import CapacityExhausted
from market.listings.models import CapacityReservation, StorefrontOffer
from market.listings.validation import today
from market.orders import lifecycle
from market.orders.models import Order, OrderLine
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import reservation

COUNTED = (StorefrontOffer, Order, OrderLine, CapacityReservation, AuditEvent)


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def refused(exc_type, fn, *args, field=None, code=None, **kwargs):
    db.session.commit()
    before = counts()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.expire_all()
    assert counts() == before
    assert info.value.message
    if field is not None:
        assert info.value.field == field, info.value.message
    if code is not None:
        assert info.value.code == code
    return info.value


def offer_data(**kw) -> dict:
    data = dict(category="HW08", waste_code=None, method_code="R9", service_region_prefixes=["44"],
                min_kg=500, max_kg=20_000, unit_price_fen_per_t=150_000, transport_fee_fen=30_000,
                lead_time_days=5, description="废矿物油再生")
    data.update(kw)
    return data


@pytest.fixture
def offer(operator):
    return svc.create_offer(operator, **offer_data())


def test_create_offer(operator, offer):
    assert (offer.operator_id, offer.active, offer.service_region_prefixes) == (operator.org_id, True, ["44"])
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "storefront_offer")) \
        == "offer.created"


def test_negative_price_offer(operator):
    assert svc.create_offer(operator, **offer_data(unit_price_fen_per_t=-120_000)).unit_price_fen_per_t == -120_000


@pytest.mark.parametrize("field,value", [
    ("method_code", "D10"),                 # not a method of the operator's licence item
    ("category", "HW17"),                   # not licensed at all
    ("waste_code", "900-252-12"),           # code of another category
    ("max_kg", 100),                        # below the minimum
    ("min_kg", 0),
    ("service_region_prefixes", []),
    ("service_region_prefixes", ["4"]),
    ("transport_fee_fen", -1),
    ("lead_time_days", -2),
    ("status", "active"),
])
def test_offer_fields_are_checked(operator, field, value):
    refused(ValidationFailed, svc.create_offer, operator, **offer_data(**{field: value}), field=field)


def test_only_operators_publish_offers(generator):
    refused(PermissionDenied, svc.create_offer, generator, **offer_data())


def test_update_and_deactivate(operator, offer):
    svc.update_offer(operator, offer.id, unit_price_fen_per_t=140_000)
    assert offer.unit_price_fen_per_t == 140_000
    svc.set_offer_active(operator, offer.id, False)
    assert offer.active is False
    refused(NotFound, svc.update_offer, _other_operator(), offer.id, unit_price_fen_per_t=1)


def _other_operator():
    user = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441302"))
    LicenceItemFactory(licence__org=user.org)
    return user


def test_order_from_offer_reserves_like_an_award(generator, operator, offer):
    order = lifecycle.order_from_offer(generator, offer.id, quantity_kg=2_000)
    assert (order.offer_id, order.quote_id, order.request_id) == (offer.id, None, None)
    assert (order.generator_id, order.operator_id, order.region_code) == \
        (generator.org_id, operator.org_id, generator.org.region_code)
    assert [(ln.kind, ln.amount_fen) for ln in order.lines] == [("disposal", 300_000), ("transport", 30_000)]
    res = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert res.kg == 2_000 and res.licence_item_id == operator.org.licences[0].items[0].id


@pytest.mark.parametrize("kg", [499, 20_001, 0, -1])
def test_quantity_outside_the_offer(generator, offer, kg):
    refused(ValidationFailed, lifecycle.order_from_offer, generator, offer.id, quantity_kg=kg, field="quantity_kg")


def test_pickup_outside_the_offers_regions(generator, offer):
    refused(InvalidState, lifecycle.order_from_offer, generator, offer.id, quantity_kg=1_000,
            region_code="110101", field="region_code", code="region_not_served")


def test_offer_order_refused_when_capacity_is_used(generator, operator, offer):
    item = operator.org.licences[0].items[0]
    reservation(item, item.approved_kg_per_year - 1_000, year=today().year)
    refused(CapacityExhausted, lifecycle.order_from_offer, generator, offer.id, quantity_kg=1_500,
            code="capacity_exhausted", field="quantity_kg")


def test_inactive_own_and_unknown_offers(generator, operator, offer):
    refused(PermissionDenied, lifecycle.order_from_offer, operator, offer.id, quantity_kg=1_000)
    svc.set_offer_active(operator, offer.id, False)
    refused(NotFound, lifecycle.order_from_offer, generator, offer.id, quantity_kg=1_000)
    refused(NotFound, lifecycle.order_from_offer, generator, 10**9, quantity_kg=1_000)


def test_browse_offers_by_category_region_and_price(generator, operator, offer):
    from market.listings.queries import browse_offers
    cheap = _other_operator()
    cheap.org.latitude, cheap.org.longitude = 23.07, 114.3
    operator.org.latitude, operator.org.longitude = 22.92, 113.61
    payer = svc.create_offer(cheap, **offer_data(unit_price_fen_per_t=-20_000, service_region_prefixes=["4403"]))
    assert [o.id for o, _km in browse_offers(category="HW08", region_code="440306")] == [payer.id, offer.id]
    assert [o.id for o, _km in browse_offers(category="HW08", region_code="440605")] == [offer.id]
    assert browse_offers(category="HW17") == []
    near_first = browse_offers(category="HW08", sort="distance", origin=(22.9, 113.6))
    assert [o.id for o, _km in near_first] == [offer.id, payer.id] and near_first[0][1] < 5


def test_storefront_shows_capacity_regions_offers(operator, offer, generator):
    from market.listings.queries import storefront
    lifecycle.order_from_offer(generator, offer.id, quantity_kg=2_000)
    shop = storefront(operator.org_id)
    (line,) = shop["capacity"]
    assert (line["approved_kg"], line["reserved_kg"], line["remaining_kg"]) == (1_000_000, 2_000, 998_000)
    assert shop["service_prefixes"] == ["44"] and [o.id for o in shop["offers"]] == [offer.id]
    assert shop["completed_orders"] == 0
    with pytest.raises(NotFound):
        storefront(generator.org_id)


def test_orders_for_each_party(generator, operator, offer, other_generator):
    from market.orders.queries import orders_for
    order = lifecycle.order_from_offer(generator, offer.id, quantity_kg=1_000)
    assert orders_for(generator) == [order] == orders_for(operator)
    assert orders_for(other_generator) == [] and orders_for(generator, status="cancelled") == []

"""Storefronts through the web: managing offers, shop pages, browsing, ordering from an offer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from market import db
from market.listings.models import CapacityReservation, StorefrontOffer
from market.listings.validation import today
from market.orders.models import Order
from tests.factories import LicenceFactory, LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import StorefrontOfferFactory
from tests.web.marketplace import as_user, counts, field_error, order_from_offer, text


def offer_form(**overrides) -> dict:
    data = {"category": "HW08", "waste_code": "", "method_code": "R9", "service_region_prefixes": "44",
            "min_t": "0.5", "max_t": "100", "unit_price": "1500", "transport_fee": "200",
            "lead_time_days": "5", "description": "桶装废矿物油"}
    data.update(overrides)
    return data


@pytest.fixture
def offer(operator):
    return StorefrontOfferFactory(operator=operator.org, unit_price_fen_per_t=-50_000, min_kg=500,
                                  max_kg=20_000, transport_fee_fen=30_000, lead_time_days=3)


def test_an_operator_publishes_an_offer_in_yuan_and_tonnes(client, operator):
    as_user(client, operator)
    assert client.get("/offers/new").status_code == 200
    resp = client.post("/offers/new", data=offer_form())
    assert resp.status_code == 302
    o = db.session.scalars(select(StorefrontOffer)).one()
    assert (o.min_kg, o.max_kg, o.unit_price_fen_per_t, o.transport_fee_fen, o.lead_time_days) == \
        (500, 100_000, 150_000, 20_000, 5)
    assert o.service_region_prefixes == ["44"] and o.operator_id == operator.org_id
    page = client.get("/storefront").get_data(as_text=True)
    assert 'data-testid="offer-row"' in page


@pytest.mark.parametrize("overrides, field, message", [
    ({"category": "HW17"}, "category", "None of your valid licence items covers HW17 with method R9."),
    ({"method_code": "D10"}, "method_code", "None of your valid licence items covers HW08 with method D10."),
    ({"waste_code": "900-252-12"}, "waste_code", "Waste code 900-252-12 belongs to HW12, not HW08: choose HW12"),
    ({"max_t": "0.1"}, "max_t", "The maximum must not be below the minimum."),
    ({"min_t": "0"}, "min_t", "Quantity must be more than 0 kg."),
    ({"service_region_prefixes": "4"}, "service_region_prefixes",
     "Region prefix 4 must have 2, 4 or 6 digits."),
    ({"unit_price": ""}, "unit_price", "This field is required."),
    ({"lead_time_days": "400"}, "lead_time_days", "Number must be between 0 and 365."),
])
def test_bad_offers_are_refused_naming_the_field(client, operator, overrides, field, message):
    as_user(client, operator)
    before = counts()
    resp = client.post("/offers/new", data=offer_form(**overrides))
    assert resp.status_code == 422
    assert message in field_error(resp, field), text(resp)[-1200:]
    assert counts() == before


def test_the_owner_edits_and_takes_an_offer_off_sale(client, operator, offer):
    as_user(client, operator)
    assert 'data-testid="edit-offer"' in client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert client.post(f"/offers/{offer.id}", data=offer_form(unit_price="-800")).status_code == 302
    db.session.refresh(offer)
    assert offer.unit_price_fen_per_t == -80_000
    assert client.post(f"/offers/{offer.id}/active", data={"active": "0"}).status_code == 302
    db.session.refresh(offer)
    assert offer.active is False
    assert client.post(f"/offers/{offer.id}/active", data={"active": "1"}).status_code == 302
    db.session.refresh(offer)
    assert offer.active is True


def test_the_shop_page_shows_licences_capacity_regions_offers_and_record(client, generator, operator, offer):
    as_user(client, generator)
    resp = client.get(f"/shops/{operator.org_id}")
    assert resp.status_code == 200
    page = text(resp)
    assert operator.org.name in page
    assert operator.org.licences[0].number in page and "1,000.000 t" in page  # remaining this year
    assert "广东省" in page  # no service areas: its own province
    assert "operator pays ¥500.00/t" in page and "Lead time 3 days" in page
    assert "No completed orders yet" in page


def test_completed_orders_are_counted_on_the_shop(client, generator, operator):
    order_from_offer(generator.org, operator.org, status="closed")
    as_user(client, generator)
    resp = client.get(f"/shops/{operator.org_id}")
    assert "No completed orders yet" not in text(resp)
    assert "completed orders" in text(resp)


def test_a_shop_without_a_valid_licence_is_closed_to_others(client, generator):
    closed = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    LicenceItemFactory(licence=LicenceFactory(org=closed.org, valid_to=today() - timedelta(days=1),
                                              valid_from=today() - timedelta(days=400)))
    as_user(client, generator)
    assert client.get(f"/shops/{closed.org_id}").status_code == 404
    assert client.get(f"/shops/{generator.org_id}").status_code == 404  # not an operator
    client.post("/logout")
    as_user(client, closed)
    assert client.get(f"/shops/{closed.org_id}").status_code == 200  # its owner previews it


def test_browsing_offers_by_category_code_region_method_and_sort(client, generator, operator, offer):
    near = UserFactory(org=OrganisationFactory(types=["operator"], region_code="440306",
                                               latitude=22.6, longitude=113.9))
    LicenceItemFactory(licence__org=near.org, category_code="HW08")
    cheap_far = offer  # −¥500/t, operator without coordinates
    db.session.execute(select(1))
    pricey_near = StorefrontOfferFactory(operator=near.org, unit_price_fen_per_t=90_000,
                                         service_region_prefixes=["4403"])
    other = StorefrontOfferFactory(operator=operator.org, category_code="HW09", unit_price_fen_per_t=1)
    generator.org.latitude, generator.org.longitude = 22.67, 113.82
    db.session.commit()
    as_user(client, generator)

    def ids(**q):
        page = client.get("/offers", query_string=q).get_data(as_text=True)
        return [int(x) for x in __import__("re").findall(r'data-offer="(\d+)"', page)]

    assert ids(category="HW08", region="440306") == [cheap_far.id, pricey_near.id]
    assert ids(category="HW08", region="440306", sort="distance") == [pricey_near.id, cheap_far.id]
    assert ids(code="900-214-08", region="440605") == [cheap_far.id]  # HW08 offers serving Foshan
    assert ids(method="R9", category="HW09") == [other.id]
    assert ids(category="HW50") == []


def test_ordering_from_an_offer_creates_the_order(client, generator, operator, offer):
    as_user(client, generator)
    page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert 'data-testid="order-form"' in page
    resp = client.post(f"/offers/{offer.id}", data={
        "quantity": "2", "unit": "t", "region_code": "440306", "address": "深圳市宝安区测试路1号",
        "wanted_on": (today() + timedelta(days=5)).isoformat()})
    order = db.session.scalars(select(Order)).one()
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/orders/{order.id}")
    assert (order.offer_id, order.quantity_kg, order.generator_id) == (offer.id, 2_000, generator.org_id)
    assert [(ln.kind, ln.amount_fen) for ln in order.lines] == [("disposal", -100_000), ("transport", 30_000)]
    assert db.session.scalars(select(CapacityReservation)).one().kg == 2_000


@pytest.mark.parametrize("overrides, field, message", [
    ({"quantity": "0.2"}, "quantity", "This offer takes between 500 and 20,000 kg."),
    ({"quantity": "25"}, "quantity", "This offer takes between 500 and 20,000 kg."),
    ({"quantity": "-1"}, "quantity", "Quantity must be more than 0 kg."),
    ({"wanted_on": (today() - timedelta(days=1)).isoformat()}, "wanted_on",
     "The pickup date cannot be in the past."),
    ({"region_code": "110101"}, "region_code", "The operator does not serve the pickup region 110101."),
])
def test_bad_orders_from_an_offer_are_refused(client, generator, operator, offer, overrides, field, message):
    as_user(client, generator)
    data = {"quantity": "2", "unit": "t", "region_code": "440306", "address": "深圳市宝安区测试路1号",
            "wanted_on": (today() + timedelta(days=5)).isoformat(), **overrides}
    before = counts()
    resp = client.post(f"/offers/{offer.id}", data=data)
    assert resp.status_code in (409, 422)
    assert message in field_error(resp, field), text(resp)[-1200:]
    assert counts() == before


def test_an_offer_beyond_the_remaining_capacity_is_refused(client, generator, operator, offer):
    item = operator.org.licences[0].items[0]
    item.approved_kg_per_year = 1_000
    db.session.commit()
    as_user(client, generator)
    before = counts()
    resp = client.post(f"/offers/{offer.id}", data={
        "quantity": "2", "unit": "t", "region_code": "440306", "address": "x",
        "wanted_on": (today() + timedelta(days=5)).isoformat()})
    assert resp.status_code == 409
    assert "Remaining licensed capacity this year" in field_error(resp, "quantity")
    assert counts() == before


def test_inactive_offers_are_hidden_from_generators(client, generator, offer):
    offer.active = False
    db.session.commit()
    as_user(client, generator)
    assert client.get(f"/offers/{offer.id}").status_code == 404
    assert client.post(f"/offers/{offer.id}", data={"quantity": "1"}).status_code == 404


def test_other_operators_cannot_touch_an_offer(client, offer):
    rival = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    LicenceItemFactory(licence__org=rival.org)
    as_user(client, rival)
    before = counts()
    assert client.post(f"/offers/{offer.id}/active", data={"active": "0"}).status_code == 404
    resp = client.post(f"/offers/{offer.id}", data=offer_form(unit_price="1"))
    assert resp.status_code == 403  # the rival is no generator: it may look, not order or edit
    db.session.refresh(offer)
    assert (offer.active, offer.unit_price_fen_per_t) == (True, -50_000) and counts() == before

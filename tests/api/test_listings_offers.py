"""Storefront offers through the API: publish, browse, order directly from one."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market import db
from market.listings.models import CapacityReservation, StorefrontOffer
from market.listings.offers import create_offer
from market.money import line_amount_fen
from market.orders.models import Order
from tests.api.conftest import error_of
from tests.api.test_listings_requests import day, get, headers_for, operator_user, post, refused
from tests.factories import OrganisationFactory, UserFactory
from tests.listing_factories import reservation


def offer_body(**overrides) -> dict:
    body = dict(category="HW08", waste_code=None, method_code="R9", service_region_prefixes=["44"],
                min_kg=500, max_kg=20_000, unit_price_fen_per_t=150_000, transport_fee_fen=30_000,
                lead_time_days=5)
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def service_data(**overrides) -> dict:
    data = offer_body(**overrides)
    data.setdefault("description", "")
    return data


@pytest.fixture
def offer(operator):
    return create_offer(operator, **service_data())


# --- publishing --------------------------------------------------------------------------------

def test_operator_publishes_an_offer(client, operator):
    resp = post(client, operator, "/offers", offer_body(waste_code="900-214-08", description="再生"))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert set(resp.get_json()) == {"id"}
    offer = db.session.get(StorefrontOffer, resp.get_json()["id"])
    assert (offer.operator_id, offer.category_code, offer.waste_code, offer.method_code,
            offer.service_region_prefixes, offer.min_kg, offer.max_kg, offer.unit_price_fen_per_t,
            offer.transport_fee_fen, offer.lead_time_days, offer.active) == (
        operator.org_id, "HW08", "900-214-08", "R9", ["44"], 500, 20_000, 150_000, 30_000, 5, True)


def test_negative_price_offer_with_defaults(client, operator):
    resp = post(client, operator, "/offers", offer_body(unit_price_fen_per_t=-50_000,
                                                        transport_fee_fen=..., lead_time_days=...))
    assert resp.status_code == 201
    offer = db.session.get(StorefrontOffer, resp.get_json()["id"])
    assert (offer.unit_price_fen_per_t, offer.transport_fee_fen, offer.lead_time_days) == (-50_000, 0, 7)


@pytest.mark.parametrize("field,value", [
    ("category", "HW99"), ("category", "HW17"),          # unknown; not licensed
    ("waste_code", "900-041-49"),                        # a code of another category
    ("method_code", "X1"), ("method_code", "D10"),       # unknown; not on the licence item
    ("service_region_prefixes", "44"), ("service_region_prefixes", [44]),
    ("service_region_prefixes", ["4"]), ("service_region_prefixes", []),
    ("min_kg", 0), ("min_kg", -1), ("min_kg", 500.0), ("min_kg", "500"),
    ("max_kg", 100),                                     # below min_kg
    ("unit_price_fen_per_t", 1.5), ("unit_price_fen_per_t", None),
    ("transport_fee_fen", -1), ("lead_time_days", 366), ("lead_time_days", True),
    ("active", False),
])
def test_bad_offer_field_is_422_and_changes_nothing(client, operator, field, value):
    refused(client, operator, "/offers", offer_body(**{field: value}), field=field)


def test_only_verified_operators_publish(client, generator, regulator):
    refused(client, generator, "/offers", offer_body(), status=403)
    refused(client, regulator, "/offers", offer_body(), status=403, code="permission_denied")


# --- browsing ----------------------------------------------------------------------------------

def test_browse_active_offers_by_category_and_region(client, generator, operator, offer):
    other = operator_user(category_code="HW17", method_codes=["R4"])
    hw17 = create_offer(other, **service_data(category="HW17", method_code="R4",
                                              service_region_prefixes=["4403"]))
    off = create_offer(operator, **service_data(min_kg=1_000))
    off.active = False
    suspended = operator_user()
    gone = create_offer(suspended, **service_data())
    suspended.org.status = "suspended"
    db.session.commit()

    def listed(query=""):
        resp = get(client, generator, f"/offers{query}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return [o["id"] for o in resp.get_json()["items"]]

    assert listed() == [offer.id, hw17.id]
    assert off.id not in listed() and gone.id not in listed()
    assert listed("?category=HW08") == [offer.id]
    assert listed("?category=hw17") == [hw17.id]
    assert listed("?region=440306") == [offer.id, hw17.id]   # 44 and 4403 both begin it
    assert listed("?region=440106") == [offer.id]            # Guangzhou: not 4403
    assert listed("?region=110101") == []
    first = get(client, generator, "/offers?limit=1").get_json()
    assert [o["id"] for o in first["items"]] == [offer.id]
    assert listed(f"?limit=1&cursor={first['next']}") == [hw17.id]
    [shown] = [o for o in get(client, generator, "/offers").get_json()["items"] if o["id"] == offer.id]
    assert shown["operator_name"] == operator.org.name and shown["unit_price_fen_per_t"] == 150_000
    assert shown["service_region_prefixes"] == ["44"] and shown["min_kg"] == 500


@pytest.mark.parametrize("query,field", [("region=4", "region"), ("region=44a", "region"),
                                         ("limit=201", "limit")])
def test_bad_offer_list_parameters_are_422(client, generator, query, field):
    resp = get(client, generator, f"/offers?{query}")
    assert resp.status_code == 422 and error_of(resp)["field"] == field


# --- ordering from an offer --------------------------------------------------------------------

def test_order_from_an_offer_reserves_capacity(client, generator, operator, offer):
    resp = post(client, generator, f"/offers/{offer.id}/order",
                {"quantity_kg": 2_000, "address": "深圳市南山区某路2号", "window_start": day(3)})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert set(resp.get_json()) == {"order_id"}
    order = db.session.get(Order, resp.get_json()["order_id"])
    assert (order.offer_id, order.generator_id, order.operator_id, order.quantity_kg,
            order.region_code, order.address) == (offer.id, generator.org_id, operator.org_id, 2_000,
                                                  generator.org.region_code, "深圳市南山区某路2号")
    disposal = order.line("disposal")
    assert disposal.amount_fen == line_amount_fen(150_000, 2_000)
    assert order.line("transport").amount_fen == 30_000
    res = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert res.kg == 2_000 and res.licence_item_id == operator.org.licences[0].items[0].id


def test_the_same_key_orders_once(client, generator, offer):
    headers = headers_for(generator, "o-1")
    first = post(client, generator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, headers=headers)
    again = post(client, generator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert db.session.scalars(select(Order.id)).all() == [first.get_json()["order_id"]]


@pytest.mark.parametrize("body,field", [
    ({"quantity_kg": 0}, "quantity_kg"), ({"quantity_kg": -1}, "quantity_kg"),
    ({"quantity_kg": 1000.0}, "quantity_kg"), ({"quantity_kg": "1000"}, "quantity_kg"),
    ({}, "quantity_kg"),
    ({"quantity_kg": 499}, "quantity_kg"), ({"quantity_kg": 20_001}, "quantity_kg"),  # offer's range
    ({"quantity_kg": 1000, "window_start": day(-1)}, "window_start"),
    ({"quantity_kg": 1000, "window_start": "soon"}, "window_start"),
    ({"quantity_kg": 1000, "region_code": "999999"}, "region_code"),
    ({"quantity_kg": 1000, "address": 12}, "address"),
    ({"quantity_kg": 1000, "unit_price_fen_per_t": 1}, "unit_price_fen_per_t"),
])
def test_bad_offer_order_is_422_and_changes_nothing(client, generator, offer, body, field):
    refused(client, generator, f"/offers/{offer.id}/order", body, field=field)


def test_pickup_outside_the_offers_regions_is_refused(client, generator, operator):
    offer = create_offer(operator, **service_data(service_region_prefixes=["4401"]))
    refused(client, generator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, status=409,
            code="region_not_served", field="region_code")


def test_offer_order_refused_when_capacity_is_used(client, generator, operator, offer):
    from market.listings.validation import today
    reservation(operator.org.licences[0].items[0], 999_500, year=today().year)
    refused(client, generator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, status=409,
            code="capacity_exhausted")


def test_inactive_unknown_and_own_offers(client, generator, operator, offer, regulator):
    refused(client, operator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, status=403)
    refused(client, regulator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, status=403)
    refused(client, generator, "/offers/999999/order", {"quantity_kg": 1_000}, status=404)
    offer.active = False
    db.session.commit()
    refused(client, generator, f"/offers/{offer.id}/order", {"quantity_kg": 1_000}, status=404)
    pending = UserFactory(org=OrganisationFactory(types=["generator"], status="pending"))
    refused(client, pending, "/offers/999999/order", {"quantity_kg": 1_000}, status=403)

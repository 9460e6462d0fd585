"""Quotes through the API: submit, withdraw, accept (the award that creates the order)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from market import db
from market.listings.models import CapacityReservation, DisposalRequest, Quote
from market.listings.quotes import submit_quote
from market.listings.validation import today
from market.money import line_amount_fen
from market.orders.models import Order
from tests.api.conftest import error_of
from tests.api.test_listings_requests import (counts, day, get, headers_for, open_request,
                                              operator_user, post, refused)
from tests.factories import OrganisationFactory, UserFactory
from tests.listing_factories import quote_data, reservation


@pytest.fixture
def request_(generator):
    return open_request(generator)  # 5 000 kg of HW08, pickup in 440306


def quote_body(**overrides) -> dict:
    body = dict(unit_price_fen_per_t=180_000, transport_fee_fen=50_000, valid_until=day(14),
                subject_to_sampling=False, note="含运输")
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def quote(request_, operator):
    return submit_quote(operator, request_.id, **quote_data())


# --- submitting ------------------------------------------------------------------------------------

def test_operator_quotes_on_a_request_it_matches(client, request_, operator, generator):
    resp = post(client, operator, f"/requests/{request_.id}/quotes", quote_body())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"id", "status"} and body["status"] == "submitted"
    quote = db.session.get(Quote, body["id"])
    assert (quote.operator_id, quote.request_id, quote.unit_price_fen_per_t, quote.transport_fee_fen,
            quote.note) == (operator.org_id, request_.id, 180_000, 50_000, "含运输")
    assert quote.licence_item_id == operator.org.licences[0].items[0].id
    [seen] = get(client, generator, f"/requests/{request_.id}").get_json()["quotes"]
    assert seen["id"] == quote.id and seen["valid_until"] == day(14)
    assert seen["total_fen"] == line_amount_fen(180_000, 5_000) + 50_000


def test_negative_price_and_defaults(client, request_, operator):
    body = quote_body(unit_price_fen_per_t=-80_000, transport_fee_fen=..., subject_to_sampling=...,
                      note=...)
    resp = post(client, operator, f"/requests/{request_.id}/quotes", body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    quote = db.session.get(Quote, resp.get_json()["id"])
    assert (quote.unit_price_fen_per_t, quote.transport_fee_fen, quote.subject_to_sampling,
            quote.note) == (-80_000, 0, False, "")


@pytest.mark.parametrize("field,value", [
    ("unit_price_fen_per_t", 1.5), ("unit_price_fen_per_t", "180000"),
    ("unit_price_fen_per_t", True), ("unit_price_fen_per_t", None), ("unit_price_fen_per_t", 10**14),
    ("transport_fee_fen", -1), ("transport_fee_fen", 100.0),
    ("valid_until", "tomorrow"), ("valid_until", day(-1)), ("valid_until", None),
    ("subject_to_sampling", 1), ("note", "x" * 2001), ("status", "accepted"),
])
def test_bad_quote_field_is_422_and_changes_nothing(client, request_, operator, field, value):
    refused(client, operator, f"/requests/{request_.id}/quotes", quote_body(**{field: value}),
            field=field)


def test_non_json_quote_is_400(client, request_, operator):
    refused(client, operator, f"/requests/{request_.id}/quotes", None, status=400,
            data=b"price=1", content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("setup,rule", [
    (lambda: operator_user(category_code="HW17", method_codes=["R4"]), "category_not_covered"),
    (lambda: operator_user(approved_kg_per_year=3_000), "capacity_exhausted"),
    (lambda: operator_user(region="110101"), "region_not_served"),
])
def test_an_operator_that_does_not_match_is_refused_with_the_rule(client, request_, setup, rule):
    err = refused(client, setup(), f"/requests/{request_.id}/quotes", quote_body(), status=403,
                  code=rule)
    assert err["message"]


def test_capacity_used_by_other_orders_refuses_the_quote(client, request_):
    user = operator_user(approved_kg_per_year=8_000)
    reservation(user.org.licences[0].items[0], 4_000, year=request_.window_start.year)
    refused(client, user, f"/requests/{request_.id}/quotes", quote_body(), status=403,
            code="capacity_exhausted")


def test_generators_and_regulators_do_not_quote(client, request_, other_generator, regulator):
    refused(client, other_generator, f"/requests/{request_.id}/quotes", quote_body(), status=403)
    refused(client, regulator, f"/requests/{request_.id}/quotes", quote_body(), status=403,
            code="permission_denied")


def test_quote_on_a_missing_or_draft_request_is_404(client, generator, operator):
    from market.listings.services import create_request
    from tests.listing_factories import request_data
    draft = create_request(generator, publish=False, **request_data())
    for request_id in (draft.id, 999_999):
        refused(client, operator, f"/requests/{request_id}/quotes", quote_body(), status=404)


def test_a_second_live_quote_is_409(client, request_, operator, quote):
    refused(client, operator, f"/requests/{request_.id}/quotes", quote_body(), status=409,
            code="quote_exists")


# --- withdrawing -------------------------------------------------------------------------------------

def test_withdraw_then_withdraw_again(client, operator, quote):
    resp = post(client, operator, f"/quotes/{quote.id}/withdraw")
    assert resp.status_code == 200 and resp.get_json() == {"id": quote.id, "status": "withdrawn"}
    refused(client, operator, f"/quotes/{quote.id}/withdraw", status=409, code="quote_withdrawn")


def test_another_operators_quote_cannot_be_withdrawn(client, quote, generator):
    rival = operator_user()
    refused(client, rival, f"/quotes/{quote.id}/withdraw", status=404)
    refused(client, generator, f"/quotes/{quote.id}/withdraw", status=404)
    assert db.session.get(Quote, quote.id).status == "submitted"


# --- accepting ---------------------------------------------------------------------------------------

def test_accept_awards_the_request_and_creates_the_order(client, generator, request_, quote):
    rival = operator_user()
    other = submit_quote(rival, request_.id, **quote_data(unit_price_fen_per_t=190_000))
    resp = post(client, generator, f"/quotes/{quote.id}/accept")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"order_id"}
    db.session.expire_all()
    order = db.session.get(Order, body["order_id"])
    assert (order.quote_id, order.request_id, order.generator_id, order.operator_id,
            order.quantity_kg, order.status) == (quote.id, request_.id, generator.org_id,
                                                 quote.operator_id, 5_000, "contract_pending")
    assert db.session.get(Quote, quote.id).status == "accepted"
    assert db.session.get(Quote, other.id).status == "rejected"
    assert db.session.get(DisposalRequest, request_.id).status == "awarded"
    res = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert (res.licence_item_id, res.kg) == (quote.licence_item_id, 5_000)


def test_accepting_an_expired_quote_is_409(client, generator, quote):
    quote.valid_until = today() - timedelta(days=1)
    db.session.commit()
    refused(client, generator, f"/quotes/{quote.id}/accept", status=409, code="quote_expired")
    assert db.session.get(Quote, quote.id).status == "submitted"


def test_accepting_a_withdrawn_quote_is_409(client, generator, operator, quote):
    assert post(client, operator, f"/quotes/{quote.id}/withdraw").status_code == 200
    err = refused(client, generator, f"/quotes/{quote.id}/accept", status=409,
                  code="quote_withdrawn")
    assert err["message"]


def test_accepting_twice_with_the_same_key_replays_one_order(client, generator, quote):
    headers = headers_for(generator, "accept-1")
    first = post(client, generator, f"/quotes/{quote.id}/accept", headers=headers)
    again = post(client, generator, f"/quotes/{quote.id}/accept", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert db.session.scalars(select(Order.id).where(Order.quote_id == quote.id)).all() == [
        first.get_json()["order_id"]]
    assert counts()["CapacityReservation"] == 1


def test_accepting_twice_with_different_keys_is_409_the_second_time(client, generator, quote):
    first = post(client, generator, f"/quotes/{quote.id}/accept", key="a")
    assert first.status_code == 200
    refused(client, generator, f"/quotes/{quote.id}/accept", status=409, code="quote_accepted",
            key="b")
    assert counts()["Order"] == 1


def test_accept_refused_when_capacity_went_meanwhile(client, generator, request_, quote):
    item = db.session.get(Quote, quote.id).licence_item_id
    from market.accounts.models import LicenceItem
    reservation(db.session.get(LicenceItem, item), 996_000, year=request_.window_start.year)
    refused(client, generator, f"/quotes/{quote.id}/accept", status=409, code="capacity_exhausted")


def test_only_the_requests_generator_accepts(client, quote, other_generator, operator, regulator):
    refused(client, other_generator, f"/quotes/{quote.id}/accept", status=404)
    refused(client, operator, f"/quotes/{quote.id}/accept", status=403)
    refused(client, regulator, f"/quotes/{quote.id}/accept", status=403, code="permission_denied")
    refused(client, other_generator, "/quotes/999999/accept", status=404)
    # A colleague in the generator's organisation may accept.
    colleague = UserFactory(org=db.session.get(DisposalRequest, quote.request_id).generator)
    assert post(client, colleague, f"/quotes/{quote.id}/accept").status_code == 200


def test_a_suspended_generator_cannot_accept(client, generator, quote):
    generator.org.status = "suspended"
    db.session.commit()
    refused(client, generator, f"/quotes/{quote.id}/accept", status=403, code="organisation_suspended")


def test_error_bodies_name_no_other_tenant(client, quote):
    stranger = UserFactory(org=OrganisationFactory(types=["generator"], region_code="110101"))
    resp = post(client, stranger, f"/quotes/{quote.id}/accept")
    assert resp.status_code == 404
    assert error_of(resp)["code"] == "not_found"
    assert str(quote.request_id) not in resp.get_data(as_text=True)

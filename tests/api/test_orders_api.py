"""GET /api/v1/orders and /orders/{id}: the parties, staff and regulators of the region, and no one else."""
from __future__ import annotations

import pytest

from market import db
from market.listings.offers import create_offer
from market.listings.quotes import submit_quote
from market.orders.lifecycle import accept_quote
from market.money import line_amount_fen
from market.orders.lifecycle import cancel_order
from tests.api.conftest import error_of
from tests.api.test_listings_requests import get, open_request, operator_user
from tests.factories import RegulatorOrgFactory, UserFactory
from tests.listing_factories import quote_data


@pytest.fixture
def order(generator, operator):
    """An order from an accepted quote: 5 000 kg at 180 000 fen/t plus 50 000 fen transport."""
    req = open_request(generator)
    quote = submit_quote(operator, req.id, **quote_data())
    return accept_quote(generator, quote.id)


def test_the_parties_see_the_order_with_its_lines(client, generator, operator, order):
    for user in (generator, operator):
        resp = get(client, user, f"/orders/{order.id}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert (body["id"], body["number"], body["status"], body["generator_id"],
                body["operator_id"]) == (order.id, order.number, "contract_pending", generator.org_id,
                                         operator.org_id)
        assert body["quote_id"] == order.quote_id and body["offer_id"] is None
        assert body["quantity_kg"] == 5_000 and body["category"] == "HW08"
        disposal, transport = body["lines"]
        assert disposal == {"id": order.line("disposal").id, "kind": "disposal",
                            "payee_org_id": operator.org_id, "unit_price_fen_per_t": 180_000,
                            "quantity_kg": 5_000, "amount_fen": line_amount_fen(180_000, 5_000)}
        assert transport == {"id": order.line("transport").id, "kind": "transport",
                             "payee_org_id": operator.org_id, "unit_price_fen_per_t": None,
                             "quantity_kg": 5_000, "amount_fen": 50_000}
        assert body["total_fen"] == 900_000 + 50_000


def test_a_negative_price_makes_a_negative_disposal_amount(client, generator, operator):
    req = open_request(generator, quantity_kg=2_345)
    quote = submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=-80_001,
                                                        transport_fee_fen=0))
    order = accept_quote(generator, quote.id)
    [line] = get(client, generator, f"/orders/{order.id}").get_json()["lines"]
    assert line["amount_fen"] == line_amount_fen(-80_001, 2_345) < 0


def test_another_organisations_order_is_404(client, order, other_generator):
    rival = operator_user()
    for user in (other_generator, rival):
        resp = get(client, user, f"/orders/{order.id}")
        assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    assert get(client, other_generator, "/orders/999999").status_code == 404


def test_staff_and_regulators_of_the_region_read_orders(client, order, admin, finance, regulator):
    for user in (admin, finance, regulator):
        assert get(client, user, f"/orders/{order.id}").status_code == 200
    elsewhere = UserFactory(org=RegulatorOrgFactory(scope_prefix="4406", region_code="440600"))
    assert get(client, elsewhere, f"/orders/{order.id}").status_code == 404
    assert [o["id"] for o in get(client, regulator, "/orders").get_json()["items"]] == [order.id]
    assert get(client, elsewhere, "/orders").get_json()["items"] == []


def test_order_lists_per_party_newest_first_with_status(client, generator, operator, order,
                                                        other_generator, admin):
    offer = create_offer(operator, category="HW08", method_code="R9", service_region_prefixes=["44"],
                         min_kg=100, max_kg=10_000, unit_price_fen_per_t=100_000)
    from market.orders.lifecycle import order_from_offer
    second = order_from_offer(generator, offer.id, quantity_kg=1_000)
    theirs = order_from_offer(other_generator, offer.id, quantity_kg=1_000)
    cancel_order(generator, second.id)

    def listed(user, query=""):
        resp = get(client, user, f"/orders{query}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert set(body) == {"items", "next"}
        return [o["id"] for o in body["items"]]

    assert listed(generator) == [second.id, order.id]
    assert listed(generator, "?status=contract_pending") == [order.id]
    assert listed(generator, "?status=cancelled") == [second.id]
    assert listed(operator) == [theirs.id, second.id, order.id]
    assert listed(other_generator) == [theirs.id]
    assert listed(admin) == [theirs.id, second.id, order.id]
    page = get(client, operator, "/orders?limit=2").get_json()
    assert [o["id"] for o in page["items"]] == [theirs.id, second.id]
    assert listed(operator, f"?limit=2&cursor={page['next']}") == [order.id]
    assert db.session.get(type(order), second.id).status == "cancelled"


@pytest.mark.parametrize("query,field", [("status=done", "status"), ("cursor=abc", "cursor"),
                                         ("limit=x", "limit")])
def test_bad_order_list_parameters_are_422(client, generator, query, field):
    resp = get(client, generator, f"/orders?{query}")
    assert resp.status_code == 422 and error_of(resp)["field"] == field


def test_orders_need_a_token(client, order):
    for path in ("/api/v1/orders", f"/api/v1/orders/{order.id}"):
        resp = client.get(path)
        assert resp.status_code == 401 and error_of(resp)["code"] == "unauthorized"

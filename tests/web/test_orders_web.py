"""Orders through the web: each party's list and order page, cancelling, regulators reading."""
from __future__ import annotations

from sqlalchemy import select

from market import db
from market.listings.models import CapacityReservation
from tests.factories import OrganisationFactory, UserFactory
from tests.web.marketplace import as_user, counts, order_from_offer, text


def test_both_parties_see_the_order_with_its_lines(client, generator, operator):
    order = order_from_offer(generator.org, operator.org, kg=2_345, unit_price_fen_per_t=123_457,
                             transport_fee_fen=40_000)
    for user, counterpart in ((generator, operator.org.name), (operator, generator.org.name)):
        as_user(client, user)
        listing = client.get("/orders")
        assert order.number in listing.get_data(as_text=True) and counterpart in text(listing)
        resp = client.get(f"/orders/{order.id}")
        assert resp.status_code == 200
        page = text(resp)
        # 2.345 t × ¥1,234.57/t = ¥2,895.0702 → ¥2,895.07 (half-even); + ¥400 transport
        assert "¥2,895.07" in page and "¥400.00" in page and "¥3,295.07" in page
        assert "2.345 t" in page and "¥1,234.57/t" in page
        assert generator.org.name in page and operator.org.name in page
        client.post("/logout")


def test_a_negative_disposal_line_says_the_operator_pays(client, generator, operator):
    order = order_from_offer(generator.org, operator.org, unit_price_fen_per_t=-80_000)
    as_user(client, generator)
    page = text(client.get(f"/orders/{order.id}"))
    assert "operator pays ¥800.00/t" in page and "-¥1,600.00" in page


def test_a_party_cancels_and_the_capacity_is_released(client, generator, operator):
    order = order_from_offer(generator.org, operator.org)
    as_user(client, generator)
    assert 'data-testid="cancel-order"' in client.get(f"/orders/{order.id}").get_data(as_text=True)
    resp = client.post(f"/orders/{order.id}/cancel", data={"reason": "计划变更"})
    assert resp.status_code == 302
    db.session.refresh(order)
    assert (order.status, order.cancel_reason) == ("cancelled", "计划变更")
    assert db.session.scalars(select(CapacityReservation)).one().released_at is not None
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-testid="cancel-order"' not in page


def test_cancelling_when_the_state_forbids_it_is_explained(client, generator, operator):
    order = order_from_offer(generator.org, operator.org, status="funded")
    as_user(client, generator)
    assert 'data-testid="cancel-order"' not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    before = counts()
    resp = client.post(f"/orders/{order.id}/cancel", follow_redirects=True)
    assert "You may not move this order from funded to cancelled." in text(resp)
    db.session.refresh(order)
    assert order.status == "funded" and counts() == before


def test_another_organisations_order_is_404(client, generator, other_generator, operator):
    order = order_from_offer(other_generator.org, operator.org)
    as_user(client, generator)
    before = counts()
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post(f"/orders/{order.id}/cancel").status_code == 404
    assert order.number not in client.get("/orders").get_data(as_text=True)
    db.session.refresh(order)
    assert order.status == "created" and counts() == before


def test_regulators_read_orders_with_a_party_in_their_region(client, regulator, generator, other_generator):
    op_outside = OrganisationFactory(types=["operator"], region_code="441900")
    op_inside = UserFactory(org=OrganisationFactory(types=["operator"], region_code="440305")).org
    by_generator = order_from_offer(generator.org, op_outside)  # generator in 4403
    by_operator = order_from_offer(other_generator.org, op_inside)  # operator in 4403
    elsewhere = order_from_offer(other_generator.org, op_outside)
    as_user(client, regulator)
    page = client.get("/orders").get_data(as_text=True)
    assert by_generator.number in page and by_operator.number in page and elsewhere.number not in page
    resp = client.get(f"/orders/{by_operator.id}")
    assert resp.status_code == 200 and "Read-only view" in text(resp)
    assert 'data-testid="cancel-order"' not in resp.get_data(as_text=True)
    assert client.get(f"/orders/{elsewhere.id}").status_code == 404
    assert client.post(f"/orders/{by_generator.id}/cancel").status_code == 403


def test_orders_filter_by_status(client, generator, operator):
    live = order_from_offer(generator.org, operator.org)
    gone = order_from_offer(generator.org, operator.org, status="cancelled")
    as_user(client, generator)
    page = client.get("/orders?status=cancelled").get_data(as_text=True)
    assert gone.number in page and live.number not in page


def test_dashboards_list_requests_quotes_and_orders(client, generator, operator):
    from tests.listing_factories import DisposalRequestFactory
    req = DisposalRequestFactory(generator=generator.org)
    order = order_from_offer(generator.org, operator.org)
    as_user(client, generator)
    page = client.get("/dashboard").get_data(as_text=True)
    assert req.number in page and order.number in page and "/requests/new" in page
    client.post("/logout")
    as_user(client, operator)
    page = client.get("/dashboard").get_data(as_text=True)
    assert req.number in page and order.number in page and "/storefront" in page

"""Quotes through the web: matched requests, the quote form and its refusals, comparing, accepting."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from market import db
from market.listings.models import AlertPreference, Quote, ServiceArea
from market.listings.validation import today
from market.orders.models import Order
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import DisposalRequestFactory, QuoteFactory
from tests.web.marketplace import as_user, counts, field_error, text


@pytest.fixture
def second_operator():
    user = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441302"))
    LicenceItemFactory(licence__org=user.org, operations=["收集", "贮存", "处置"], method_codes=["D10"])
    return user


@pytest.fixture
def open_request(generator):
    return DisposalRequestFactory(generator=generator.org)


def item_of(user):
    return user.org.licences[0].items[0]


def quote_form(**overrides) -> dict:
    data = {"unit_price": "1800.50", "transport_fee": "500", "valid_until": (today() + timedelta(days=14)).isoformat(),
            "note": "含税价"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_matched_requests_list_and_the_quote_form(client, operator, open_request):
    as_user(client, operator)
    page = client.get("/requests/matched").get_data(as_text=True)
    assert open_request.number in page and 'data-testid="quote-link"' in page
    resp = client.get(f"/requests/{open_request.id}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'data-testid="standing-ok"' in page and 'data-testid="quote-form"' in page
    # an operator never sees the generator's budget or the other operators
    assert 'data-testid="quotes"' not in page and 'data-testid="matches"' not in page


def test_an_operator_quotes_in_yuan_stored_in_fen(client, operator, open_request):
    as_user(client, operator)
    resp = client.post(f"/requests/{open_request.id}", data=quote_form(subject_to_sampling="y"))
    assert resp.status_code == 302
    q = db.session.scalars(select(Quote)).one()
    assert (q.unit_price_fen_per_t, q.transport_fee_fen, q.subject_to_sampling, q.note) == \
        (180_050, 50_000, True, "含税价")
    assert (q.operator_id, q.status) == (operator.org_id, "submitted")
    page = client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    assert 'data-testid="my-quote"' in page and 'data-testid="quote-form"' not in page


def test_a_negative_price_means_the_operator_pays(client, operator, open_request, generator):
    as_user(client, operator)
    assert client.post(f"/requests/{open_request.id}", data=quote_form(unit_price="-300")).status_code == 302
    assert db.session.scalars(select(Quote)).one().unit_price_fen_per_t == -30_000
    client.post("/logout")
    as_user(client, generator)
    page = text(client.get(f"/requests/{open_request.id}"))
    assert "operator pays ¥300.00/t" in page
    # 5 t × −¥300/t + ¥500 transport
    assert "-¥1,000.00" in page


@pytest.mark.parametrize("overrides, field, message", [
    ({"unit_price": ""}, "unit_price", "This field is required."),
    ({"unit_price": "abc"}, "unit_price", "Not a valid decimal value."),
    ({"transport_fee": "-5"}, "transport_fee", "This amount cannot be negative."),
    ({"valid_until": (today() - timedelta(days=1)).isoformat()}, "valid_until",
     "A quote must be valid at least until today."),
    ({"valid_until": ""}, "valid_until", "This field is required."),
])
def test_bad_quotes_are_refused_naming_the_field(client, operator, open_request, overrides, field, message):
    as_user(client, operator)
    before = counts()
    resp = client.post(f"/requests/{open_request.id}", data=quote_form(**overrides))
    assert resp.status_code == 422
    assert message in field_error(resp, field), text(resp)[-1500:]
    assert counts() == before


def test_an_operator_that_does_not_match_cannot_quote(client, operator, open_request):
    # licensed for the category but serving only Dongguan (4419), not the pickup in Shenzhen
    db.session.add(ServiceArea(org_id=operator.org_id, region_prefix="4419"))
    db.session.commit()
    as_user(client, operator)
    resp = client.get(f"/requests/{open_request.id}")
    assert resp.status_code == 200
    assert 'data-rule="region_not_served"' in resp.get_data(as_text=True)
    assert open_request.number not in client.get("/requests/matched").get_data(as_text=True)
    before = counts()
    resp = client.post(f"/requests/{open_request.id}", data=quote_form())
    assert resp.status_code == 403
    assert "The operator does not serve the pickup region 440306." in text(resp)
    assert counts() == before


def test_an_operator_without_a_licence_for_the_category_gets_404(client, operator, generator):
    req = DisposalRequestFactory(generator=generator.org, category_code="HW17", waste_code=None)
    as_user(client, operator)
    before = counts()
    assert client.get(f"/requests/{req.id}").status_code == 404
    assert client.post(f"/requests/{req.id}", data=quote_form()).status_code == 404
    assert counts() == before


def test_the_generator_compares_quotes_side_by_side(client, generator, operator, second_operator):
    req = DisposalRequestFactory(generator=generator.org, quantity_kg=2_500, category_code="HW08")
    LicenceItemFactory(licence=second_operator.org.licences[0], category_code="HW08")
    QuoteFactory(request=req, licence_item=item_of(operator), unit_price_fen_per_t=200_000,
                 transport_fee_fen=30_000, note="两周内清运")
    QuoteFactory(request=req, licence_item=second_operator.org.licences[0].items[1],
                 unit_price_fen_per_t=150_000, transport_fee_fen=100_000, subject_to_sampling=True)
    as_user(client, generator)
    resp = client.get(f"/requests/{req.id}")
    page = resp.get_data(as_text=True)
    assert page.count('data-testid="quote-card"') == 2 and page.count('data-testid="accept-quote"') == 2
    words = text(resp)
    # 2.5 t × ¥2,000 + ¥300 = ¥5,300; 2.5 t × ¥1,500 + ¥1,000 = ¥4,750
    assert "¥5,300.00" in words and "¥4,750.00" in words and "两周内清运" in words
    assert words.index("¥4,750.00") < words.index("¥5,300.00")  # cheapest first


def test_accepting_a_quote_creates_the_order_and_tells_both_operators(client, generator, operator,
                                                                      second_operator, open_request):
    LicenceItemFactory(licence=second_operator.org.licences[0], category_code="HW08")
    winner = QuoteFactory(request=open_request, licence_item=item_of(operator))
    loser = QuoteFactory(request=open_request, licence_item=second_operator.org.licences[0].items[1])
    as_user(client, generator)
    resp = client.post(f"/quotes/{winner.id}/accept")
    order = db.session.scalars(select(Order)).one()
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/orders/{order.id}")
    db.session.refresh(winner)
    db.session.refresh(loser)
    db.session.refresh(open_request)
    assert (winner.status, loser.status, open_request.status) == ("accepted", "rejected", "awarded")
    assert (order.quote_id, order.operator_id, order.quantity_kg) == (winner.id, operator.org_id, 5_000)
    assert 'data-testid="request-order"' in client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    client.post("/logout")
    as_user(client, operator)
    page = client.get("/quotes").get_data(as_text=True)
    assert 'data-status="accepted"' in page and f'/orders/{order.id}' in page
    assert client.get(f"/orders/{order.id}").status_code == 200
    client.post("/logout")
    as_user(client, second_operator)
    resp = client.get("/quotes")
    assert 'data-status="rejected"' in resp.get_data(as_text=True) and "not selected" in text(resp)
    assert client.get(f"/orders/{order.id}").status_code == 404


@pytest.mark.parametrize("status, valid_days, message", [
    ("submitted", -1, "This quote expired on"),
    ("withdrawn", 14, "This quote is withdrawn and can no longer be accepted."),
    ("expired", 14, "This quote is expired and can no longer be accepted."),
    ("rejected", 14, "This quote is rejected and can no longer be accepted."),
])
def test_accepting_a_lapsed_or_withdrawn_quote_is_refused(client, generator, operator, open_request,
                                                          status, valid_days, message):
    quote = QuoteFactory(request=open_request, licence_item=item_of(operator), status=status,
                         valid_until=today() + timedelta(days=valid_days))
    as_user(client, generator)
    before = counts()
    resp = client.post(f"/quotes/{quote.id}/accept", follow_redirects=True)
    assert resp.status_code == 200
    assert message in text(resp)
    db.session.refresh(quote)
    db.session.refresh(open_request)
    assert (quote.status, open_request.status) == (status, "open") and counts() == before


def test_an_expired_quote_has_no_accept_button(client, generator, operator, open_request):
    QuoteFactory(request=open_request, licence_item=item_of(operator), valid_until=today() - timedelta(days=1))
    as_user(client, generator)
    page = client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    assert 'data-testid="accept-quote"' not in page and "lapsed" in page


def test_rejecting_and_withdrawing(client, generator, operator, second_operator, open_request):
    LicenceItemFactory(licence=second_operator.org.licences[0], category_code="HW08")
    a = QuoteFactory(request=open_request, licence_item=item_of(operator))
    b = QuoteFactory(request=open_request, licence_item=second_operator.org.licences[0].items[1])
    as_user(client, generator)
    assert client.post(f"/quotes/{a.id}/reject", data={"reason": "价格过高"}).status_code == 302
    client.post("/logout")
    as_user(client, second_operator)
    assert client.post(f"/quotes/{b.id}/withdraw").status_code == 302
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.status, b.status) == ("rejected", "withdrawn")
    resp = client.post(f"/quotes/{b.id}/withdraw", follow_redirects=True)
    assert "This quote is withdrawn and can no longer be withdrawn." in text(resp)


def test_quotes_of_other_organisations_are_404(client, generator, other_generator, operator,
                                                second_operator):
    theirs = DisposalRequestFactory(generator=other_generator.org)
    quote = QuoteFactory(request=theirs, licence_item=item_of(operator))
    before = counts()
    as_user(client, generator)
    assert client.post(f"/quotes/{quote.id}/accept").status_code == 404
    assert client.post(f"/quotes/{quote.id}/reject").status_code == 404
    client.post("/logout")
    as_user(client, second_operator)
    assert client.post(f"/quotes/{quote.id}/withdraw").status_code == 404
    db.session.refresh(quote)
    assert quote.status == "submitted" and counts() == before


def test_service_areas_and_alert_preferences(client, operator):
    as_user(client, operator)
    page = client.get("/account/service-areas").get_data(as_text=True)
    assert 'data-testid="own-province"' in page
    assert client.post("/account/service-areas", data={"prefixes": "4403， 4419"}).status_code == 302
    assert sorted(db.session.scalars(select(ServiceArea.region_prefix).where(
        ServiceArea.org_id == operator.org_id))) == ["4403", "4419"]
    assert client.post("/account/alerts", data={"categories": ["HW08"], "region_prefixes": "4403"}
                       ).status_code == 302
    pref = db.session.get(AlertPreference, operator.org_id)
    assert (pref.categories, pref.region_prefixes) == (["HW08"], ["4403"])


@pytest.mark.parametrize("url, data, field, message", [
    ("/account/service-areas", {"prefixes": "4"}, "prefixes", "Region prefix 4 must have 2, 4 or 6 digits."),
    ("/account/service-areas", {"prefixes": "99"}, "prefixes", "No region starts with 99."),
    ("/account/alerts", {"region_prefixes": "123"}, "region_prefixes",
     "Region prefix 123 must have 2, 4 or 6 digits."),
])
def test_bad_service_areas_are_refused(client, operator, url, data, field, message):
    as_user(client, operator)
    before = counts()
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    assert message in field_error(resp, field)
    assert counts() == before


def test_marketplace_posts_without_a_csrf_token_are_refused(csrf_app, client, generator, operator,
                                                            open_request):
    from tests.listing_factories import StorefrontOfferFactory
    from tests.web.marketplace import order_from_offer
    quote = QuoteFactory(request=open_request, licence_item=item_of(operator))
    offer = StorefrontOfferFactory(operator=operator.org)
    order = order_from_offer(generator.org, operator.org)
    db.session.commit()
    csrf_app.config["WTF_CSRF_ENABLED"] = False  # log in without fetching a token first
    as_user(client, generator)
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    before = counts()
    for path in ("/requests/new", f"/requests/{open_request.id}", f"/requests/{open_request.id}/cancel",
                 f"/requests/{open_request.id}/publish", f"/quotes/{quote.id}/accept",
                 f"/quotes/{quote.id}/reject", f"/quotes/{quote.id}/withdraw", f"/offers/{offer.id}",
                 f"/offers/{offer.id}/active", "/offers/new", f"/orders/{order.id}/cancel",
                 "/account/service-areas", "/account/alerts"):
        assert client.post(path, data={"reason": "x"}).status_code == 400, path
    assert counts() == before

"""One regulator scope on the web and in the API (issue 9, item 7; market/region_scope.py).

A record lies in a regulator's region when its generator's region, its pickup region or its
operator's region starts with the prefix. The web and the API answer alike, and no link the app
shows a regulator leads to a 404.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from market import db
from market.orders.models import Order
from tests.api.conftest import bearer
from tests.factories import OrganisationFactory, UserFactory
from tests.listing_factories import DisposalRequestFactory
from tests.sampling_factories import accredited_lab, order_for, run_lab
from tests.fixtures import login


@pytest.fixture
def foshan_generator():
    return UserFactory(org=OrganisationFactory(types=["generator"], region_code="440605"))


def both(client, regulator, web: str, api: str) -> tuple[int, int]:
    """The status of a web page (logged in) and of an API endpoint (bearer) for the regulator."""
    return client.get(web).status_code, client.get(f"/api/v1{api}", headers=bearer(regulator)).status_code


def test_a_foshan_request_picked_up_in_shenzhen_is_shenzhens_on_the_web_and_in_the_api(
        client, regulator, foshan_generator):
    inside = DisposalRequestFactory(generator=foshan_generator.org, region_code="440306")
    outside = DisposalRequestFactory(generator=foshan_generator.org, region_code="440605")
    login(client, regulator)
    assert both(client, regulator, f"/requests/{inside.id}", f"/requests/{inside.id}") == (200, 200)
    assert both(client, regulator, f"/requests/{outside.id}", f"/requests/{outside.id}") == (404, 404)
    page = client.get("/requests").get_data(as_text=True)
    assert inside.number in page and outside.number not in page
    listed = client.get("/api/v1/requests", headers=bearer(regulator)).get_json()["items"]
    assert [r["id"] for r in listed] == [inside.id]


def test_an_order_is_the_regions_of_its_generator_pickup_and_operator(client, regulator,
                                                                       foshan_generator, operator):
    # generator in Foshan, operator in Dongguan (441900): only the pickup lies in Shenzhen
    order = order_for(foshan_generator, operator, region_code="440306", address="深圳市宝安区")
    lab = accredited_lab(region_code="440605")
    so = run_lab(order, foshan_generator, lab, until="requested")
    elsewhere = order_for(foshan_generator, operator, region_code="440605", address="佛山市南海区")
    login(client, regulator)
    for web, api in ((f"/orders/{order.id}", f"/orders/{order.id}"),
                     (f"/orders/{order.id}/contract", f"/orders/{order.id}/contract"),
                     (f"/sampling/{so.id}", f"/sampling/{so.id}")):
        assert both(client, regulator, web, api) == (200, 200), web
    assert both(client, regulator, f"/orders/{elsewhere.id}", f"/orders/{elsewhere.id}") == (404, 404)
    listed = client.get("/api/v1/orders", headers=bearer(regulator)).get_json()["items"]
    assert [o["id"] for o in listed] == [order.id]
    assert order.number in client.get("/orders").get_data(as_text=True)
    # the operator's region decides too: a Dongguan regulator sees both orders
    dongguan = UserFactory(org=OrganisationFactory(kind="regulator", types=[], credit_code=None,
                                                   region_code="441900", scope_prefix="4419"))
    ids = [o["id"] for o in client.get("/api/v1/orders", headers=bearer(dongguan)).get_json()["items"]]
    assert sorted(ids) == sorted([order.id, elsewhere.id])


LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/static/", "/logout", "/lang", "/api/")


def test_no_link_shown_to_a_regulator_leads_to_a_404(client, regulator, foshan_generator, operator):
    order = order_for(foshan_generator, operator, region_code="440306", address="深圳市宝安区")
    run_lab(order, foshan_generator, accredited_lab(region_code="440605"), until="requested")
    DisposalRequestFactory(generator=foshan_generator.org, region_code="440306")
    login(client, regulator)
    seen, queue, visited = {"/dashboard"}, ["/dashboard"], 0
    while queue and visited < 150:
        path = queue.pop(0)
        resp = client.get(path)
        visited += 1
        assert resp.status_code in (200, 302), (path, resp.status_code)
        if resp.status_code != 200 or not resp.mimetype == "text/html":
            continue
        for href in LINK.findall(resp.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            target = urlsplit(href).path
            if target.startswith(SKIP) or href in seen:
                continue
            seen.add(href)
            queue.append(href)
    assert visited > 10
    assert any(p == f"/orders/{order.id}" for p in seen)
    db.session.rollback()
    assert db.session.get(Order, order.id) is not None

"""Suspension on the web: the same forms that work for a verified organisation are refused for a
suspended one (403, saying so) with the whole database unchanged (market.acting)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from market import db
from market.listings.services import create_request
from market.listings.validation import today
from tests.escrow_factories import PDF, make_order, pay_in_full, set_status
from tests.factories import PASSWORD
from tests.listing_factories import request_data
from tests.sampling_factories import accredited_lab, order_for, render_all, run_lab
from tests.state import fingerprint
from tests.web.marketplace import as_user, text


def suspend(*users):
    for user in users:
        user.org.status, user.org.status_reason = "suspended", "test"
    db.session.commit()


def refused(client, url, **kwargs):
    """A 403 page, or (views that show a refusal on their form or the page they return to) a message,
    saying the organisation is suspended; and the whole database unchanged."""
    before = fingerprint()
    resp = client.post(url, follow_redirects=True, **kwargs)
    assert resp.status_code in (200, 403, 422), (url, resp.status_code)
    assert "Your organisation is suspended" in text(resp), url
    assert fingerprint() == before, url
    return resp


@pytest.fixture
def lab():
    return accredited_lab()


def test_a_suspended_operator_is_refused_on_every_form_it_used_to_fill(client, generator, operator,
                                                                        lab):
    priced = order_for(generator, operator)
    run_lab(priced, generator, lab)
    signing = order_for(generator, operator, sampling=False)
    render_all()
    req = create_request(generator, **request_data())
    suspend(operator)
    as_user(client, operator)
    refused(client, f"/orders/{priced.id}/price", data={"action": "confirm", "unit_price": "2100.00"})
    refused(client, f"/orders/{signing.id}/contract/sign", data={"password": PASSWORD})
    # a suspended operator matches no request any more: the quote form is not even found
    before = fingerprint()
    assert client.post(f"/requests/{req.id}", data={
        "unit_price": "1800.50", "transport_fee": "500",
        "valid_until": (today() + timedelta(days=14)).isoformat(), "note": ""}).status_code == 404
    assert fingerprint() == before
    refused(client, "/offers/new", data={
        "category": "HW08", "waste_code": "", "method_code": "R9", "service_region_prefixes": "44",
        "min_t": "0.5", "max_t": "100", "unit_price": "1500", "transport_fee": "200",
        "lead_time_days": "5", "description": "桶装废矿物油"})


def test_a_suspended_generator_is_refused_funding_sampling_and_disputes(client, generator, operator,
                                                                         finance, lab):
    unfunded = make_order(generator.org, operator.org)
    sampled = order_for(generator, operator)
    received = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    suspend(generator)
    as_user(client, generator)
    refused(client, f"/orders/{unfunded.id}/funding")
    refused(client, f"/orders/{sampled.id}/sampling", data={"lab_org_id": lab.org_id, "analytes": ["ph"]})
    refused(client, f"/orders/{received.id}/disputes", content_type="multipart/form-data",
            data={"reason": "到货少了一桶", "evidence": [(io.BytesIO(PDF), "单据.pdf")]})
    # reading still works
    assert client.get(f"/orders/{received.id}").status_code == 200

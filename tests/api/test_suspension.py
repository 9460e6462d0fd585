"""Suspension bites everywhere: a suspended organisation's users read, but no write use case runs.

The guard is market.acting: every flush of a request whose acting user belongs to a suspended
organisation is refused (403 organisation_suspended) and rolls back, so these tests show the
refusal and that the whole database is unchanged, through the API and the web alike.
"""
from __future__ import annotations

import io
from datetime import date

import pytest

from market import db, ledger
from market.accounts import services as accounts
from market.acting import acting_as
from market.orders import lifecycle
from market.errors import OrganisationSuspended
from market.escrow import services as escrow
from market.listings.services import create_request
from market.orders.lifecycle import cancel_order
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import PDF, make_order, pay_in_full, set_status
from tests.factories import PASSWORD, UserFactory
from tests.api.test_listings_offers import offer_body
from tests.listing_factories import request_data
from tests.sampling_factories import accredited_lab, order_for, render_all, run_lab
from tests.state import fingerprint
from tests.web.marketplace import as_user


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def suspend(*users):
    for user in users:
        user.org.status, user.org.status_reason = "suspended", "test"
    db.session.commit()


def refused_as_suspended(client, user, url, codes=("organisation_suspended",), **kwargs):
    """POST as `user` (suspended): 403 organisation_suspended, and nothing changed anywhere."""
    headers = bearer(user)
    before = fingerprint()
    resp = client.post(f"/api/v1{url}", headers=headers, **kwargs)
    assert fingerprint() == before
    assert resp.status_code == 403, resp.get_data(as_text=True)
    err = error_of(resp)
    assert err["code"] in codes, err
    assert err["code"] != "organisation_suspended" or "suspended" in err["message"]
    return resp


def test_a_suspended_operator_cannot_confirm_the_price_after_sampling(client, generator, operator):
    order = order_for(generator, operator)
    run_lab(order, generator, accredited_lab())
    suspend(operator)
    refused_as_suspended(client, operator, f"/orders/{order.id}/price",
                         json={"unit_price_fen_per_t": 190_000})


def test_a_suspended_operator_cannot_sign_the_contract(client, generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    suspend(operator)
    refused_as_suspended(client, operator, f"/orders/{order.id}/contract/sign",
                         json={"password": PASSWORD})


def test_a_suspended_operator_cannot_quote_or_publish_an_offer(client, generator, operator):
    req = create_request(generator, **request_data())
    suspend(operator)
    refused_as_suspended(client, operator, f"/requests/{req.id}/quotes",
                         json={"unit_price_fen_per_t": 180_000, "transport_fee_fen": 0,
                               "valid_until": date.today().replace(year=date.today().year + 1).isoformat()})
    refused_as_suspended(client, operator, "/offers", json=offer_body())


def test_a_suspended_generator_cannot_fund_sample_or_dispute(client, generator, operator, finance):
    unfunded = make_order(generator.org, operator.org)
    sampled = order_for(generator, operator)
    disputed = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    lab = accredited_lab()
    suspend(generator)
    refused_as_suspended(client, generator, f"/orders/{unfunded.id}/funding")
    refused_as_suspended(client, generator, f"/orders/{sampled.id}/sampling",
                         json={"lab_org_id": lab.org_id, "analytes": ["ph"]})
    refused_as_suspended(client, generator, f"/orders/{disputed.id}/disputes",
                         data={"reason": "重量不符", "evidence": [(io.BytesIO(PDF), "a.pdf")]},
                         content_type="multipart/form-data")


def test_a_suspended_lab_cannot_accept_a_sampling_order(client, generator, operator):
    order = order_for(generator, operator)
    lab = accredited_lab()
    so = run_lab(order, generator, lab, until="requested")
    suspend(lab)
    refused_as_suspended(client, lab, f"/sampling/{so.id}/accept", json={"fee_fen": 50_000},
                         codes=("organisation_suspended", "lab_not_verified"))


def test_a_suspended_party_cannot_revise_the_contract_on_the_web(client, generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    lifecycle.sign_contract(generator, order.id, PASSWORD)
    lifecycle.sign_contract(operator, order.id, PASSWORD)
    suspend(operator)
    as_user(client, operator)
    before = fingerprint()
    resp = client.post(f"/orders/{order.id}/contract/revisions",
                       data={"quantity_kg": order.quantity_kg + 100, "reason": "多了"})
    assert resp.status_code == 403 and "suspended" in resp.get_data(as_text=True)
    assert {t: h for t, h in fingerprint().items() if t not in ("audit_event", "app_user")} == \
        {t: h for t, h in before.items() if t not in ("audit_event", "app_user")}


def test_reads_still_work_for_a_suspended_organisation(client, generator, operator):
    order = order_for(generator, operator, sampling=False)
    suspend(operator)
    headers = bearer(operator)
    assert client.get(f"/api/v1/orders/{order.id}", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).get_json()["org"]["status"] == "suspended"
    assert client.post("/api/v1/notifications/read", headers=headers, json={}).status_code == 200


def test_refunds_to_the_counterparty_of_a_suspended_organisation_still_run(generator, operator,
                                                                           finance, admin):
    partly = pay_in_full(make_order(generator.org, operator.org), finance)
    whole = pay_in_full(make_order(generator.org, operator.org), finance)
    suspend(operator)
    with acting_as(finance):
        escrow.refund(finance, partly.id, generator.org_id, 100_000, "refund-1")
    assert ledger.balance(f"escrow:{partly.number}") == 200_000
    with acting_as(admin):
        cancel_order(admin, whole.id, "经营单位被暂停")
    assert ledger.balance(f"escrow:{whole.number}") == 0


def test_the_guard_refuses_a_service_called_as_a_suspended_user(operator):
    colleague = UserFactory(org=operator.org)
    suspend(operator)
    with acting_as(colleague), pytest.raises(OrganisationSuspended):
        accounts.update_profile(colleague, name="新名字", address="", region_code=operator.org.region_code)


def test_idempotency_keys_work_for_a_suspended_organisation(client, generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    suspend(operator)
    headers = {**bearer(operator), "Idempotency-Key": "sign-1"}
    before = fingerprint()
    resp = client.post(f"/api/v1/orders/{order.id}/contract/sign", headers=headers,
                       json={"password": PASSWORD})
    assert resp.status_code == 403 and error_of(resp)["code"] == "organisation_suspended"
    changed = {t for t, h in fingerprint().items() if before[t] != h}
    assert changed <= {"idempotency_record"}  # the refusal is remembered, nothing else
    resp = client.post("/api/v1/notifications/read", json={},
                       headers={**bearer(operator), "Idempotency-Key": "read-1"})
    assert resp.status_code == 200

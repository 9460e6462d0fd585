"""POST /orders/{id}/funding and POST /orders/{id}/disputes over the API."""
from __future__ import annotations

import base64
import io

from market import db, ledger
from market.escrow.dispute_models import Dispute
from market.escrow.policies import make_reference
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import PDF, make_order, money_snapshot, pay_in_full, set_status


def test_funding_instructions_for_the_payer(client, generator, operator):
    order = make_order(generator.org, operator.org, transport_fen=40_000)
    headers = {**bearer(generator), "Idempotency-Key": "fund-1"}
    resp = client.post(f"/api/v1/orders/{order.id}/funding", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["gateway"] == "bank" and body["amount_fen"] == 340_000
    assert body["reference"] == make_reference(order.number)
    assert set(body["account"]) == {"name", "number", "bank"} and body["status"] == "funding"
    again = client.post(f"/api/v1/orders/{order.id}/funding", headers=headers)
    assert again.get_json() == body and again.headers["Idempotent-Replayed"] == "true"


def test_funding_refusals(client, generator, operator, other_generator, regulator):
    order = make_order(generator.org, operator.org)
    early = make_order(generator.org, operator.org, status="contract_pending")
    before = money_snapshot(order, early)
    resp = client.post(f"/api/v1/orders/{order.id}/funding", headers=bearer(operator))
    assert resp.status_code == 403 and error_of(resp)["code"] == "nothing_to_pay"
    resp = client.post(f"/api/v1/orders/{order.id}/funding", headers=bearer(other_generator))
    assert resp.status_code == 404
    resp = client.post(f"/api/v1/orders/{order.id}/funding", headers=bearer(regulator))
    assert resp.status_code == 403
    resp = client.post(f"/api/v1/orders/{early.id}/funding", headers=bearer(generator))
    assert resp.status_code == 409 and error_of(resp)["code"] == "not_awaiting_funding"
    assert client.post("/api/v1/orders/2147483647/funding",
                       headers=bearer(generator)).status_code == 404
    assert client.post(f"/api/v1/orders/{order.id}/funding").status_code == 401
    assert money_snapshot(order, early) == before


def test_open_a_dispute_with_multipart_evidence(client, generator, operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    resp = client.post(f"/api/v1/orders/{order.id}/disputes", headers=bearer(generator),
                       data={"reason": "实收重量不符",
                             "evidence": [(io.BytesIO(PDF), "磅单.pdf")]},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "open" and body["evidence"] == 1
    assert db.session.get(Dispute, body["id"]).order_id == order.id
    assert ledger.balance(f"escrow:{order.number}") == 300_000


def test_open_a_dispute_with_json_evidence_and_bad_input(client, generator, operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    url = f"/api/v1/orders/{order.id}/disputes"
    before = money_snapshot(order)
    resp = client.post(url, headers=bearer(generator), json={"reason": "x", "evidence": [
        {"name": "a.txt", "content_base64": base64.b64encode(b"plain text").decode()}]})
    assert resp.status_code == 422 and error_of(resp)["field"] == "evidence"
    resp = client.post(url, headers=bearer(generator), json={"reason": "x", "evidence": "nope"})
    assert resp.status_code == 422
    resp = client.post(url, headers=bearer(generator), json={"evidence": []})
    assert resp.status_code == 422 and error_of(resp)["field"] == "reason"
    assert money_snapshot(order) == before
    resp = client.post(url, headers=bearer(operator), json={"reason": "对方拒付", "evidence": [
        {"name": "photo.pdf", "content_base64": base64.b64encode(PDF).decode()}]})
    assert resp.status_code == 201


def test_disputing_a_funded_order_in_transit_is_refused(client, generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    before = money_snapshot(order)
    resp = client.post(f"/api/v1/orders/{order.id}/disputes", headers=bearer(generator),
                       json={"reason": "x", "evidence": [
                           {"name": "a.pdf", "content_base64": base64.b64encode(PDF).decode()}]})
    assert resp.status_code == 409 and error_of(resp)["code"] == "invalid_transition"
    assert money_snapshot(order) == before


def test_an_evidence_name_with_a_line_break_is_refused_and_nothing_stored(client, generator,
                                                                          operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    before = money_snapshot(order)
    resp = client.post(f"/api/v1/orders/{order.id}/disputes", headers=bearer(generator), json={
        "reason": "重量不符", "evidence": [{"name": "a.pdf\r\nX-Injected: 1",
                                        "content_base64": base64.b64encode(PDF).decode()}]})
    assert resp.status_code == 422 and error_of(resp)["field"] == "evidence"
    assert money_snapshot(order) == before

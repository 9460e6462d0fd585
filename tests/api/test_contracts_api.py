"""The contract API: its status, signing with the password, and the PDF with its hash."""
from __future__ import annotations

import hashlib

import pytest

from market import db
from market.contracts.services import contract_of
from market.orders import lifecycle
from tests.api.conftest import bearer, error_of
from tests.factories import PASSWORD
from tests.sampling_factories import order_for, render_all


@pytest.fixture
def order(generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    return order


def test_sign_both_and_download(client, order, generator, operator, other_generator):
    body = client.get(f"/api/v1/orders/{order.id}/contract", headers=bearer(generator)).get_json()
    [version] = body["contract"]["versions"]
    [draft] = version["documents"]
    assert (draft["kind"], draft["status"]) == ("draft", "ready")
    pdf = client.get(f"/api/v1/orders/{order.id}/contract.pdf", headers=bearer(operator))
    assert pdf.mimetype == "application/pdf" and pdf.headers["X-Content-SHA256"] == draft["sha256"]
    assert hashlib.sha256(pdf.data).hexdigest() == draft["sha256"]
    resp = client.post(f"/api/v1/orders/{order.id}/contract/sign", headers=bearer(generator),
                       json={"password": PASSWORD, "sha256": draft["sha256"]})
    assert resp.get_json() == {"status": "contract_pending", "version": 1,
                               "version_status": "pending_signatures", "signed_by": ["generator"]}
    again = client.post(f"/api/v1/orders/{order.id}/contract/sign", headers=bearer(generator),
                        json={"password": PASSWORD})
    assert again.status_code == 409 and error_of(again)["code"] == "already_signed"
    foreign = client.post(f"/api/v1/orders/{order.id}/contract/sign", headers=bearer(other_generator),
                          json={"password": PASSWORD})
    assert foreign.status_code == 404
    resp = client.post(f"/api/v1/orders/{order.id}/contract/sign", headers=bearer(operator),
                       json={"password": PASSWORD})
    assert resp.get_json()["status"] == "contract_signed"
    sigs = client.get(f"/api/v1/orders/{order.id}/contract", headers=bearer(operator)).get_json()
    assert {s["sha256"] for s in sigs["contract"]["versions"][0]["signatures"]} == {draft["sha256"]}
    render_all()
    final = client.get(f"/api/v1/orders/{order.id}/contract.pdf", headers=bearer(generator))
    db.session.expire_all()
    assert final.headers["X-Content-SHA256"] == contract_of(order.id).current.document("final").sha256
    assert client.get(f"/api/v1/orders/{order.id}/contract.pdf", headers=bearer(other_generator)).status_code == 404


def test_a_wrong_password_is_403_and_signs_nothing(client, order, generator):
    resp = client.post(f"/api/v1/orders/{order.id}/contract/sign", headers=bearer(generator),
                       json={"password": "not-my-password"})
    assert resp.status_code == 403
    err = error_of(resp)
    assert (err["code"], err["field"]) == ("wrong_password", "password")
    db.session.expire_all()
    assert contract_of(order.id).current.signatures == []


def test_no_pdf_before_the_contract(client, generator, operator):
    order = order_for(generator, operator)
    assert client.get(f"/api/v1/orders/{order.id}/contract", headers=bearer(generator)).get_json()["contract"] is None
    resp = client.get(f"/api/v1/orders/{order.id}/contract.pdf", headers=bearer(generator))
    assert resp.status_code == 404 and error_of(resp)["message"]


def test_the_signed_copy_governs_while_a_revision_awaits_signatures(client, order, generator, operator):
    from market.contracts import revisions
    lifecycle.sign_contract(generator, order.id, PASSWORD)
    lifecycle.sign_contract(operator, order.id, PASSWORD)
    render_all()
    rev = revisions.propose_revision(generator, order.id, quantity_kg=4_000)
    revisions.accept_revision(operator, rev.id)
    render_all()
    db.session.expire_all()
    v1_final = contract_of(order.id).versions[0].document("final")
    resp = client.get(f"/api/v1/orders/{order.id}/contract.pdf", headers=bearer(generator))
    assert resp.headers["X-Content-SHA256"] == v1_final.sha256 and resp.data == v1_final.pdf
    body = client.get(f"/api/v1/orders/{order.id}/contract", headers=bearer(generator)).get_json()
    assert [v["status"] for v in body["contract"]["versions"]] == ["signed", "pending_signatures"]
    assert body["contract"]["revisions"][0]["changes"] == {"quantity_kg": 4_000}

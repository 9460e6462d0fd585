"""GET /orders/{id}/settlement, POST /orders/{id}/certificate, GET /payables, POST /finance/payouts."""
from __future__ import annotations

import base64
import io
import os

from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Payout
from market.settlement import services
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import PDF
from tests.settlement_factories import received_order


def test_the_settlement_of_an_order(client, generator, operator, other_generator, finance):
    order = received_order(generator.org, operator.org, transport_fen=40_000,
                           weights=((1_000, 970), (1_000, 920)), finance=finance)
    url = f"/api/v1/orders/{order.id}/settlement"
    before = client.get(url, headers=bearer(generator)).get_json()
    assert before["status"] == "pending" and before["funded_fen"] == 340_000
    services.settle(order.id)
    body = client.get(url, headers=bearer(operator)).get_json()
    assert body["status"] == "settled" and body["refunded_fen"] == 16_500
    assert body["accepted_kg"] == 1_890 and body["escrow_fen"] == 0
    assert [{k: ln[k] for k in ("kind", "payee_org_id", "amount_fen", "fee_fen", "released_fen")}
            for ln in body["lines"]] == [
        {"kind": "disposal", "payee_org_id": operator.org_id, "amount_fen": 283_500,
         "fee_fen": 2_835, "released_fen": 283_500},
        {"kind": "transport", "payee_org_id": operator.org_id, "amount_fen": 40_000,
         "fee_fen": 0, "released_fen": 40_000}]
    assert client.get(url, headers=bearer(other_generator)).status_code == 404


def test_the_certificate_releases_the_retention_and_refusals_store_nothing(
        app, client, generator, operator, finance):
    app.config["SETTLEMENT_RETENTION_BPS"] = 500
    try:
        order = received_order(generator.org, operator.org, finance=finance)
        services.settle(order.id)
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
    url = f"/api/v1/orders/{order.id}/certificate"
    folder = app.config["UPLOAD_DIR"]
    files = set(os.listdir(folder))
    resp = client.post(url, headers=bearer(generator),
                       data={"certificate": (io.BytesIO(PDF), "c.pdf")})
    assert resp.status_code == 403
    resp = client.post(url, headers=bearer(operator),
                       json={"name": "c.txt", "content_base64": base64.b64encode(b"hi").decode()})
    assert resp.status_code == 422 and error_of(resp)["field"] == "certificate"
    assert set(os.listdir(folder)) == files and ledger.balance(f"escrow:{order.number}") == 15_000
    headers = {**bearer(operator), "Idempotency-Key": "cert-1"}
    resp = client.post(url, headers=headers, data={"certificate": (io.BytesIO(PDF), "处置证明.pdf")})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["certificate_uploaded"] and resp.get_json()["retained_fen"] == 0
    assert ledger.balance(f"escrow:{order.number}") == 0
    again = client.post(url, headers={**bearer(operator), "Idempotency-Key": "cert-2"},
                        data={"certificate": (io.BytesIO(PDF), "again.pdf")})
    assert again.status_code == 409 and len(set(os.listdir(folder)) - files) == 1


def test_payables_with_reasons_and_a_bank_payout_closes_the_order(
        app, client, generator, operator, finance, regulator):
    app.config["SETTLEMENT_RETENTION_BPS"] = 1_000
    try:
        order = received_order(generator.org, operator.org, weights=((2_000, 1_900),),
                               finance=finance)
        services.settle(order.id)
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
    body = client.get("/api/v1/payables", headers=bearer(operator)).get_json()
    # 1.9 t × ¥1 500 = ¥2 850, 10 % (28 500) retained; fee on the released part 2 565
    assert body["balance_fen"] == 256_500 - 2_565
    assert [i["kind"] for i in body["items"]] == ["release"]
    codes = {r["code"]: r["amount_fen"] for r in body["pending_reasons"]}
    # no bank account on file yet: the payee is told to add one
    assert codes == {"no_verified_account": 253_935, "retention_until_certificate": 28_500}
    gen = client.get("/api/v1/payables", headers=bearer(generator)).get_json()
    assert gen["balance_fen"] == 15_000 and gen["items"][0]["kind"] == "refund"
    assert client.get("/api/v1/payables", headers=bearer(regulator)).status_code in (403, 404)
    # finance pays out; bad input changes nothing
    url, fin = "/api/v1/finance/payouts", bearer(finance)
    resp = client.post(url, headers=fin, json={"org_id": operator.org_id,
                                               "amount_fen": 253_936, "bank_ref": "P1"})
    assert resp.status_code == 422 and error_of(resp)["field"] == "amount_fen"
    resp = client.post(url, headers=bearer(operator), json={"org_id": operator.org_id,
                                                            "amount_fen": 1, "bank_ref": "P1"})
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 0
    for org_id, fen, ref in ((operator.org_id, 253_935, "P1"), (generator.org_id, 15_000, "P2")):
        resp = client.post(url, headers={**fin, "Idempotency-Key": ref},
                           json={"org_id": org_id, "amount_fen": fen, "bank_ref": ref})
        assert resp.status_code == 201, resp.get_json()
    db.session.refresh(order)
    assert order.status == "settled"   # the retention is still in escrow
    resp = client.post(f"/api/v1/orders/{order.id}/certificate", headers=bearer(operator),
                       data={"certificate": (io.BytesIO(PDF), "c.pdf")})
    assert resp.status_code == 201
    client.post(url, headers=fin, json={"org_id": operator.org_id, "amount_fen": 28_500 - 285,
                                        "bank_ref": "P3"})
    db.session.refresh(order)
    assert order.status == "closed"
    assert client.get("/api/v1/payables", headers=bearer(operator)).get_json()["balance_fen"] == 0

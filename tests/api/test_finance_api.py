"""POST /finance/receipts and GET /finance/trial-balance."""
from __future__ import annotations

import pytest

from market.listings.validation import today
from market.orders import lifecycle
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import make_order, money_snapshot

TODAY = today().isoformat()


@pytest.fixture
def reference(generator, operator):
    order = make_order(generator.org, operator.org)  # ¥3 000
    return order, lifecycle.request_funding(generator, order.id)["reference"]


def post(client, user, **body):
    payload = {"reference": "", "amount_fen": 300_000, "received_on": TODAY,
               "payer_name": "深圳华芯", "bank_ref": "B1", **body}
    return client.post("/api/v1/finance/receipts", headers=bearer(user), json=payload)


def test_exact_under_over_and_unmatched(client, finance, reference, generator, operator):
    order, ref = reference
    resp = post(client, finance, reference=ref, amount_fen=100_000, bank_ref="B1")
    assert resp.status_code == 201
    assert resp.get_json() == {"status": "partial", "order_id": order.id, "applied_fen": 100_000,
                                    "suspense_fen": 0, "remaining_fen": 200_000,
                                    "receipt_id": resp.get_json()["receipt_id"]}
    resp = post(client, finance, reference=ref, amount_fen=250_000, bank_ref="B2")
    assert resp.get_json()["status"] == "excess" and resp.get_json()["suspense_fen"] == 50_000
    other = make_order(generator.org, operator.org)
    ref2 = lifecycle.request_funding(generator, other.id)["reference"]
    resp = post(client, finance, reference=ref2.lower(), amount_fen=300_000, bank_ref="B3")
    assert resp.get_json()["status"] == "funded" and resp.get_json()["order_id"] == other.id
    resp = post(client, finance, reference="货款", amount_fen=1_000, bank_ref="B4")
    assert resp.status_code == 201 and resp.get_json()["status"] == "unmatched"
    assert resp.get_json()["order_id"] is None


def test_wrong_check_digits_are_422_and_post_nothing(client, finance, reference):
    _order, ref = reference
    typo = ref[:-1] + str((int(ref[-1]) + 1) % 10)
    before = money_snapshot(_order)
    resp = post(client, finance, reference=typo)
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["code"] == "bad_check_digits" and err["field"] == "reference"
    assert money_snapshot(_order) == before


@pytest.mark.parametrize("amount", [0, -100, 1.5, "300000", None, True])
def test_bad_amounts_are_422(client, finance, reference, amount):
    order, ref = reference
    before = money_snapshot(order)
    resp = post(client, finance, reference=ref, amount_fen=amount)
    assert resp.status_code == 422 and error_of(resp)["field"] == "amount_fen"
    assert money_snapshot(order) == before


def test_the_same_bank_ref_is_booked_once_and_only_finance_books(client, finance, admin, generator,
                                                                 reference):
    order, ref = reference
    first = post(client, finance, reference=ref, bank_ref="SAME")
    booked = money_snapshot(order)
    again = post(client, finance, reference=ref, bank_ref="SAME")
    assert again.get_json()["receipt_id"] == first.get_json()["receipt_id"]
    clash = post(client, finance, reference=ref, bank_ref="SAME", amount_fen=1)
    assert clash.status_code == 409
    for user in (admin, generator):
        assert post(client, user, reference=ref, bank_ref="X").status_code == 403
    assert money_snapshot(order) == booked  # the replay, the clash and the refusals booked nothing


def test_trial_balance_totals_zero(client, finance, admin, generator, reference):
    _order, ref = reference
    post(client, finance, reference=ref, amount_fen=320_000, bank_ref="TB")
    resp = client.get("/api/v1/finance/trial-balance", headers=bearer(finance))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total_fen"] == 0
    by_code = {a["code"]: a["balance_fen"] for a in body["accounts"]}
    assert by_code["clearing:bank"] == 320_000 and by_code["suspense:bank"] == -20_000
    assert client.get("/api/v1/finance/trial-balance", headers=bearer(admin)).status_code == 200
    assert client.get("/api/v1/finance/trial-balance",
                      headers=bearer(generator)).status_code == 403

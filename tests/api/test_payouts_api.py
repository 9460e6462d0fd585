"""Payout API: the payee's bank account; finance's payout queue and batches (only finance builds,
admins read, everyone else is refused and nothing changes)."""
from __future__ import annotations

import csv
import io

import pytest
from flask import current_app
from sqlalchemy import func, select

from market import db, ledger
from market.settlement.payout_models import BankAccount, PayoutBatch
from tests.api.conftest import bearer, error_of
from tests.factories import UserFactory
from tests.payout_factories import owe, verified_account

OTHER_ROLES = ["generator", "operator", "carrier", "lab", "regulator"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_payee_puts_its_account_and_reads_it_masked(client, operator):
    url, auth = "/api/v1/bank-account", bearer(operator)
    assert client.get(url, headers=auth).get_json() == {"account": None}
    bad = client.put(url, headers=auth, json={"account_name": "某某环保", "bank_name": "中国银行",
                                              "account_number": "12-34"})
    assert bad.status_code == 422 and error_of(bad)["field"] == "account_number"
    assert count(BankAccount) == 0
    missing = client.put(url, headers=auth, json={"account_name": "某某环保",
                                                  "account_number": "62220200123456"})
    assert missing.status_code == 422 and error_of(missing)["field"] == "bank_name"
    ok = client.put(url, headers=auth, json={"account_name": "某某环保", "bank_name": "中国银行",
                                             "account_number": "6222 0200 1234 5678"})
    assert ok.status_code == 200
    assert ok.get_json()["account"]["account_number"] == "•••• 5678"
    assert ok.get_json()["account"]["status"] == "unverified"
    member = UserFactory(org=operator.org, is_org_admin=False)
    refused = client.put(url, headers=bearer(member), json={
        "account_name": "x", "bank_name": "y", "account_number": "62220200999999"})
    assert refused.status_code == 403
    assert client.get(url, headers=auth).get_json()["account"]["account_number"] == "•••• 5678"


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_payout_endpoints_refuse_every_other_role(client, role, request, operator):
    owe(operator.org_id, 200_000)
    auth = bearer(request.getfixturevalue(role))
    for method, url in (("GET", "/api/v1/finance/payout-queue"),
                        ("GET", "/api/v1/finance/payout-batches"),
                        ("POST", "/api/v1/finance/payout-batches"),
                        ("GET", "/api/v1/finance/payout-batches/1"),
                        ("GET", "/api/v1/finance/payout-batches/1/file"),
                        ("POST", "/api/v1/finance/payout-lines/1/returned")):
        resp = client.open(url, method=method, headers=auth, json={"reason": "x"})
        assert resp.status_code == 403, (role, url, resp.status_code)
    assert count(PayoutBatch) == 0 and ledger.balance(f"payable:{operator.org_id}") == 200_000


def test_finance_builds_reads_downloads_and_returns(client, finance, admin, operator, generator):
    current_app.config["PAYOUT_MINIMUM_FEN"] = 10_000
    owe(operator.org_id, 200_000)
    owe(generator.org_id, 300_000)   # no account on file
    verified_account(operator, admin)
    fin = bearer(finance)
    queue = client.get("/api/v1/finance/payout-queue", headers=fin).get_json()
    states = {o["org_id"]: o["state"] for o in queue["owed"]}
    assert states == {operator.org_id: "due", generator.org_id: "no_verified_account"}
    assert queue["due_fen"] == 200_000
    # admins read, only finance builds
    assert client.post("/api/v1/finance/payout-batches", headers=bearer(admin)).status_code == 403
    resp = client.post("/api/v1/finance/payout-batches",
                       headers={**fin, "Idempotency-Key": "b-1"})
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    assert [(ln["org_id"], ln["amount_fen"], ln["status"], ln["gateway"])
            for ln in batch["lines"]] == [(operator.org_id, 200_000, "sent", "bank")]
    replay = client.post("/api/v1/finance/payout-batches",
                         headers={**fin, "Idempotency-Key": "b-1"})
    assert replay.get_json()["id"] == batch["id"] and count(PayoutBatch) == 1
    nothing = client.post("/api/v1/finance/payout-batches",
                          headers={**fin, "Idempotency-Key": "b-2"})
    assert nothing.status_code == 409 and count(PayoutBatch) == 1
    listed = client.get("/api/v1/finance/payout-batches", headers=bearer(admin)).get_json()
    assert [b["id"] for b in listed["items"]] == [batch["id"]]
    assert client.get(f"/api/v1/finance/payout-batches/{batch['id']}",
                      headers=fin).get_json()["total_fen"] == 200_000
    assert client.get("/api/v1/finance/payout-batches/999999", headers=fin).status_code == 404
    file = client.get(f"/api/v1/finance/payout-batches/{batch['id']}/file", headers=fin)
    rows = list(csv.DictReader(io.StringIO(file.get_data(True))))
    assert [r["line_reference"] for r in rows] == [batch["lines"][0]["reference"]]

    line_url = f"/api/v1/finance/payout-lines/{batch['lines'][0]['id']}/returned"
    bad = client.post(line_url, headers=fin, json={})
    assert bad.status_code == 422 and error_of(bad)["field"] == "reason"
    assert ledger.balance(f"payable:{operator.org_id}") == 0
    ok = client.post(line_url, headers=fin, json={"reason": "账户已销户"})
    assert ok.status_code == 200 and ok.get_json()["lines"][0]["status"] == "returned"
    assert ledger.balance(f"payable:{operator.org_id}") == 200_000
    again = client.post(line_url, headers=fin, json={"reason": "again"})
    assert again.status_code == 409
    assert client.get("/api/v1/bank-account", headers=bearer(operator)).get_json()[
        "account"]["status"] == "returned"
    assert client.post("/api/v1/finance/payout-lines/999999/returned", headers=fin,
                       json={"reason": "x"}).status_code == 404

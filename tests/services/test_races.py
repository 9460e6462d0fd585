"""Real races over HTTP: threads lined up by a barrier, each with its own app context, session and
database connection, send the same money request at the same moment. These tests commit."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Receipt, WebhookEvent
from market.escrow.webhooks import process_event
from market.jobs.models import OutboxJob
from market.ledger.models import Entry
from market.listings.validation import today
from market.orders import lifecycle
from tests.api.conftest import bearer
from tests.escrow_factories import finance_user, make_order
from tests.services.test_escrow_concurrency import race

pytestmark = pytest.mark.committed
SECRET = "whsec_race_test"


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def post_from_a_thread(app, path: str, **kwargs):
    """A call for race(): its own test client, so its own request and session."""
    def call():
        resp = app.test_client().post(path, **kwargs)
        return resp.status_code, resp.get_json(), resp.headers.get("Idempotent-Replayed")
    return call


def test_the_same_idempotency_key_sent_twice_at_once_books_one_receipt(app, generator, operator):
    order = make_order(generator.org, operator.org)
    reference = lifecycle.request_funding(generator, order.id)["reference"]
    finance = finance_user()
    headers = {**bearer(finance), "Idempotency-Key": "race-1"}
    db.session.commit()
    body = {"reference": reference, "amount_fen": 300_000, "received_on": today().isoformat(),
            "payer_name": "深圳华芯", "bank_ref": "RACE-1"}
    entries, receipts = count(Entry), count(Receipt)
    results = race(app, [post_from_a_thread(app, "/api/v1/finance/receipts", json=body,
                                            headers=headers) for _ in range(2)])
    assert [status for status, _body, _replayed in results] == [201, 201], results
    assert results[0][1] == results[1][1]  # the loser answers with the winner's response
    assert sorted(str(replayed) for _s, _b, replayed in results) == ["None", "true"]
    assert count(Receipt) == receipts + 1
    assert count(Entry) == entries + 1
    assert ledger.balance(f"escrow:{order.number}") == 300_000


def _signed(payload: bytes) -> str:
    at = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


@pytest.fixture
def stripe_webhooks(app):
    saved = {k: app.config.get(k) for k in ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")}
    app.config.update(STRIPE_API_KEY="sk_test_race", STRIPE_WEBHOOK_SECRET=SECRET)
    yield
    app.config.update(saved)


def test_one_stripe_event_delivered_twice_at_once_is_stored_and_booked_once(app, stripe_webhooks):
    event = {"id": "evt_race_1", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_race_1", "amount_received": 12_345, "created": int(time.time()),
        "metadata": {"order_number": "unknown"}}}}
    payload = json.dumps(event).encode()
    entries, receipts = count(Entry), count(Receipt)
    results = race(app, [post_from_a_thread(app, "/webhooks/stripe", data=payload, headers={
        "Stripe-Signature": _signed(payload), "Content-Type": "application/json"})
        for _ in range(2)])
    assert [status for status, _b, _r in results] == [200, 200], results
    assert sorted(b["duplicate"] for _s, b, _r in results) == [False, True]
    assert count(WebhookEvent, WebhookEvent.event_id == "evt_race_1") == 1
    assert count(OutboxJob, OutboxJob.name == "market.escrow.webhooks.process_event") == 1
    # and the stored event processed by two workers at once books its money once
    row_id = db.session.scalar(select(WebhookEvent.id).where(WebhookEvent.event_id == "evt_race_1"))
    outcomes = race(app, [lambda: process_event(row_id) for _ in range(2)])
    assert sorted(outcomes) == ["alerted", "skipped"], outcomes  # not ours: kept in suspense
    assert count(Receipt) == receipts + 1
    assert count(Entry) == entries + 1
    assert ledger.balance("clearing:stripe") == 12_345

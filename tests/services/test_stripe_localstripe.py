"""Stripe end to end against localstripe: PaymentIntent, signed webhooks, refunds.

localstripe runs as a subprocess on a free loopback port, in its own temporary directory (its
pickle file is redirected there, see LAUNCHER). The application itself is served on another free
port by a werkzeug thread, so localstripe delivers its signed webhooks over real HTTP; the
stored events are then processed by an rq worker draining the `money` queue. These tests commit.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
import stripe
from rq import Queue, SimpleWorker
from sqlalchemy import func, select
from werkzeug.serving import make_server

from market import db, ledger
from market.escrow.models import Payment, Payout, WebhookEvent
from market.jobs.core import redis_connection
from market.jobs.models import OutboxJob
from market.ledger.models import Entry
from market.notifications.models import Notification
from market.orders.lifecycle import cancel_order
from tests.api.conftest import bearer
from tests.escrow_factories import finance_user, make_order

pytestmark = pytest.mark.committed
SECRET = "whsec_hazex_test"
API_KEY = "sk_test_hazex"
# localstripe always pickles its store to /tmp/localstripe.pickle: point it at the working
# directory instead, so parallel runs never share (or load) each other's data.
LAUNCHER = """
import os, pickle, sys
import localstripe.resources as r
path = os.path.join(os.getcwd(), "localstripe.pickle")
def dump(self):
    with open(path, "wb") as f:
        pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
r.Store.dump_to_disk = dump
r.Store.try_load_from_disk = lambda self: None
from localstripe.server import start
sys.argv = ["localstripe", "--port", sys.argv[1], "--from-scratch"]
start()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("localstripe")
    port = free_port()
    log = open(workdir / "localstripe.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(port)], cwd=workdir,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/v1/balance", auth=(API_KEY, ""), timeout=1).ok
        except requests.RequestException:
            return proc.poll() is not None  # stop waiting if it died
    wait_until(up, what="localstripe to start")
    assert proc.poll() is None, (workdir / "localstripe.log").read_text()
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture
def stripe_app(app, localstripe):
    """The app configured for Stripe and served on a loopback port; localstripe posts to it."""
    saved = {k: app.config.get(k) for k in ("PAYMENT_GATEWAY", "STRIPE_API_KEY",
                                            "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE")}
    app.config.update(PAYMENT_GATEWAY="stripe", STRIPE_API_KEY=API_KEY,
                      STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_API_BASE=localstripe)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks/stripe"
    requests.post(f"{localstripe}/_config/webhooks/hazex", data={"url": url, "secret": SECRET},
                  timeout=5).raise_for_status()
    yield url
    server.shutdown()
    app.config.update(saved)


def sdk(localstripe) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})


def pay_by_card(localstripe, payment_intent_id: str) -> None:
    """What Stripe.js does in the payer's browser: attach a card and confirm."""
    c = sdk(localstripe)
    pm = c.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    c.v1.payment_intents.update(payment_intent_id, params={"payment_method": pm.id})
    c.v1.payment_intents.confirm(payment_intent_id)


def sign(payload: bytes, secret: str = SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def drain_money_queue() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("money", connection=conn)], connection=conn).work(burst=True)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fund_by_card(stripe_app, localstripe, order, generator, http):
    resp = http.post(f"/api/v1/orders/{order.id}/funding", headers=bearer(generator))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["gateway"] == "stripe" and body["client_secret"].startswith(body["payment_id"])
    assert body["amount_fen"] == order.total_fen
    pay_by_card(localstripe, body["payment_id"])
    event = wait_until(lambda: db.session.scalar(select(WebhookEvent).where(
        WebhookEvent.type == "payment_intent.succeeded")), what="the webhook from localstripe")
    db.session.commit()
    return body["payment_id"], event


def test_card_payment_confirmed_by_signed_webhook_then_refunded(stripe_app, localstripe, client,
                                                                 generator, operator, admin):
    order = make_order(generator.org, operator.org)  # ¥3 000
    pi_id, event = fund_by_card(stripe_app, localstripe, order, generator, client)
    assert event.status == "received"  # stored first, processed by the job
    assert count(OutboxJob, OutboxJob.queue == "money") >= 1
    drain_money_queue()
    db.session.expire_all()
    db.session.refresh(order)
    assert order.status == "funded"
    assert ledger.balance(f"escrow:{order.number}") == 300_000
    assert ledger.balance("clearing:stripe") == 300_000
    assert db.session.scalar(select(Payment.status).where(Payment.external_id == pi_id)) == \
        "succeeded"

    # The same event delivered again: stored once, nothing posted.
    entries = count(Entry)
    payload = json.dumps(event.payload).encode()
    again = requests.post(stripe_app, data=payload, headers={"Stripe-Signature": sign(payload)},
                          timeout=5)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # A different event about the same payment posts nothing either (the receipt's key).
    other = json.dumps({**event.payload, "id": "evt_other_delivery"}).encode()
    assert requests.post(stripe_app, data=other, headers={"Stripe-Signature": sign(other)},
                         timeout=5).json()["duplicate"] is False
    drain_money_queue()
    db.session.expire_all()
    assert count(Entry) == entries
    assert ledger.balance(f"escrow:{order.number}") == 300_000

    # Cancelling the funded order refunds the card through the Refunds API.
    cancel_order(admin, order.id, "双方同意取消")
    drain_money_queue()
    db.session.expire_all()
    payout = db.session.scalar(select(Payout).where(Payout.order_id == order.id))
    assert (payout.method, payout.status, payout.amount_fen) == ("stripe_refund", "executed",
                                                                 300_000)
    refunds = sdk(localstripe).v1.refunds.list(params={"payment_intent": pi_id})
    assert [(r.id, r.amount) for r in refunds.data] == [(payout.external_id, 300_000)]
    assert ledger.balance(f"payable:{generator.org_id}") == 0
    assert ledger.balance("clearing:stripe") == 0
    assert ledger.trial_balance().total == 0


def test_forged_or_stale_signatures_are_refused_with_no_side_effect(stripe_app):
    payload = json.dumps({"id": "evt_forged", "type": "payment_intent.succeeded", "created": 1,
                          "data": {"object": {"id": "pi_x", "amount": 999}}}).encode()
    before = (count(WebhookEvent), count(OutboxJob), count(Entry))
    cases = {"forged": sign(payload, secret="whsec_wrong"),
             "stale": sign(payload, at=int(time.time()) - 301),
             "tampered": sign(payload.replace(b"999", b"998")),
             "missing": None}
    for name, header in cases.items():
        headers = {"Stripe-Signature": header} if header else {}
        resp = requests.post(stripe_app, data=payload, headers=headers, timeout=5)
        assert resp.status_code == 400, name
        assert resp.json()["error"]["code"] == "bad_signature"
    assert (count(WebhookEvent), count(OutboxJob), count(Entry)) == before
    # the same bytes, correctly signed and fresh, are accepted
    ok = requests.post(stripe_app, data=payload, headers={"Stripe-Signature": sign(payload)},
                       timeout=5)
    assert ok.status_code == 200


def test_refunds_and_chargebacks_seen_at_stripe_alert_finance(stripe_app):
    finance = finance_user()
    for kind, obj in (("charge.refunded", {"id": "ch_1", "amount_refunded": 5_000,
                                           "refunds": {"data": [{"id": "re_unknown"}]}}),
                      ("charge.dispute.created", {"id": "dp_1", "charge": "ch_1",
                                                  "amount": 7_000})):
        payload = json.dumps({"id": f"evt_{kind}", "type": kind, "created": int(time.time()),
                              "data": {"object": obj}}).encode()
        resp = requests.post(stripe_app, data=payload,
                             headers={"Stripe-Signature": sign(payload)}, timeout=5)
        assert resp.status_code == 200
    drain_money_queue()
    db.session.expire_all()
    statuses = dict(db.session.execute(select(WebhookEvent.type, WebhookEvent.status)).all())
    assert statuses == {"charge.refunded": "alerted", "charge.dispute.created": "alerted"}
    assert count(Notification, Notification.user_id == finance.id,
                 Notification.kind == "escrow.gateway_alert") == 2
    assert count(Entry) == 0  # recorded, never booked blindly

"""Payouts to operators as Stripe Connect transfers, against a tiny local fake of POST /v1/transfers
(localstripe has no Connect) that checks the shape of what the official SDK sends."""
from __future__ import annotations

import json
import socket
import threading

import pytest
from rq import Queue, SimpleWorker
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from market import ledger
from market.escrow import payouts, services
from market.escrow.gateways import GatewayError
from market.escrow.models import Payout
from market.jobs.core import redis_connection
from market.uow import transaction
from tests.escrow_factories import make_order, pay_in_full, set_status

API_KEY = "sk_test_connect"


class FakeConnect:
    """Answers POST /v1/transfers like Stripe, after checking the request; remembers each one."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = False

    def __call__(self, environ, start_response):
        req = Request(environ)
        form = {k: v for k, v in req.form.items()}
        self.requests.append({"path": req.path, "method": req.method, "form": form,
                              "auth": req.headers.get("Authorization"),
                              "key": req.headers.get("Idempotency-Key")})
        problems = []
        if (req.method, req.path) != ("POST", "/v1/transfers"):
            problems.append("wrong endpoint")
        if req.headers.get("Authorization") != f"Bearer {API_KEY}":
            problems.append("no bearer key")
        if not req.headers.get("Idempotency-Key"):
            problems.append("no idempotency key")
        if not form.get("amount", "").isdigit() or form.get("currency") != "cny":
            problems.append("amount must be integer fen in cny")
        if not form.get("destination", "").startswith("acct_"):
            problems.append("destination must be a connected account")
        if not form.get("transfer_group"):
            problems.append("transfer_group missing")
        if problems or self.fail_next:
            self.fail_next = False
            body = {"error": {"type": "invalid_request_error",
                              "message": "; ".join(problems) or "try again"}}
            return Response(json.dumps(body), 400, mimetype="application/json")(
                environ, start_response)
        body = {"id": f"tr_{len(self.requests):06d}", "object": "transfer",
                "amount": int(form["amount"]), "currency": form["currency"],
                "destination": form["destination"], "transfer_group": form["transfer_group"],
                "metadata": {}}
        return Response(json.dumps(body), 200, mimetype="application/json")(environ, start_response)


@pytest.fixture
def connect(app):
    fake = FakeConnect()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, fake, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = {k: app.config.get(k) for k in ("STRIPE_API_KEY", "STRIPE_API_BASE")}
    app.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=f"http://127.0.0.1:{port}")
    yield fake
    server.shutdown()
    app.config.update(saved)


def drain() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("money", connection=conn)], connection=conn).work(burst=True)


@pytest.fixture
def released(generator, operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    services.release(finance, order.id, order.line("disposal").id, 300_000, key="rel")
    return order  # payable:operator = 297 000


@pytest.mark.committed
def test_a_payout_to_an_operator_is_one_connect_transfer_grouped_by_order(connect, released,
                                                                          operator):
    payouts.set_payout_account(operator.org_id, "stripe", "acct_1HazexOperator")
    with transaction():
        payout = payouts.queue_transfer(operator.org_id, 297_000, released, key="payout:op:1")
        # queuing the same payout again is the same payout
        assert payouts.queue_transfer(operator.org_id, 297_000, released,
                                      key="payout:op:1").id == payout.id
    drain()
    assert len(connect.requests) == 1
    sent = connect.requests[0]
    assert sent["form"]["amount"] == "297000" and sent["form"]["currency"] == "cny"
    assert sent["form"]["destination"] == "acct_1HazexOperator"
    assert sent["form"]["transfer_group"] == released.number
    assert sent["key"] == f"payout:{payout.id}"
    from market import db
    db.session.expire_all()
    done = db.session.get(Payout, payout.id)
    assert (done.status, done.external_id) == ("executed", "tr_000001")
    assert ledger.balance(f"payable:{operator.org_id}") == 0
    # funded by bank, paid out by Stripe: each clearing account moved by its own side
    assert ledger.balance("clearing:bank") == 300_000
    assert ledger.balance("clearing:stripe") == -297_000
    # running the job again does nothing
    assert payouts.execute_payout(payout.id) == "skipped"
    assert len(connect.requests) == 1


def test_a_refused_transfer_books_nothing(connect, released, operator):
    payouts.set_payout_account(operator.org_id, "stripe", "acct_1HazexOperator")
    with transaction():
        payout = payouts.queue_transfer(operator.org_id, 100_000, released, key="payout:op:2")
    connect.fail_next = True
    with pytest.raises(GatewayError):
        payouts.execute_payout(payout.id)
    assert ledger.balance(f"payable:{operator.org_id}") == 297_000
    assert payouts.execute_payout(payout.id) == "executed"  # the retry goes through, once
    assert ledger.balance(f"payable:{operator.org_id}") == 197_000
    assert [r["key"] for r in connect.requests] == [f"payout:{payout.id}"] * 2


def test_more_than_payable_is_refused_before_any_money_moves(connect, released, operator):
    payouts.set_payout_account(operator.org_id, "stripe", "acct_1HazexOperator")
    with transaction():
        payout = payouts.queue_transfer(operator.org_id, 297_001, released, key="payout:op:3")
    with pytest.raises(ledger.InsufficientFunds):
        payouts.execute_payout(payout.id)
    assert connect.requests == []


def test_no_connect_account_no_transfer(connect, released, operator):
    from market.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        with transaction():
            payouts.queue_transfer(operator.org_id, 1, released, key="payout:op:4")

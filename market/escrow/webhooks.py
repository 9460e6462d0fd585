"""Stripe webhooks: verify, store once by event id, then process in a `money` job.

The HTTP handler only verifies and stores: a forged or stale request is refused before anything
is written, a repeated delivery of one event finds its row and enqueues nothing. Processing is
idempotent twice over: the job skips an event already processed, and the booking it makes uses
the PaymentIntent's id as the receipt's key, so two different events for one payment post once.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.accounts.models import Organisation
from market.audit.services import record
from market.db import utcnow
from market.escrow import book
from market.notifications.messages import as_money, message, verbatim
from market.escrow.alerts import alert_finance
from market.escrow.funding import book_receipt
from market.escrow.gateways import get_gateway
from market.escrow.models import Payment, Payout, WebhookEvent
from market.jobs import enqueue_after_commit, job
from market.orders import lifecycle
from market.uow import transaction

ALERT_TYPES = ("charge.refunded", "charge.dispute.created")


def receive_stripe(payload: bytes, signature: str | None) -> tuple[str, bool]:
    """Verify and store one delivery; (event id, True if new). Raises InvalidSignature."""
    event = get_gateway("stripe").verify_event(payload, signature)
    with transaction() as s:
        row_id = s.scalar(insert(WebhookEvent).values(
            gateway="stripe", event_id=event["id"][:100], type=event["type"][:100], payload=event,
            status="received").on_conflict_do_nothing(index_elements=["event_id"])
            .returning(WebhookEvent.id))
        if row_id is not None:
            enqueue_after_commit(process_event, row_id)
    return event["id"], row_id is not None


@job(queue="money")
def process_event(event_row_id: int) -> str:
    """Act on one stored event exactly once."""
    with transaction():
        row = db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_row_id)
                                .with_for_update())
        if row is None or row.status != "received":
            return "skipped"
        obj = (row.payload.get("data") or {}).get("object") or {}
        if row.type == "payment_intent.succeeded":
            row.status, row.note = _payment_succeeded(obj)
        elif row.type in ALERT_TYPES:
            row.status, row.note = "alerted", _alert(row.type, obj)
        else:
            row.status = "ignored"
        row.processed_at = utcnow()
        return row.status


def _payment_succeeded(intent: dict) -> tuple[str, str | None]:
    pi_id = str(intent.get("id", ""))
    amount = intent.get("amount_received") or intent.get("amount")
    payment = db.session.scalar(select(Payment).where(Payment.external_id == pi_id))
    if type(amount) is not int or amount <= 0:
        note = f"payment {pi_id} without a usable amount"
        alert_finance("escrow.gateway_alert", message("A card payment event could not be booked."),
                      verbatim(note))
        return "alerted", note
    received_on = datetime.fromtimestamp(intent.get("created") or utcnow().timestamp(),
                                         timezone.utc).date()
    if payment is None:
        # Not one we started: keep the money in suspense for finance to match or return.
        number = str((intent.get("metadata") or {}).get("order_number", ""))[:60]
        receipt, _replayed = book_receipt(gateway="stripe", reference=number or pi_id, req=None,
                                          amount_fen=amount, received_on=received_on,
                                          payer_name="card payment", bank_ref=pi_id)
        alert_finance("escrow.suspense", message("An unknown card payment of %(amount)s is in "
                                                 "suspense.", amount=as_money(amount)), verbatim(pi_id))
        return "alerted", f"unknown payment {pi_id}: receipt {receipt.id} in suspense"
    req = payment.funding_request
    order = book.lock_order(req.order_id)
    payer = db.session.get(Organisation, req.payer_org_id)
    receipt, _replayed = book_receipt(gateway="stripe", reference=req.reference, req=req,
                                      amount_fen=amount, received_on=received_on,
                                      payer_name=payer.name[:200], bank_ref=pi_id)
    payment.status, payment.succeeded_at = "succeeded", payment.succeeded_at or utcnow()
    lifecycle.funded_if_paid(order)
    if receipt.suspense_fen:
        alert_finance("escrow.suspense", message("%(amount)s of a card payment went to suspense.",
                                                 amount=as_money(receipt.suspense_fen)), verbatim(req.reference))
    return "processed", f"receipt {receipt.id}: {receipt.status}"


def _alert(kind: str, obj: dict) -> str:
    """Record a refund or chargeback seen at Stripe and tell finance; the note says what we know."""
    charge_id = str(obj.get("id") if kind == "charge.refunded" else obj.get("charge", ""))
    amount = obj.get("amount_refunded") if kind == "charge.refunded" else obj.get("amount")
    amount = amount if type(amount) is int else None
    ours = []
    if kind == "charge.refunded":
        refund_ids = [r.get("id") for r in ((obj.get("refunds") or {}).get("data") or [])
                      if isinstance(r, dict)]
        ours = list(db.session.scalars(select(Payout.id).where(Payout.external_id.in_(refund_ids))))
    note = (f"{kind} on {charge_id}: {amount} fen"
            + (f"; our payouts {ours}" if ours else "; not started by the platform"))
    record("escrow.gateway_alert", object_type="escrow_webhook_event", object_id=charge_id,
           changes={"type": kind, "amount_fen": amount, "our_payouts": ours})
    title = (message("Stripe reports a refund of %(amount)s.", amount=as_money(amount))
             if kind == "charge.refunded"
             else message("A card payment of %(amount)s is disputed at the card issuer.",
                          amount=as_money(amount)))
    alert_finance("escrow.gateway_alert", title, verbatim(note))
    return note

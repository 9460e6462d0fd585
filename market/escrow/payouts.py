"""Money leaving the platform: card refunds (Refunds API) and Connect transfers, run as jobs.

A payout is queued in the use case's transaction and executed by a `money` job: the job posts
Dr payable / Cr clearing (refused if the payable cannot cover it), calls the gateway with the
payout's own idempotency key, and commits both together. A retried job after a lost commit calls
the PSP again with the same key, which replays instead of paying twice. Bank payouts leave in the
payout batch file (market.settlement.batches) and are not queued here.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db, ledger
from market.audit.services import record
from market.db import utcnow
from market.errors import ValidationFailed
from market.escrow.book import payable_account
from market.escrow.gateways import get_gateway
from market.escrow.models import FundingRequest, Payment, Payout, PayoutAccount
from market.jobs import enqueue_after_commit, job
from market.orders.models import Order
from market.uow import transaction


def _refunded_by_payment(payment_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Payout.amount_fen), 0)).where(
        Payout.payment_id == payment_id, Payout.method == "stripe_refund")))


def queue_card_refunds(order: Order, payer_org_id: int, amount_fen: int, key: str) -> list[Payout]:
    """Queue Refunds-API payouts against the payer's card payments for this order, oldest first.

    Whatever the cards cannot take back (money that came by bank) stays in payable for the batch.
    """
    payments = db.session.scalars(
        select(Payment).join(FundingRequest, FundingRequest.id == Payment.funding_request_id)
        .where(FundingRequest.order_id == order.id, FundingRequest.payer_org_id == payer_org_id,
               Payment.status == "succeeded").order_by(Payment.id))
    queued, left = [], amount_fen
    for payment in payments:
        room = payment.amount_fen - _refunded_by_payment(payment.id)
        part = min(room, left)
        if part <= 0:
            continue
        payout = Payout(key=f"{key}:card:{payment.id}", org_id=payer_org_id,
                        gateway=payment.gateway, method="stripe_refund", amount_fen=part,
                        order_id=order.id, payment_id=payment.id)
        db.session.add(payout)
        db.session.flush()
        enqueue_after_commit(execute_payout, payout.id)
        queued.append(payout)
        left -= part
    return queued


def set_payout_account(org_id: int, gateway: str, external_id: str) -> PayoutAccount:
    """Record where an organisation is paid at a gateway (e.g. its Connect account acct_…)."""
    with transaction():
        account = db.session.scalar(select(PayoutAccount).where(
            PayoutAccount.org_id == org_id, PayoutAccount.gateway == gateway))
        if account is None:
            account = PayoutAccount(org_id=org_id, gateway=gateway, external_id=external_id)
            db.session.add(account)
        account.external_id = external_id
        record("escrow.payout_account_set", account, changes={"org_id": org_id,
                                                              "gateway": gateway})
        return account


def queue_transfer(org_id: int, amount_fen: int, order: Order | None, key: str,
                   gateway: str = "stripe") -> Payout:
    """Queue a Connect transfer of a payee's payable money for an order (settlement calls it),
    or, without an order, for a payout batch line (market.settlement.batches)."""
    existing = db.session.scalar(select(Payout).where(Payout.key == key))
    if existing is not None:
        return existing
    if db.session.scalar(select(PayoutAccount).where(PayoutAccount.org_id == org_id,
                                                     PayoutAccount.gateway == gateway)) is None:
        raise ValidationFailed(_("This organisation has no payout account at %(gateway)s.",
                                 gateway=gateway), field="org_id")
    payout = Payout(key=key, org_id=org_id, gateway=gateway, method="stripe_transfer",
                    amount_fen=amount_fen, order_id=order.id if order else None)
    db.session.add(payout)
    db.session.flush()
    enqueue_after_commit(execute_payout, payout.id)
    return payout


@job(queue="money", retries=5, intervals=(10, 60, 300, 900, 3600))
def execute_payout(payout_id: int) -> str:
    """Pay one queued payout through its gateway and book it; a no-op once executed."""
    with transaction():
        payout = db.session.scalar(select(Payout).where(Payout.id == payout_id).with_for_update())
        if payout is None or payout.status != "pending":
            return "skipped"
        # Posted before the call: an overdrawn payable refuses here, before any money moves.
        entry = ledger.post([(payable_account(payout.org_id), payout.amount_fen),
                             (f"clearing:{payout.gateway}", -payout.amount_fen)],
                            f"payout:{payout.id}", f"{payout.method} payout {payout.id}")
        gateway = get_gateway(payout.gateway)
        order = db.session.get(Order, payout.order_id) if payout.order_id else None
        metadata = {"payout_id": str(payout.id), "order_number": order.number if order else ""}
        if payout.method == "stripe_refund":
            payment = db.session.get(Payment, payout.payment_id)
            payout.external_id = gateway.refund(
                payment_external_id=payment.external_id, amount_fen=payout.amount_fen,
                idempotency_key=f"payout:{payout.id}", metadata=metadata)
        else:
            destination = db.session.scalar(select(PayoutAccount.external_id).where(
                PayoutAccount.org_id == payout.org_id, PayoutAccount.gateway == payout.gateway))
            payout.external_id = gateway.transfer(
                amount_fen=payout.amount_fen, destination=destination,
                transfer_group=order.number if order else f"payout-{payout.id}",
                idempotency_key=f"payout:{payout.id}", metadata=metadata)
        payout.status, payout.executed_at = "executed", utcnow()
        record("escrow.payout_executed", payout, changes={
            "method": payout.method, "amount_fen": payout.amount_fen, "org_id": payout.org_id,
            "external_id": payout.external_id, "entry_id": entry.id})
        return payout.status

"""The settlement steps of an order's life: received ─► settled ─► closed.

    received ─► settled   once every manifest is received and no discrepancy holds it (the last
                          receipt, the last discrepancy confirmed or resolved, a top-up paid)
    settled  ─► closed    once its escrow is empty and every line and refund is paid out

Each function is one use case (the settlement context's own transactions nest inside). Views,
the API and jobs call these; market.orders.lifecycle calls settle_if_ready after its transfer
steps and after a top-up is paid.
"""
from __future__ import annotations

from market.accounts.models import User
from market.audit.services import record
from market.escrow import book
from market.escrow import services as escrow
from market.escrow.models import Payout
from market.manifests import services as manifests
from market.orders import services as orders
from market.orders.models import Order
from market.settlement import batches, payouts, queries
from market.settlement.payout_models import PayoutBatch
from market.settlement import services as settlement
from market.settlement.models import Settlement
from market.uow import transaction


def settle_if_ready(order: Order, actor: User | None = None) -> Settlement | None:
    """Settle the (locked) order in the caller's transaction when nothing holds it any more."""
    if not queries.ready_to_settle(order):
        return None
    return settle_order(order.id, actor)


def settle_order(order_id: int, actor: User | None = None) -> Settlement:
    """Settle a received order, or ask for its top-up (a job; idempotent); once settled, its
    received manifests close."""
    with transaction():
        row = settlement.settle(order_id, actor)
        if row.status == "settled":
            manifests.close_received(order_id, actor)
        return row


def upload_certificate(actor: User, order_id: int, stream, original_name: str) -> Settlement:
    """The operator's disposal certificate; the retention is released, the order may close."""
    with transaction():
        row = settlement.upload_certificate(actor, order_id, stream, original_name)
        close_if_paid_out(order_id)
        return row


def record_bank_payout(actor: User, org_id, amount_fen, bank_ref) -> Payout:
    """Finance records a bank payout of an organisation's payable; paid-out orders close."""
    payouts.check_payout(actor, org_id, amount_fen, bank_ref)
    with transaction():
        # The orders first, in id order, then the payable (the ledger locks it): the order a
        # settlement takes its locks in, so the two never wait on each other in a cycle.
        candidates = [book.lock_order(oid) for oid in queries.closable_orders(org_id)]
        payout = payouts.record_bank_payout(actor, org_id, amount_fen, bank_ref)
        for order in candidates:
            close_if_paid_out(order.id)
        return payout


def build_payout_batch(actor: User, key: object) -> PayoutBatch:
    """Finance builds and sends a payout batch; orders whose money is all paid out close."""
    batches.require_finance(actor)
    with transaction():
        # The orders first, in id order, then the payables (as record_bank_payout does).
        lines, _skipped = batches.plan()
        ids = sorted({oid for org_id, *_rest in lines for oid in queries.closable_orders(org_id)})
        candidates = [book.lock_order(oid) for oid in ids]
        batch = batches.build_batch(actor, key)
        for order in candidates:
            close_if_paid_out(order.id)
        return batch


def close_if_paid_out(order_id: int) -> bool:
    """settled (or resolved) ─► closed once the escrow is empty and every release and refund
    of the order is paid out (first in, first out per organisation). True when it closed."""
    with transaction():
        order = book.lock_order(order_id)
        if order.status not in ("settled", "resolved") or not queries.paid_out(order):
            return False
        escrow.require_empty(None, order)
        frm = order.status
        orders.transition(order, "closed", "system")
        record("order.closed", order, changes={"from": frm, "reason": "paid out"})
        return True

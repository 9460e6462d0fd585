"""Settlement use cases: settle a received order, release the retention on the disposal certificate.

settle() runs in one transaction under the order's row lock: a second run (a retried job, a job
and a page at once) waits for the first, then finds the order settled and returns its settlement.
Every movement it posts has a key per order and line (settle:<order>:release:<line>,
settle:<order>:refund:<payer>), so even a run without the lock could not post twice. When the
escrow falls short of the settled lines, the payer is asked for a top-up and nothing is released;
the top-up's confirmation runs settle() again (market.settlement.jobs.settle_order).
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from market import db
from market.accounts.models import User
from market.accounts.uploads import scan_path, store_scan
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, PermissionDenied
from market.escrow import book, funding
from market.escrow.services import post_refund, post_release
from market.jobs import enqueue_after_commit
from market.listings import capacity
from market.notifications.messages import as_kg, as_money, message
from market.notifications.services import notify_org
from market.orders.models import Order
from market.orders.services import order_for_party, transition
from market.oversight.jobs import recompute_credit
from market.settlement import queries
from market.settlement.errors import CertificateAlreadyUploaded, NotReadyToSettle
from market.settlement.checks import check_settlement
from market.settlement.models import Settlement, SettlementLine
from market.settlement.policies import (SettlementPlan, plan_retention, plan_settlement, 
                                        settled_amount_fen, settled_terms)
from market.uow import transaction


def settle(order_id: int, actor: User | None = None) -> Settlement:
    """Settle a received order (or ask for its top-up); idempotent, safe to run in parallel."""
    with transaction():
        order = book.lock_order(order_id)
        row = queries.settlement_of(order.id, lock=True)
        if row is not None and row.status == "settled":
            return row
        if not queries.ready_to_settle(order):
            raise NotReadyToSettle(_(
                "Order %(number)s settles once every manifest is received and no discrepancy is "
                "open.", number=order.number))
        accepted = queries.accepted_kg(order.id)
        plan, disposal_fen = _plan(order, accepted)
        row = _record(order, row, plan, accepted, disposal_fen)
        if not plan.ready:
            for payer_id, fen in plan.topups.items():
                funding.ask_topup(order, payer_id, fen, actor)
            record("settlement.topup_due", row, actor=actor, changes={
                "order": order.number, "accepted_kg": accepted,
                "topups": {str(k): v for k, v in plan.topups.items()}})
            return row
        for lp in plan.lines:
            if lp.release is not None:
                post_release(order, lp.release, f"settle:{order.number}:release:{lp.terms.line_id}",
                             actor)
        for payer_id, fen in plan.refunds.items():
            post_refund(order, payer_id, fen, f"settle:{order.number}:refund:{payer_id}", actor)
        row.status, row.settled_at = "settled", utcnow()
        transition(order, "settled", "system")
        reservation = capacity.true_up(order.id, accepted)
        record("settlement.settled", row, actor=actor, changes={
            "order": order.number, "accepted_kg": accepted, "disposal_fen": disposal_fen,
            "fee_fen": row.fee_fen, "refunded_fen": row.refunded_fen,
            "retained_fen": row.retained_fen})
        if reservation is not None:
            record("capacity.trued_up", reservation, actor=actor, changes={
                "order": order.number, "kg": accepted})
        for org_id in (order.generator_id, order.operator_id):
            notify_org(org_id, "settlement.settled",
                       message("Order %(number)s is settled on %(kg)s kg accepted.",
                               number=order.number, kg=as_kg(accepted)), link=f"/orders/{order.id}")
            # pickups, discrepancies and payment times of the order now count for credit
            enqueue_after_commit(recompute_credit, org_id)
        # An independent check of the amount, after commit (DESIGN.md §8).
        enqueue_after_commit(check_settlement, order.id)
        return row


def _plan(order: Order, accepted: int) -> tuple[SettlementPlan, int]:
    """The plan for the order at the accepted kg, and the disposal line's settled (signed) fen."""
    contract = book.terms_for(order)
    state = book.escrow_state(order.id)
    settled, disposal_fen = [], 0
    for t, line in zip(contract, order.lines):
        amount = settled_amount_fen(line.kind, line.amount_fen, line.unit_price_fen_per_t, accepted,
                                    line.minimum_fen)
        if line.kind == "disposal":
            disposal_fen = amount
        settled.append(settled_terms(t, abs(amount)))
    try:
        plan = plan_settlement(settled, state.released_value, state.held(contract),
                               current_app.config["SETTLEMENT_RETENTION_BPS"])
    except ValueError as exc:
        # Staff released more of a line by hand than it settles at: an admin must split it.
        raise NotReadyToSettle(_("Order %(number)s cannot settle by itself: more was released "
                                 "than it settles at. Open a dispute for an administrator to "
                                 "split it.", number=order.number),
                               code="released_beyond_settlement") from exc
    return plan, disposal_fen


def _record(order: Order, row: Settlement | None, plan: SettlementPlan, accepted: int,
            disposal_fen: int) -> Settlement:
    """Write (or rewrite, while a top-up is due) the settlement row and its lines."""
    if row is None:
        row = Settlement(order_id=order.id)
        db.session.add(row)
    row.status = "topup_due"  # settle() marks it settled once everything is posted
    row.accepted_kg, row.disposal_fen = accepted, disposal_fen
    row.fee_fen = sum(lp.fee_fen for lp in plan.lines)
    row.refunded_fen = sum(plan.refunds.values())
    row.topup_fen = sum(plan.topups.values())
    row.retained_fen = sum(lp.retained_value for lp in plan.lines)
    existing = {sl.line_id: sl for sl in row.lines}
    for lp in plan.lines:
        t = lp.terms
        sl = existing.get(t.line_id)
        if sl is None:
            sl = SettlementLine(line_id=t.line_id)
            row.lines.append(sl)
        sl.kind, sl.payer_org_id, sl.payee_org_id = t.kind, t.payer_org_id, t.payee_org_id
        sl.value_fen, sl.fee_fen, sl.retained_fen = t.value_fen, t.fee_fen, lp.retained_value
    db.session.flush()
    return row


def upload_certificate(actor: User, order_id: int, stream, original_name: str) -> Settlement:
    """The operator uploads the disposal certificate (处置证明); any retention is released.

    The file is stored only once every check has passed, and removed again if the use case
    fails afterwards: a refused upload leaves nothing on disk.
    """
    stored: list[str] = []
    try:
        with transaction():
            order, role = order_for_party(actor, order_id, lock=True)
            if role != "operator":
                raise PermissionDenied(_("Only the operator uploads the disposal certificate."))
            row = queries.settlement_of(order.id, lock=True)
            if row is None or row.status != "settled" or order.status not in ("settled", "closed"):
                raise InvalidState(_("The disposal certificate is uploaded once the order is "
                                     "settled."), code="not_settled")
            if row.certificate_file is not None:
                raise CertificateAlreadyUploaded(_("The disposal certificate of order %(number)s "
                                                   "is already uploaded.", number=order.number))
            name, mime = store_scan(stream, field="certificate")
            stored.append(name)
            row.certificate_file, row.certificate_mime = name, mime
            row.certificate_name = (original_name or name)[:200]
            row.certificate_by_id, row.certificate_at = actor.id, utcnow()
            released = _release_retention(order, row, actor)
            record("settlement.certificate_uploaded", row, actor=actor, changes={
                "order": order.number, "file": name, "retention_released_fen": released})
            notify_org(order.generator_id, "settlement.certificate_uploaded",
                       message("The operator uploaded the disposal certificate of order %(number)s.",
                               number=order.number), link=f"/orders/{order.id}")
            return row
    except BaseException:
        for name in stored:
            Path(scan_path(name)).unlink(missing_ok=True)
        raise


def _release_retention(order: Order, row: Settlement, actor: User | None) -> int:
    """Release every retained part of the order's lines (order locked); the value released."""
    if row.retained_fen == 0 or row.retention_released_at is not None:
        return 0
    state = book.escrow_state(order.id)
    contract = {t.line_id: t for t in book.terms_for(order)}
    total = 0
    for sl in row.lines:
        if not sl.retained_fen:
            continue
        terms = settled_terms(contract[sl.line_id], sl.value_fen)
        r = plan_retention(terms, state.released_value.get(sl.line_id, 0))
        if r is not None:
            post_release(order, r, f"settle:{order.number}:retention:{sl.line_id}", actor)
            total += r.value_fen
    row.retention_released_at = utcnow()
    notify_org(order.operator_id, "settlement.retention_released",
               message("The retention of %(amount)s on order %(number)s is released to you.",
                       amount=as_money(total), number=order.number), link=f"/orders/{order.id}")
    return total

"""Money out of escrow: releases of lines to their payees, refunds to payers; the empty-escrow
check before market.orders.lifecycle.close_order closes an order.

Each use case locks the order row first, replays a known idempotency key, checks the amount
against what is held (the ledger refuses an overdraft again at the database), posts, audits and
notifies. Releases and refunds are for platform staff and the system (settlement jobs); parties
reach them through disputes and cancellations.
"""
from __future__ import annotations

from flask_babel import gettext as _

from market import ledger
from market.acting import allow_while_suspended
from market.accounts.models import User
from market.audit.services import record
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.escrow import book, payouts
from market.escrow.errors import EscrowNotEmpty, EscrowNotFunded, MoreThanHeld
from market.escrow.funding import requests_of
from market.escrow.models import Movement
from market.escrow.policies import LineTerms, Release, plan_release
from market.notifications.messages import as_money, message
from market.notifications.services import notify_org
from market.orders.models import Order
from market.uow import transaction

# Money leaves escrow for a line only once the waste is received (the database refuses a release
# of a disposal or transport line before that too: migration 0008), until the order is closed;
# never while a dispute holds it. Refunds may return money of an order still being funded, or of
# a funded one (cancellation by agreement).
RELEASABLE = ("received", "settled")
REFUNDABLE = ("funding", "funded", "in_transfer", "received", "settled")


def check_fen(value: object, field: str = "amount_fen") -> int:
    """A positive whole number of fen, or a ValidationFailed that names the field."""
    if type(value) is not int:
        raise ValidationFailed(_("%(field)s must be a whole number of fen.", field=field),
                               field=field)
    if value <= 0:
        raise ValidationFailed(_("%(field)s must be greater than zero.", field=field), field=field)
    return value


def _require_staff(actor: User | None) -> None:
    # None is the system (a job acting on an event); people must be platform finance or admin.
    if actor is not None and actor.platform_role not in ("finance", "admin"):
        raise PermissionDenied(_("Only platform finance staff may move money out of escrow."))


def post_release(order: Order, r: Release, key: str, actor: User | None,
                 dispute_id: int | None = None) -> Movement:
    """Post one release (order locked, amounts already checked): Dr escrow / Cr payable, fees."""
    movement = book.post_movement(
        key=key, kind="release", order=order, line_id=r.line_id, org_id=r.payee_org_id,
        amount_fen=r.out_fen, value_fen=r.value_fen, fee_fen=r.fee_fen, dispute_id=dispute_id,
        actor=actor, memo=f"release of line {r.line_id} of {order.number}",
        lines=[(book.escrow_account(order), r.out_fen),
               (book.payable_account(r.payee_org_id), -r.payee_fen), ("revenue:fees", -r.fee_fen)])
    record("escrow.released", order, actor=actor, changes={
        "line_id": r.line_id, "payee_org_id": r.payee_org_id, "value_fen": r.value_fen,
        "fee_fen": r.fee_fen, "payee_fen": r.payee_fen, "key": key})
    notify_org(r.payee_org_id, "escrow.released",
               message("%(amount)s of order %(number)s was released to you.",
                       amount=as_money(r.payee_fen), number=order.number),
               link=f"/orders/{order.id}/payment")
    return movement


def post_refund(order: Order, payer_org_id: int, amount_fen: int, key: str, actor: User | None,
                dispute_id: int | None = None) -> Movement:
    """Post one refund (order locked, amount checked): Dr escrow / Cr payable:payer."""
    movement = book.post_movement(
        key=key, kind="refund", order=order, org_id=payer_org_id, amount_fen=amount_fen,
        dispute_id=dispute_id, actor=actor, memo=f"refund to {payer_org_id} from {order.number}",
        lines=[(book.escrow_account(order), amount_fen),
               (book.payable_account(payer_org_id), -amount_fen)])
    record("escrow.refunded", order, actor=actor, changes={
        "payer_org_id": payer_org_id, "amount_fen": amount_fen, "key": key})
    # Card money goes back to the card; bank money waits in payable for the payout batch.
    payouts.queue_card_refunds(order, payer_org_id, amount_fen, key)
    notify_org(payer_org_id, "escrow.refunded",
               message("%(amount)s of order %(number)s is refunded to you.",
                       amount=as_money(amount_fen), number=order.number), link=f"/orders/{order.id}/payment")
    return movement


def _line(order_terms: list[LineTerms], line_id: object) -> LineTerms:
    terms = {t.line_id: t for t in order_terms}
    if type(line_id) is not int or line_id not in terms:
        raise NotFound(_("No such line on this order."))
    return terms[line_id]


def release(actor: User | None, order_id: int, line_id: int, value_fen: int, key: str) -> Movement:
    """Release part (or all) of a line's value to its payee, the platform fee to revenue."""
    _require_staff(actor)
    check_fen(value_fen, "value_fen")
    with transaction():
        order = book.lock_order(order_id)
        replayed = book.replay(key, kind="release", order_id=order.id, line_id=line_id,
                               value_fen=value_fen)
        if replayed is not None:
            return replayed
        if order.status not in RELEASABLE:
            raise EscrowNotFunded(_("Order %(number)s is %(status)s: nothing can be released now.",
                                    number=order.number, status=_(order.status)))
        order_terms = book.terms_for(order)
        terms = _line(order_terms, line_id)
        state = book.escrow_state(order.id)
        done = state.released_value.get(line_id, 0)
        if done + value_fen > terms.value_fen:
            raise MoreThanHeld(_("Only %(left)s fen of this line is left to release.",
                                 left=terms.value_fen - done), field="value_fen")
        r = plan_release(terms, done, value_fen)
        held = state.held(order_terms).get(terms.payer_org_id, 0)
        if r.out_fen > held:
            raise MoreThanHeld(_("Releasing %(out)s fen needs more than the %(held)s fen held.",
                                 out=r.out_fen, held=held), field="value_fen")
        return post_release(order, r, key, actor)


def refund(actor: User | None, order_id: int, payer_org_id: int, amount_fen: int,
           key: str) -> Movement:
    """Refund part of what a payer holds in the order's escrow."""
    _require_staff(actor)
    check_fen(amount_fen)
    with transaction():
        allow_while_suspended()  # money owed to the payer is never held back by a suspension
        order = book.lock_order(order_id)
        replayed = book.replay(key, kind="refund", order_id=order.id, org_id=payer_org_id,
                               amount_fen=amount_fen)
        if replayed is not None:
            return replayed
        if order.status not in REFUNDABLE:
            raise EscrowNotFunded(_("Order %(number)s is %(status)s: nothing can be refunded now.",
                                    number=order.number, status=_(order.status)))
        held = book.escrow_state(order.id).held(book.terms_for(order)).get(payer_org_id, 0)
        if amount_fen > held:
            raise MoreThanHeld(_("Only %(held)s fen is held for this payer.", held=max(held, 0)),
                               field="amount_fen")
        return post_refund(order, payer_org_id, amount_fen, key, actor)


def refund_everything(order: Order, actor: User | None, key_prefix: str) -> int:
    """Refund every payer all it holds (order locked; cancellation); returns the fen refunded."""
    held = book.escrow_state(order.id).held(book.terms_for(order))
    total = 0
    for payer_id, fen in sorted(held.items()):
        if fen > 0:
            post_refund(order, payer_id, fen, f"{key_prefix}:{payer_id}", actor)
            total += fen
    for req in requests_of(order.id):
        if req.status == "open":
            req.status = "cancelled"
    return total


def require_empty(actor: User | None, order: Order) -> None:
    """Closing a (locked) order is for staff or the system, and only once its escrow is empty."""
    _require_staff(actor)
    left = ledger.balance(book.escrow_account(order))
    if left:
        raise EscrowNotEmpty(_("Order %(number)s still holds %(left)s fen in escrow.",
                               number=order.number, left=left))

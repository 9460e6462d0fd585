"""Finance use cases on incoming bank money: confirm a receipt, clear suspense (match or return)."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.escrow import book
from market.escrow.errors import BadReference, MoreThanHeld, NotAwaitingFunding
from market.escrow.funding import book_receipt, due_fen, mark_paid
from market.escrow.models import FundingRequest, Receipt
from market.escrow.policies import normalise_reference, reference_status
from market.escrow.services import check_fen
from market.listings.validation import today
from market.uow import transaction

MAX_TEXT = 200


def _require_finance(actor: User) -> None:
    if actor.platform_role != "finance":
        raise PermissionDenied(_("Only platform finance staff confirm receipts."))


def _text(value: object, field: str, required: bool = True) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValidationFailed(_("%(field)s must be text.", field=field), field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(_("%(field)s is required.", field=field), field=field)
    if len(value) > MAX_TEXT:
        raise ValidationFailed(_("%(field)s must be at most %(n)d characters.", field=field,
                                 n=MAX_TEXT), field=field)
    return value


def known_request(reference: str) -> FundingRequest | None:
    """The funding request a reference names; BadReference when its check digits are wrong."""
    status = reference_status(reference)
    if status == "bad_check":
        raise BadReference(_("Reference %(ref)s has wrong check digits: probably a typo. Compare "
                             "it with the bank statement.", ref=reference), field="reference")
    if status == "foreign":
        return None
    return db.session.scalar(select(FundingRequest).where(
        FundingRequest.reference == normalise_reference(reference)))


def confirm_receipt(actor: User, *, reference: str, amount_fen: int, received_on: date,
                    payer_name: str, bank_ref: str) -> Receipt:
    """Book a bank receipt as finance read it from the statement (once per bank reference)."""
    _require_finance(actor)
    reference = _text(reference, "reference")
    payer_name = _text(payer_name, "payer_name")
    bank_ref = _text(bank_ref, "bank_ref")
    check_fen(amount_fen)
    if not isinstance(received_on, date):
        raise ValidationFailed(_("received_on must be a date."), field="received_on")
    if received_on > today():
        raise ValidationFailed(_("received_on cannot be in the future."), field="received_on")
    with transaction():
        req = known_request(reference)
        if req is not None:
            book.lock_order(req.order_id)
            db.session.refresh(req)
        receipt, _replayed = book_receipt(gateway="bank", reference=reference, req=req,
                                          amount_fen=amount_fen, received_on=received_on,
                                          payer_name=payer_name, bank_ref=bank_ref, actor=actor)
        return receipt


def _open_suspense(receipt_id: int, amount_fen: int) -> Receipt:
    receipt = db.session.scalar(select(Receipt).where(Receipt.id == receipt_id)
                                .with_for_update())
    if receipt is None:
        raise NotFound(_("No such receipt."))
    if amount_fen > receipt.suspense_open_fen:
        raise MoreThanHeld(_("Only %(left)s fen of this receipt is in suspense.",
                             left=receipt.suspense_open_fen), field="amount_fen")
    return receipt


def match_suspense(actor: User, receipt_id: int, reference: str, amount_fen: int,
                   key: str) -> Receipt:
    """Apply suspense money to an order awaiting funding: Dr suspense / Cr escrow."""
    _require_finance(actor)
    check_fen(amount_fen)
    reference = _text(reference, "reference")
    with transaction():
        req = known_request(reference)
        if req is None:
            raise NotFound(_("No order awaits a payment with reference %(ref)s.", ref=reference))
        order = book.lock_order(req.order_id)
        if book.replay(key, kind="fund", order_id=order.id, receipt_id=receipt_id,
                       amount_fen=amount_fen) is not None:
            return db.session.get(Receipt, receipt_id)
        receipt = _open_suspense(receipt_id, amount_fen)
        db.session.refresh(req)
        if order.status not in ("funding", "received") or req.status != "open":
            raise NotAwaitingFunding(_("Order %(number)s is not awaiting funding.",
                                       number=order.number))
        due = due_fen(req)
        if amount_fen > due:
            raise MoreThanHeld(_("Only %(due)s fen is still due on this order.", due=due),
                               field="amount_fen")
        book.post_movement(key=key, kind="fund", order=order, org_id=req.payer_org_id,
                           amount_fen=amount_fen, receipt_id=receipt.id, actor=actor,
                           memo=f"suspense receipt {receipt.id} matched to {req.reference}",
                           lines=[(f"suspense:{receipt.gateway}", amount_fen),
                                  (book.escrow_account(order), -amount_fen)])
        receipt.suspense_cleared_fen += amount_fen
        record("escrow.suspense_matched", receipt, actor=actor, changes={
            "order": order.number, "amount_fen": amount_fen, "reference": req.reference})
        if amount_fen == due:
            mark_paid(req)
        return receipt


def return_suspense(actor: User, receipt_id: int, amount_fen: int, bank_ref: str,
                    key: str) -> Receipt:
    """Send suspense money back to whoever sent it (Dr suspense / Cr clearing), by bank ref."""
    _require_finance(actor)
    check_fen(amount_fen)
    bank_ref = _text(bank_ref, "bank_ref")
    with transaction():
        if book.replay(key, kind="suspense_return", receipt_id=receipt_id,
                       amount_fen=amount_fen) is not None:
            return db.session.get(Receipt, receipt_id)
        receipt = _open_suspense(receipt_id, amount_fen)
        book.post_movement(key=key, kind="suspense_return", order=None, amount_fen=amount_fen,
                           receipt_id=receipt.id, actor=actor,
                           memo=f"suspense receipt {receipt.id} returned, bank ref {bank_ref}",
                           lines=[(f"suspense:{receipt.gateway}", amount_fen),
                                  (f"clearing:{receipt.gateway}", -amount_fen)])
        receipt.suspense_cleared_fen += amount_fen
        record("escrow.suspense_returned", receipt, actor=actor, changes={
            "amount_fen": amount_fen, "bank_ref": bank_ref, "payer_name": receipt.payer_name})
        return receipt

"""Paying out what the platform owes (payable:{org}) by bank, and closing orders once paid out.

Payouts normally leave in payout batches (market.settlement.batches). This is the path for a
single transfer finance executed by hand: finance records it against an organisation's payable
(Dr payable / Cr clearing:bank, through the escrow Payout record and the audit log; the bank
reference is what the statement quotes), and market.orders.settling then closes every settled
order of that organisation whose money has now all left the platform.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db, ledger
from market.accounts.models import Organisation, User
from market.audit.services import record
from market.db import utcnow
from market.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from market.escrow import book
from market.escrow import services as escrow
from market.escrow.errors import MoreThanHeld
from market.escrow.models import Payout
from market.notifications.messages import as_money, message
from market.notifications.services import notify_org
from market.uow import transaction
from market.web.i18n import money

MAX_REF = 100


def check_payout(actor: User, org_id: object, amount_fen: object, bank_ref: object) -> str:
    """Refuse a payout by anyone but finance, or with bad input; the bank reference, stripped."""
    if actor.platform_role != "finance":
        raise PermissionDenied(_("Only platform finance staff record payouts."))
    if type(org_id) is not int:
        raise ValidationFailed(_("%(field)s must be a whole number.", field="org_id"),
                               field="org_id")
    escrow.check_fen(amount_fen)
    if not isinstance(bank_ref, str) or not bank_ref.strip() or len(bank_ref.strip()) > MAX_REF:
        raise ValidationFailed(_("%(field)s is required.", field="bank_ref"), field="bank_ref")
    return bank_ref.strip()


def record_bank_payout(actor: User, org_id: int, amount_fen: int, bank_ref: str) -> Payout:
    """Finance records a bank transfer paid to an organisation out of its payable (once per
    bank reference: the same details again return the first payout, others are a 409). The
    caller locks the orders it may close first (market.orders.settling), then this posts."""
    bank_ref = check_payout(actor, org_id, amount_fen, bank_ref)
    key = f"bank-payout:{bank_ref}"
    with transaction():
        if db.session.get(Organisation, org_id) is None:
            raise NotFound(_("No such organisation."), field="org_id")
        found = db.session.scalar(select(Payout).where(Payout.key == key))
        if found is not None:
            if (found.org_id, found.amount_fen) != (org_id, amount_fen):
                raise Conflict(_("Bank reference %(ref)s is already booked with other details.",
                                 ref=bank_ref), field="bank_ref", code="idempotency_conflict")
            return found
        owed = ledger.balance(book.payable_account(org_id))
        if amount_fen > owed:
            raise MoreThanHeld(_("Only %(owed)s is owed to this organisation.", owed=money(owed)),
                               field="amount_fen")
        payout = Payout(key=key, org_id=org_id, gateway="bank", method="bank",
                        amount_fen=amount_fen, external_id=bank_ref, status="executed",
                        executed_at=utcnow())
        db.session.add(payout)
        db.session.flush()
        entry = ledger.post([(book.payable_account(org_id), amount_fen),
                             ("clearing:bank", -amount_fen)],
                            f"payout:{payout.id}", f"bank payout {payout.id} ref {bank_ref[:60]}")
        record("escrow.payout_executed", payout, actor=actor, changes={
            "method": "bank", "amount_fen": amount_fen, "org_id": org_id,
            "external_id": bank_ref, "entry_id": entry.id})
        notify_org(org_id, "settlement.paid_out",
                   message("%(amount)s was paid out to your bank account.", amount=as_money(amount_fen)),
                   link="/payables")
        return payout

"""Payout batches: finance pays what the platform owes organisations, in one run.

One line per organisation whose payable (less what is already on its way) reaches
PAYOUT_MINIMUM_FEN and that can be paid: a Stripe Connect account on file (the line is a Connect
transfer, executed by the `money` job of market.escrow.payouts and followed through its escrow
Payout), or else a bank account an admin verified (the line goes in the bank's bulk payment file,
docs/payout-batch.md).

Ledger: a bank line posts Dr payable:P / Cr clearing:bank when its file is written (the line is
`sent`). Posting at `sent` rather than parking the money in an in-flight account keeps
clearing:bank the mirror of the custody account: the bank debits the account once per line,
quoting the line reference, and the matcher ties that statement line to exactly this entry by the
reference (rule `reference`); a second in-flight posting would be an entry the statement never
shows. The amount is locked because the payable no longer holds it. The line turns `paid` when its
statement line is matched, `returned` when the bank sends it back (a credit quoting the
reference, or finance marking it): Dr clearing:bank / Cr payable:P reverses it, the payable
reappears and the payee's account must be corrected and verified again.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, text

from market import db, ledger
from market.accounts.models import Organisation, User
from market.audit.services import record
from market.db import utcnow
from market.ledger.models import Entry
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.escrow import book
from market.escrow import payouts as escrow_payouts
from market.escrow.gateways import get_gateway
from market.escrow.models import Payout, PayoutAccount
from market.notifications.messages import as_money, message
from market.notifications.services import notify_org
from market.settlement import bank_accounts
from market.settlement.payout_models import BankAccount, PayoutBatch, PayoutBatchLine
from market.uow import transaction
from market.web.i18n import money

BUILD_LOCK = 180_001  # pg advisory lock: one batch is built at a time
MAX_KEY = 200
MAX_REASON = 500


def require_finance(actor: User, *, admin_reads: bool = False) -> None:
    roles = ("finance", "admin") if admin_reads else ("finance",)
    if actor.platform_role not in roles or not actor.is_platform:
        raise PermissionDenied(_("Only platform finance staff build and follow payout batches."))


def minimum_fen() -> int:
    return int(current_app.config["PAYOUT_MINIMUM_FEN"])


def on_the_way(org_id: int) -> int:
    """Fen of the organisation's payouts queued and not yet executed (card refunds, Connect
    transfers): still in the payable, but spoken for."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Payout.amount_fen), 0)).where(
        Payout.org_id == org_id, Payout.status == "pending")))


def plan() -> tuple[list[tuple[int, str, int, BankAccount | None]], dict[int, str]]:
    """([(org id, gateway, fen, bank account)], {org id: why not}) of what a batch would pay."""
    minimum = minimum_fen()
    lines, skipped = [], {}
    for code, owed in sorted(ledger.balances("payable:").items()):
        org_id = int(code.split(":", 1)[1])
        fen = owed - on_the_way(org_id)
        if fen <= 0:
            continue
        if fen < minimum:
            skipped[org_id] = "below_minimum"
            continue
        if db.session.scalar(select(PayoutAccount.id).where(
                PayoutAccount.org_id == org_id, PayoutAccount.gateway == "stripe")) is not None:
            lines.append((org_id, "stripe", fen, None))
            continue
        account = bank_accounts.account_of(org_id)
        if account is None or account.status != "verified":
            skipped[org_id] = "no_verified_account"
            continue
        lines.append((org_id, "bank", fen, account))
    return sorted(lines), skipped


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise ValidationFailed(_("%(field)s is required.", field="key"), field="key")
    return key.strip()


def _bank_line(line: PayoutBatchLine) -> Payout:
    payout = Payout(key=f"batch-line:{line.id}", org_id=line.org_id, gateway="bank",
                    method="bank", amount_fen=line.amount_fen, external_id=line.reference,
                    status="executed", executed_at=utcnow())
    db.session.add(payout)
    db.session.flush()
    ledger.post([(book.payable_account(line.org_id), line.amount_fen),
                 ("clearing:bank", -line.amount_fen)], f"payout:{payout.id}",
                f"payout batch {line.batch_id} line {line.reference}")
    return payout


def build_batch(actor: User, key: object) -> PayoutBatch:
    """Build, book and send a batch (once per key: the same key returns the first batch).

    The caller (market.orders.settling) locks the orders that may close first."""
    require_finance(actor)
    key = _check_key(key)
    with transaction():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": BUILD_LOCK})
        found = db.session.scalar(select(PayoutBatch).where(PayoutBatch.key == key))
        if found is not None:
            return found
        lines, _skipped = plan()
        if not lines:
            raise InvalidState(_("No organisation is due a payout: none is owed at least "
                                 "%(minimum)s with a verified bank account or a Connect "
                                 "account.", minimum=money(minimum_fen())))
        batch = PayoutBatch(key=key, minimum_fen=minimum_fen(), total_fen=0, line_count=0,
                            file_name="", file_csv="", built_by_id=actor.id, sent_at=utcnow())
        db.session.add(batch)
        db.session.flush()
        for n, (org_id, gateway, fen, account) in enumerate(lines, start=1):
            line = PayoutBatchLine(batch_id=batch.id, org_id=org_id, gateway=gateway,
                                   amount_fen=fen, reference=f"PB{batch.id:05d}-{n:03d}",
                                   status="sent")
            if account is not None:
                line.account_name, line.bank_name = account.account_name, account.bank_name
                line.account_number = account.account_number
            db.session.add(line)
            db.session.flush()
            payout = _bank_line(line) if gateway == "bank" else escrow_payouts.queue_transfer(
                org_id, fen, None, key=f"batch-line:{line.id}")
            line.payout_id = payout.id
            notify_org(org_id, "settlement.payout_sent",
                       message("A payout of %(amount)s is on its way in payout batch %(batch)d.",
                               amount=as_money(fen), batch=batch.id), link="/payables")
        db.session.flush()
        db.session.refresh(batch)
        bank = [ln for ln in batch.lines if ln.gateway == "bank"]
        batch.total_fen = sum(ln.amount_fen for ln in batch.lines)
        batch.line_count = len(batch.lines)
        batch.file_name = f"payout-batch-{batch.id:05d}.csv"
        batch.file_csv = get_gateway("bank").payout_file(
            batch_reference=f"PB{batch.id:05d}", lines=[
                {"reference": ln.reference, "name": ln.account_name, "bank": ln.bank_name,
                 "account": ln.account_number, "amount_fen": ln.amount_fen} for ln in bank])
        record("settlement.payout_batch_sent", batch, actor=actor, changes={
            "lines": batch.line_count, "total_fen": batch.total_fen,
            "minimum_fen": batch.minimum_fen})
        return batch


def on_its_way():
    """SQL condition on PayoutBatchLine joined to its Payout: sent and not yet arrived (a bank
    line until its statement line, a Connect transfer until the job made it)."""
    return and_(PayoutBatchLine.status == "sent",
                or_(and_(PayoutBatchLine.gateway == "bank", Payout.status != "failed"),
                    and_(PayoutBatchLine.gateway == "stripe", Payout.status == "pending")))


def line_of(payout_id: int) -> PayoutBatchLine | None:
    return db.session.scalar(select(PayoutBatchLine).where(PayoutBatchLine.payout_id == payout_id)
                             .with_for_update())


def mark_paid(payout_id: int) -> None:
    """The statement shows the payout left the custody account (in the caller's transaction)."""
    line = line_of(payout_id)
    if line is None or line.status != "sent":
        return
    line.status, line.paid_at = "paid", utcnow()
    record("settlement.payout_line_paid", line, changes={"reference": line.reference,
                                                         "amount_fen": line.amount_fen})


def return_payout(payout_id: int, detail: str, actor: User | None) -> int:
    """The bank sent a payout back: Dr clearing / Cr payable (the payable reappears), the line
    `returned`, the payee's account flagged and the payee told. Once per payout: the id of the
    reversing entry (in the caller's transaction)."""
    payout = db.session.get(Payout, payout_id, with_for_update=True)
    key = f"payout-return:{payout.id}"
    if payout.status == "failed":
        return db.session.scalar(select(Entry.id).where(Entry.idempotency_key == key))
    posted = ledger.post([(f"clearing:{payout.gateway}", payout.amount_fen),
                          (book.payable_account(payout.org_id), -payout.amount_fen)],
                         key, f"payout {payout.id} returned by the bank: {detail[:200]}")
    payout.status, payout.error = "failed", f"returned by the bank: {detail}"[:500]
    line = line_of(payout.id)
    if line is not None:
        line.status, line.returned_at, line.return_reason = "returned", utcnow(), detail[:500]
    bank_accounts.flag_returned(payout.org_id, detail)
    record("settlement.payout_returned", payout, actor=actor, changes={
        "amount_fen": payout.amount_fen, "entry_id": posted.id, "detail": detail[:200],
        "reference": line.reference if line else payout.external_id})
    notify_org(payout.org_id, "reconciliation.payout_returned",
               message("Your bank returned a payout of %(amount)s. Check the bank account on file; "
                       "it is paid again once corrected and verified.",
                       amount=as_money(payout.amount_fen)),
               link="/bank-account")
    return posted.id


def mark_returned(actor: User, line_id: object, reason: object) -> PayoutBatchLine:
    """Finance records that the bank returned a sent or paid bank line."""
    require_finance(actor)
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > MAX_REASON:
        raise ValidationFailed(_("%(field)s is required.", field=_("Reason")), field="reason")
    with transaction():
        line = db.session.scalar(select(PayoutBatchLine).where(PayoutBatchLine.id == line_id)
                                 .with_for_update()) if type(line_id) is int else None
        if line is None:
            raise NotFound(_("No such payout line."))
        if line.gateway != "bank" or line.status == "returned":
            raise InvalidState(_("Only a bank payout that was sent can be returned."))
        return_payout(line.payout_id, reason.strip(), actor)
        return line


def batch(batch_id: object) -> PayoutBatch:
    found = db.session.get(PayoutBatch, batch_id) if type(batch_id) is int else None
    if found is None:
        raise NotFound(_("No such payout batch."))
    return found


def recent(limit: int = 50) -> list[PayoutBatch]:
    return list(db.session.scalars(select(PayoutBatch).order_by(PayoutBatch.id.desc())
                                   .limit(limit)))


def org_names(ids) -> dict[int, str]:
    ids = list(set(ids))
    return dict(db.session.execute(select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(ids))).all()) if ids else {}


def payouts_of(lines) -> dict[int, Payout]:
    ids = [ln.payout_id for ln in lines if ln.payout_id]
    return {p.id: p for p in db.session.scalars(select(Payout).where(Payout.id.in_(ids)))} \
        if ids else {}

"""The exceptions desk: resolve by hand match, by an adjustment entry with a reason, or by
returning a suspense receipt; every resolution audited; reopened only by reversing its entry."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db, ledger
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound, ValidationFailed
from market.escrow import receipts
from market.ledger.models import Entry
from market.reconciliation import services
from market.reconciliation.errors import AlreadyResolved
from market.reconciliation.imports import require_finance
from market.reconciliation.matching import EntryIn, suggestions
from market.reconciliation.models import Match, ReconException, StatementLine
from market.uow import transaction

ADJUSTMENT_ACCOUNTS = ("expense:gateway_fees", "revenue:fees")
MAX_REASON = 500


def _open(exc_id: int) -> ReconException:
    exc = db.session.scalar(select(ReconException).where(ReconException.id == exc_id)
                            .with_for_update())
    if exc is None:
        raise NotFound(_("No such exception."))
    if exc.status != "open":
        raise AlreadyResolved(_("This exception is already resolved; reverse its entry to "
                                "reopen it."))
    return exc


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ValidationFailed(_("%(field)s is required.", field="reason"), field="reason")
    return reason.strip()


def _resolve(exc: ReconException, how: str, actor: User, reason: str,
             entry_id: int | None = None) -> None:
    exc.status, exc.resolution, exc.reason = "resolved", how, reason
    exc.resolution_entry_id, exc.resolved_by_id, exc.resolved_at = entry_id, actor.id, utcnow()
    record("reconciliation.exception_resolved", exc, actor=actor, changes={
        "resolution": how, "reason": reason, "entry_id": entry_id})


def suggested(exc: ReconException) -> list[EntryIn]:
    """Unmatched entries a line might belong to: same amount, nearest dates first."""
    if exc.line_id is None:
        return []
    _lines, free, _returnable = services.load(exc.gateway)
    return suggestions(exc.amount_fen, exc.day, free)


def resolve_by_adjustment(actor: User, exc_id: int, account: str, reason: str) -> ReconException:
    """Post what the statement shows and the ledger lacks (a bank fee → expense:gateway_fees)."""
    require_finance(actor)
    reason = _reason(reason)
    if account not in ADJUSTMENT_ACCOUNTS:
        raise ValidationFailed(_("%(field)s must be one of %(choices)s.", field="account",
                                 choices=", ".join(ADJUSTMENT_ACCOUNTS)), field="account")
    with transaction():
        exc = _open(exc_id)
        if exc.kind not in ("unmatched_line", "balance_difference"):
            raise ValidationFailed(_("Only a statement line or a balance difference is "
                                     "adjusted."), field="kind")
        amount = exc.amount_fen
        posted = ledger.post([(f"clearing:{exc.gateway}", amount), (account, -amount)],
                             f"recon-adjust:{exc.id}:{exc.gateway}",
                             f"adjustment for reconciliation exception {exc.id}: {reason[:200]}")
        if exc.line_id is not None:
            services.tie(exc.gateway, exc.line_id, posted.id, "adjustment", actor)
        _resolve(exc, "adjustment", actor, reason, posted.id)
        return exc


def resolve_by_match(actor: User, exc_id: int, entry_id: int, reason: str) -> ReconException:
    """Tie a line to an unmatched ledger entry of the same amount by hand."""
    require_finance(actor)
    reason = _reason(reason)
    with transaction():
        exc = _open(exc_id)
        _lines, free, _r = services.load(exc.gateway)
        entry = next((e for e in free if e.id == entry_id), None)
        if exc.line_id is None or entry is None:
            raise ValidationFailed(_("Choose an unmatched entry for this statement line."),
                                   field="entry_id")
        line = db.session.get(StatementLine, exc.line_id)
        if entry.amount_fen != line.amount_fen:
            raise ValidationFailed(_("The entry's amount differs from the line's."),
                                   field="entry_id")
        services.tie(exc.gateway, line.id, entry.id, "manual", actor)
        _resolve(exc, "manual_match", actor, reason)
        other = db.session.scalar(select(ReconException).where(
            ReconException.kind == "unmatched_entry", ReconException.entry_id == entry.id,
            ReconException.status == "open"))
        if other is not None:
            _resolve(other, "manual_match", actor, reason)
        return exc


def resolve_by_suspense_refund(actor: User, exc_id: int, bank_ref: str,
                               reason: str) -> ReconException:
    """Send an overpayment back to the payer out of suspense (Dr suspense / Cr clearing)."""
    require_finance(actor)
    reason = _reason(reason)
    with transaction():
        exc = _open(exc_id)
        if exc.receipt_id is None:
            raise ValidationFailed(_("Only a receipt held in suspense is refunded."),
                                   field="kind")
        key = f"recon-refund:{exc.id}"
        receipts.return_suspense(actor, exc.receipt_id, exc.amount_fen, bank_ref, key)
        entry = db.session.scalar(select(Entry.id).where(Entry.idempotency_key == key))
        _resolve(exc, "suspense_refund", actor, reason, entry)
        return exc


def reopen(actor: User, exc_id: int, reason: str) -> ReconException:
    """Reverse a resolution's entry and open the exception again (a hand match is undone)."""
    require_finance(actor)
    reason = _reason(reason)
    with transaction():
        exc = db.session.scalar(select(ReconException).where(ReconException.id == exc_id)
                                .with_for_update())
        if exc is None:
            raise NotFound(_("No such exception."))
        if exc.status != "resolved" or exc.resolution_entry_id is None:
            raise AlreadyResolved(_("Only a resolution with a ledger entry is reversed."))
        reversal = ledger.reverse(exc.resolution_entry_id, f"recon-reopen:{exc.id}:"
                                  f"{exc.resolution_entry_id}", f"reopened: {reason[:200]}")
        match = db.session.scalar(select(Match).where(
            Match.entry_id == exc.resolution_entry_id))
        if match is not None:
            db.session.delete(match)
        record("reconciliation.exception_reopened", exc, actor=actor, changes={
            "reversed_entry_id": exc.resolution_entry_id, "reversal_id": reversal.id,
            "reason": reason})
        exc.status, exc.resolution, exc.resolution_entry_id = "open", None, None
        exc.resolved_by_id = exc.resolved_at = None
        return exc

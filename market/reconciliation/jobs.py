"""Reconciliation use cases that reach the order lifecycle (an entry point, like views): match a
gateway's statement lines (funding receipts booked through lifecycle.confirm_receipt), resolve a
mistyped reference by naming the right one, the daily close job per gateway, and the job that
imports and matches a large statement file while the desk shows its progress."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.errors import DomainError, InvalidState, ValidationFailed
from market.jobs import enqueue_after_commit, job
from market.listings.validation import today as today_
from market.orders import lifecycle
from market.reconciliation import close, desk, imports, services, uploads
from market.reconciliation.imports import require_finance
from market.reconciliation.matching import Outcome, match
from market.reconciliation.models import StatementLine, StatementUpload
from market.reconciliation.statement import StatementRefused
from market.uow import transaction

log = logging.getLogger(__name__)


def _book(gateway: str, line: StatementLine, reference: str, actor: User) -> None:
    receipt = lifecycle.confirm_receipt(
        actor, reference=reference, amount_fen=line.amount_fen, received_on=line.booking_date,
        payer_name=line.counterparty_name or "-", bank_ref=line.bank_txn_id)
    services.after_receipt(gateway, line, receipt, actor)


def run_matching(actor: User | None, gateway: str = "bank",
                 today: date | None = None) -> list[Outcome]:
    """Match every unmatched line and entry of a gateway; running it again changes nothing.

    Funding receipts are booked by finance (the receipt path needs a person): a scheduled run
    without one leaves those lines for the next run by finance."""
    require_finance(actor)
    with transaction():
        lines, free, returnable = services.load(gateway)
        outcomes = match(lines, free, returnable=returnable, today=today or today_())
        if actor is None:
            outcomes = [o for o in outcomes if o.kind != "confirm_receipt"]
        for o in services.apply(gateway, outcomes, actor):
            _book(gateway, db.session.get(StatementLine, o.line_id), o.detail, actor)
        return outcomes


def resolve_by_reference(actor: User, exc_id: int, reference: str, reason: str):
    """A line whose reference was mistyped: book it as a receipt under the right reference."""
    require_finance(actor)
    reason = desk._reason(reason)
    with transaction():
        exc = desk._open(exc_id)
        line = db.session.get(StatementLine, exc.line_id) if exc.line_id else None
        if line is None or line.amount_fen <= 0:
            raise ValidationFailed(_("Only money received is booked under a reference."),
                                   field="reference")
        _book(exc.gateway, line, reference, actor)
        desk._resolve(exc, "manual_match", actor, reason)
        return exc


@job(queue="money", retries=3)
def close_of_day(day: str | None = None, gateway: str = "bank") -> str:
    """Daily (market.jobs.schedule): the bank's statement of a day arrives the next morning, so
    the run of day D matches what is unmatched and closes D − 1 (waiting until it is uploaded)."""
    when = (date.fromisoformat(day) if day else today_()) - timedelta(days=1)
    run_matching(None, gateway)
    return close.close_day(None, gateway, when).status


def queue_upload(actor: User, *, filename: str, data: bytes,
                 gateway: str = "bank") -> StatementUpload:
    """Keep a large file and hand it to import_upload (after the commit); a file already
    imported is refused now rather than by the job."""
    require_finance(actor)
    if actor is None:
        raise InvalidState(_("A statement file is uploaded by a person."))
    imports.check_file(gateway, data)
    imports.refuse_imported(imports.file_hash(data))
    with transaction():
        up = StatementUpload(gateway=gateway, filename=(filename or "")[:200], content=data,
                             size_bytes=len(data), lines_total=data.count(b"\n"),
                             requested_by_id=actor.id)
        db.session.add(up)
        db.session.flush()
        record("reconciliation.upload_queued", up, actor=actor, changes={
            "filename": up.filename, "bytes": len(data), "hash": imports.file_hash(data)})
        enqueue_after_commit(import_upload, up.id)
        return up


@job(queue="money", retries=0)
def import_upload(upload_id: int) -> str:
    """Parse, store and match a queued file as the finance user who uploaded it, recording the
    progress after each step; a refusal is kept with its reason. Returns the final phase."""
    up = uploads.begin(upload_id)
    if up is None:
        return "skipped"
    actor = db.session.get(User, up.requested_by_id)
    with force_locale(actor.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            data = db.session.scalar(select(StatementUpload.content).where(
                StatementUpload.id == upload_id))
            parsed = imports.parse(imports.detect_format(up.filename, data), data)
            uploads.advance(upload_id, "storing", 40, lines_total=parsed.line_count,
                            lines_parsed=parsed.line_count)
            imp = imports.store(actor, up.gateway, up.filename, parsed, imports.file_hash(data))
            uploads.advance(upload_id, "matching", 70, import_id=imp.id)
            run_matching(actor, up.gateway)
            uploads.finish(upload_id, imp)
        except (StatementRefused, DomainError) as exc:
            uploads.fail(upload_id, exc)
        except Exception as exc:
            log.exception("statement upload %s stopped", upload_id)
            uploads.fail(upload_id, exc)
    return db.session.get(StatementUpload, upload_id).phase

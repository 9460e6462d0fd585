"""Reconciliation use cases that reach the order lifecycle (an entry point, like views): match a
gateway's statement lines (funding receipts booked through lifecycle.confirm_receipt), resolve a
mistyped reference by naming the right one, and the daily close job per gateway."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _

from market import db
from market.accounts.models import User
from market.errors import ValidationFailed
from market.jobs import job
from market.listings.validation import today as today_
from market.orders import lifecycle
from market.reconciliation import close, desk, services
from market.reconciliation.imports import require_finance
from market.reconciliation.matching import Outcome, match
from market.reconciliation.models import StatementLine
from market.uow import transaction


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

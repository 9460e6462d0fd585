"""Close of day: the ledger's clearing:{gateway} against the statement's closing balance; a
difference is an exception; finance signs a balanced day off (who, when)."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db, ledger
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState
from market.reconciliation.errors import DaySignedOff
from market.reconciliation.imports import require_finance
from market.reconciliation.models import Day, ReconException, StatementImport, StatementLine
from market.reconciliation.services import open_exception
from market.uow import transaction


def statement_balance(gateway: str, day: date) -> int | None:
    """The statement's balance at the end of a day (None until a statement covers it)."""
    first = db.session.scalar(select(StatementImport).where(StatementImport.gateway == gateway)
                              .order_by(StatementImport.first_day, StatementImport.id).limit(1))
    covered = db.session.scalar(select(func.max(StatementImport.last_day)).where(
        StatementImport.gateway == gateway))
    if first is None or covered is None or covered < day:
        return None
    moved = db.session.scalar(select(func.coalesce(func.sum(StatementLine.amount_fen), 0)).where(
        StatementLine.gateway == gateway, StatementLine.booking_date <= day))
    return (first.opening_fen or 0) + int(moved)


def close_day(actor: User | None, gateway: str, day: date) -> Day:
    """Compare clearing:G (as the ledger stands now) with the statement's balance at day end."""
    require_finance(actor)
    with transaction():
        row = db.session.scalar(select(Day).where(Day.gateway == gateway, Day.day == day)
                                .with_for_update())
        if row is not None and row.status == "signed_off":
            raise DaySignedOff(_("%(day)s is signed off; it changes only through adjustment "
                                 "entries dated later.", day=day))
        if row is None:
            row = Day(gateway=gateway, day=day, ledger_fen=0, status="open")
            db.session.add(row)
        row.ledger_fen = ledger.balance(f"clearing:{gateway}")
        row.statement_fen = statement_balance(gateway, day)
        if row.statement_fen is None:
            row.status = "waiting"
        elif row.statement_fen == row.ledger_fen:
            row.status = "balanced"
        else:
            row.status = "different"
            open_exception(gateway, "balance_difference", f"day:{day.isoformat()}:"
                           f"{row.ledger_fen}", day, row.statement_fen - row.ledger_fen,
                           detail=f"ledger {row.ledger_fen} fen, statement "
                                  f"{row.statement_fen} fen")
        db.session.flush()
        record("reconciliation.day_closed", row, actor=actor, changes={
            "gateway": gateway, "day": day.isoformat(), "ledger_fen": row.ledger_fen,
            "statement_fen": row.statement_fen, "status": row.status})
        return row


def sign_off(actor: User, gateway: str, day: date) -> Day:
    """Finance signs off a balanced day with no open exceptions up to it."""
    require_finance(actor)
    if actor is None:
        raise InvalidState(_("A day is signed off by a person."))
    with transaction():
        row = db.session.scalar(select(Day).where(Day.gateway == gateway, Day.day == day)
                                .with_for_update())
        if row is None or row.status != "balanced":
            raise InvalidState(_("Only a closed, balanced day is signed off."))
        still_open = db.session.scalar(select(func.count()).select_from(ReconException).where(
            ReconException.gateway == gateway, ReconException.status == "open",
            ReconException.day <= day))
        if still_open:
            raise InvalidState(_("%(n)d exceptions up to this day are still open.",
                                 n=still_open))
        row.status, row.signed_off_by_id, row.signed_off_at = "signed_off", actor.id, utcnow()
        record("reconciliation.day_signed_off", row, actor=actor, changes={
            "gateway": gateway, "day": day.isoformat()})
        return row

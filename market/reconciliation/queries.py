"""What the reconciliation desk shows: imports, exceptions with age and suggestions, days."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from market import db, ledger
from market.listings.validation import today
from market.reconciliation import services
from market.reconciliation.matching import EntryIn, suggestions
from market.reconciliation.models import Day, ReconException, StatementImport, StatementLine


@dataclass(frozen=True)
class OpenItem:
    exc: ReconException
    line: StatementLine | None
    age_days: int
    suggested: list[EntryIn]


def recent_imports(limit: int = 20) -> list[StatementImport]:
    return list(db.session.scalars(select(StatementImport).order_by(StatementImport.id.desc())
                                   .limit(limit)))


def open_exceptions(gateway: str = "bank") -> list[OpenItem]:
    rows = list(db.session.scalars(select(ReconException).where(
        ReconException.gateway == gateway, ReconException.status == "open")
        .order_by(ReconException.day, ReconException.id)))
    _lines, free, _r = services.load(gateway) if rows else ([], [], [])
    now = today()
    return [OpenItem(e, db.session.get(StatementLine, e.line_id) if e.line_id else None,
                     (now - e.day).days,
                     suggestions(e.amount_fen, e.day, free) if e.line_id else [])
            for e in rows]


def resolved_exceptions(gateway: str = "bank", limit: int = 20) -> list[ReconException]:
    return list(db.session.scalars(select(ReconException).where(
        ReconException.gateway == gateway, ReconException.status == "resolved")
        .order_by(ReconException.resolved_at.desc()).limit(limit)))


def days(gateway: str = "bank", limit: int = 31) -> list[Day]:
    return list(db.session.scalars(select(Day).where(Day.gateway == gateway)
                                   .order_by(Day.day.desc()).limit(limit)))


def figures(gateway: str = "bank") -> dict[str, int | None]:
    """The dashboard's figures: clearing, suspense, payables and escrow held, open exceptions."""
    last = db.session.scalar(select(Day).where(Day.gateway == gateway)
                             .order_by(Day.day.desc()).limit(1))
    return {"clearing_fen": ledger.balance(f"clearing:{gateway}"),
            "statement_fen": last.statement_fen if last else None,
            "suspense_fen": ledger.balance(f"suspense:{gateway}"),
            "payables_fen": sum(ledger.balances("payable:").values()),
            "escrow_fen": sum(ledger.balances("escrow:").values()),
            "open_exceptions": len(list(db.session.scalars(select(ReconException.id).where(
                ReconException.status == "open"))))}

"""Finance reports: trial balance, fee revenue by month and category, escrow held by age,
payables by organisation, reconciliation status by day. Each is (headers, rows) in fen."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from market import db, ledger
from market.accounts.models import Organisation
from market.escrow.models import Movement
from market.ledger.models import Account, Entry, Posting
from market.orders.models import Order
from market.reconciliation.models import Day, ReconException

Report = tuple[list[str], list[list[object]]]
AGE_BUCKETS = ((30, "0–30"), (90, "31–90"), (365, "91–365"), (None, "365+"))


def trial_balance() -> Report:
    tb = ledger.trial_balance()
    return ["account", "signed_fen"], [[code, amount] for code, amount in tb.rows] + [
        ["total", tb.total]]


def fee_revenue() -> Report:
    month = func.to_char(func.timezone("Asia/Shanghai", Entry.posted_at), "YYYY-MM")
    rows = db.session.execute(
        select(month.label("month"), Order.category_code, func.sum(Movement.fee_fen))
        .join(Entry, Entry.id == Movement.entry_id).join(Order, Order.id == Movement.order_id)
        .where(Movement.kind == "release", Movement.fee_fen > 0)
        .group_by(month, Order.category_code).order_by(month, Order.category_code)).all()
    return ["month", "category", "fee_fen"], [[m, c, int(f)] for m, c, f in rows]


def escrow_by_age(now: datetime | None = None) -> Report:
    now = now or datetime.now(timezone.utc)
    rows = db.session.execute(
        select(Account.code, -func.sum(Posting.amount_fen), func.min(Entry.posted_at))
        .join(Posting, Posting.account_id == Account.id).join(Entry, Entry.id == Posting.entry_id)
        .where(Account.kind == "escrow").group_by(Account.code)
        .having(func.sum(Posting.amount_fen) != 0).order_by(Account.code)).all()
    out = []
    for code, held, first in rows:
        age = (now - first).days
        bucket = next(label for limit, label in AGE_BUCKETS if limit is None or age <= limit)
        out.append([code.split(":", 1)[1], int(held), age, bucket])
    return ["order", "held_fen", "age_days", "bucket"], out


def payables() -> Report:
    balances = ledger.balances("payable:")
    names = dict(db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_([int(c.split(":")[1]) for c in balances]))).all()) if balances else {}
    return ["org_id", "organisation", "payable_fen"], [
        [int(code.split(":")[1]), names.get(int(code.split(":")[1]), ""), fen]
        for code, fen in sorted(balances.items()) if fen]


def reconciliation_status() -> Report:
    open_by_day = dict(db.session.execute(
        select(ReconException.day, func.count()).where(ReconException.status == "open")
        .group_by(ReconException.day)).all())
    rows = [[d.gateway, d.day.isoformat(), d.status, d.ledger_fen, d.statement_fen,
             open_by_day.get(d.day, 0), d.signed_off_at.isoformat() if d.signed_off_at else ""]
            for d in db.session.scalars(select(Day).order_by(Day.day, Day.gateway))]
    return ["gateway", "day", "status", "ledger_fen", "statement_fen", "open_exceptions",
            "signed_off_at"], rows


REPORTS = {"trial_balance": trial_balance, "fee_revenue": fee_revenue,
           "escrow_by_age": escrow_by_age, "payables": payables,
           "reconciliation": reconciliation_status}

"""Reading the ledger: balances derived from postings, trial balance, an account's postings.

balance() and balances() are in the account's natural sign (money held is positive on escrow:*);
trial_balance() is in the ledger's own sign (debit +, credit −) so that its total is zero.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, func, select

from market import db
from market.errors import ValidationFailed
from market.ledger.codes import KINDS, parse_code
from market.ledger.models import Account, Entry, Posting


class TrialBalance(NamedTuple):
    rows: list[tuple[str, int]]  # (account code, signed balance in fen: debit +, credit −)
    total: int                   # sum of the rows; anything but 0 means the ledger is broken


class PostingLine(NamedTuple):
    entry_id: int
    posted_at: datetime
    idempotency_key: str
    memo: str
    amount_fen: int  # signed: debit +, credit −
    reverses_id: int | None


def _check_as_of(as_of: datetime | None) -> None:
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
        raise ValidationFailed("as_of must be a timezone-aware datetime", field="as_of")


def _signed_sums(as_of: datetime | None) -> Select:
    """(code, kind, signed sum) per account, counting only entries posted at or before as_of."""
    on = Posting.account_id == Account.id
    if as_of is not None:
        # Postings of later entries are dropped inside the outer join, so the account still shows.
        on = on & Posting.entry_id.in_(select(Entry.id).where(Entry.posted_at <= as_of))
    return (select(Account.code, Account.kind,
                   func.coalesce(func.sum(Posting.amount_fen), 0).label("signed"))
            .select_from(Account).outerjoin(Posting, on)
            .group_by(Account.id).order_by(Account.code))


def balance(code: str, as_of: datetime | None = None) -> int:
    """Natural balance of one account in fen, from its postings (0 for an unknown account)."""
    parsed = parse_code(code)
    _check_as_of(as_of)
    q = (select(func.coalesce(func.sum(Posting.amount_fen), 0))
         .join(Account, Account.id == Posting.account_id).where(Account.code == parsed.code))
    if as_of is not None:
        q = q.join(Entry, Entry.id == Posting.entry_id).where(Entry.posted_at <= as_of)
    return parsed.natural(int(db.session.scalar(q)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def balances(prefix: str | None = None, as_of: datetime | None = None) -> dict[str, int]:
    """Natural balances of every account (or those whose code starts with prefix), by code."""
    _check_as_of(as_of)
    q = _signed_sums(as_of)
    if prefix:
        q = q.where(Account.code.like(_escape_like(prefix) + "%", escape="\\"))
    return {r.code: int(r.signed) * KINDS[r.kind][0] for r in db.session.execute(q)}


def trial_balance(as_of: datetime | None = None) -> TrialBalance:
    """Every account's signed balance (debit +, credit −) and their total, which must be 0."""
    _check_as_of(as_of)
    rows = [(r.code, int(r.signed)) for r in db.session.execute(_signed_sums(as_of))]
    return TrialBalance(rows, sum(amount for _, amount in rows))


def entry_lines(entry_id: int) -> list[tuple[str, int]]:
    """The legs of one entry as (account code, signed fen), in posting order."""
    q = (select(Account.code, Posting.amount_fen).join(Account, Account.id == Posting.account_id)
         .where(Posting.entry_id == entry_id).order_by(Posting.id))
    return [(r.code, int(r.amount_fen)) for r in db.session.execute(q)]


def account_postings(code: str, *, limit: int = 100, before_entry_id: int | None = None
                     ) -> list[PostingLine]:
    """An account's postings, newest first, for the finance ledger browser (keyset-paginated)."""
    parsed = parse_code(code)
    q = (select(Entry.id, Entry.posted_at, Entry.idempotency_key, Entry.memo, Posting.amount_fen,
                Entry.reverses_id)
         .join(Posting, Posting.entry_id == Entry.id)
         .join(Account, Account.id == Posting.account_id)
         .where(Account.code == parsed.code)
         .order_by(Entry.id.desc(), Posting.id.desc()).limit(max(1, min(limit, 1000))))
    if before_entry_id is not None:
        q = q.where(Entry.id < before_entry_id)
    return [PostingLine(*r) for r in db.session.execute(q)]


def postings_query(code: str) -> Select:
    """A select of the account's Posting rows (the payables change feed pages it)."""
    parsed = parse_code(code)
    return (select(Posting).join(Account, Account.id == Posting.account_id)
            .where(Account.code == parsed.code))


def posting_lines(postings: list[Posting]) -> list[PostingLine]:
    """The given postings with their entries' time, key and memo, in the order given."""
    ids = {p.entry_id for p in postings}
    entries = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.id.in_(ids)))} \
        if ids else {}
    return [PostingLine(p.entry_id, entries[p.entry_id].posted_at,
                        entries[p.entry_id].idempotency_key, entries[p.entry_id].memo,
                        p.amount_fen, entries[p.entry_id].reverses_id) for p in postings]


def paid_out_credits(code: str) -> set[int]:
    """Entries whose credit to a liability account (payable:*) its debits have covered, first in
    first out: a payout pays the oldest money owed first. The ids of the covered entries."""
    parsed = parse_code(code)
    base = (select(Posting.entry_id, Posting.amount_fen)
            .join(Account, Account.id == Posting.account_id).where(Account.code == parsed.code))
    debits = int(db.session.scalar(select(func.coalesce(func.sum(Posting.amount_fen), 0))
                                   .join(Account, Account.id == Posting.account_id)
                                   .where(Account.code == parsed.code, Posting.amount_fen > 0)))
    credits = base.where(Posting.amount_fen < 0).subquery()
    running = select(credits.c.entry_id, func.sum(-credits.c.amount_fen).over(
        order_by=credits.c.entry_id).label("owed")).subquery()
    return set(db.session.scalars(select(running.c.entry_id).where(running.c.owed <= debits)))

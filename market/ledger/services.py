"""Writing to the ledger: get-or-create accounts, post balanced entries, reverse them.

post() is the only writer of entries and postings. It runs inside the caller's transaction() and
never commits. The database re-checks every invariant (migration 0002_ledger); the checks here
exist to refuse bad input early with a message that names the line or the account.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from market import db, uow
from market.errors import NotFound
from market.ledger.codes import (MAX_KEY_LENGTH, MAX_MEMO_LENGTH, AccountCode, parse_code,
                                 payload_hash, validate_lines, validate_text)
from market.ledger.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds
from market.ledger.models import Account, Entry, Posting
from market.ledger.queries import entry_lines


def _session_in_transaction(what: str) -> Session:
    s = db.session()
    # The ledger never commits: a posting belongs to the caller's use case and its one commit.
    if not s.info.get(uow._DEPTH):
        raise RuntimeError(f"ledger.{what}() must be called inside transaction(); it never commits")
    return s


def _insert_accounts(s: Session, codes: list[AccountCode]) -> None:
    # One statement, codes sorted: two transactions creating the same new accounts wait on each
    # other in the same order instead of deadlocking.
    rows = [{"code": c.code, "kind": c.kind, "may_go_negative": c.may_go_negative,
             "cached_balance_fen": None if c.may_go_negative else 0}
            for c in sorted(codes, key=lambda c: c.code)]
    s.execute(pg_insert(Account).values(rows).on_conflict_do_nothing(index_elements=["code"]))


def account(code: str) -> Account:
    """Get or create the account for a code such as 'payable:42' (validates the code)."""
    parsed = parse_code(code)
    s = _session_in_transaction("account")
    found = s.scalars(select(Account).where(Account.code == parsed.code)).one_or_none()
    if found is None:
        _insert_accounts(s, [parsed])
        found = s.scalars(select(Account).where(Account.code == parsed.code)).one()
    return found


def _entry_by_key(s: Session, key: str) -> Entry | None:
    return s.scalars(select(Entry).where(Entry.idempotency_key == key)).one_or_none()


def _replay(existing: Entry, key: str, digest: str) -> Entry:
    if existing.payload_hash != digest:
        raise IdempotencyConflict(key, existing.id)
    return existing


def _lock_accounts(s: Session, codes: dict[str, AccountCode]) -> dict[str, tuple[int, int | None]]:
    """Lock the guarded accounts in code order, read the others; code → (id, cached balance)."""
    guarded = sorted(c for c, parsed in codes.items() if not parsed.may_go_negative)
    free = sorted(c for c, parsed in codes.items() if parsed.may_go_negative)
    found: dict[str, tuple[int, int | None]] = {}
    # Only accounts whose balance is checked are locked, in one sorted order for every caller, so
    # concurrent posts serialise per escrow/payable without deadlocks; hot accounts that may go
    # negative (revenue:fees, clearing:*) are never locked. Core rows, not ORM objects: the
    # identity map could hold a cached balance the trigger has since changed.
    if guarded:
        q = (select(Account.code, Account.id, Account.cached_balance_fen)
             .where(Account.code.in_(guarded)).order_by(Account.code).with_for_update())
        found.update({r.code: (r.id, r.cached_balance_fen) for r in s.execute(q)})
    if free:
        q = select(Account.code, Account.id).where(Account.code.in_(free))
        found.update({r.code: (r.id, None) for r in s.execute(q)})
    return found


def post(lines: Sequence[tuple[str, int]], idempotency_key: str, memo: str, *,
         _reverses: int | None = None) -> Entry:
    """Post a balanced entry [(account code, signed fen: debit +, credit −), …] once per key."""
    s = _session_in_transaction("post")
    key = validate_text(idempotency_key, field="idempotency_key", max_length=MAX_KEY_LENGTH,
                        required=True)
    memo = validate_text(memo, field="memo", max_length=MAX_MEMO_LENGTH, required=True)
    parsed = validate_lines(lines)
    plain = [(c.code, amount) for c, amount in parsed]
    digest = payload_hash(plain, memo, _reverses)

    codes = {c.code: c for c, _ in parsed}
    change: dict[str, int] = {}
    for c, amount in parsed:
        change[c.code] = change.get(c.code, 0) + c.natural(amount)

    found = _lock_accounts(s, codes)
    # Looked up after the locks: a concurrent post with the same key has committed by the time
    # we hold them, so a replay is recognised instead of failing the balance check below.
    existing = _entry_by_key(s, key)
    if existing is not None:
        return _replay(existing, key, digest)

    for code in sorted(codes):
        if codes[code].may_go_negative:
            continue
        current = found[code][1] if code in found else 0
        if current is None:  # not reachable while the cached_balance check constraint holds
            raise RuntimeError(f"account {code} has no cached balance")
        if current + change[code] < 0:
            raise InsufficientFunds(code, current, change[code])

    missing = [codes[c] for c in codes if c not in found]
    if missing:
        _insert_accounts(s, missing)
        q = select(Account.code, Account.id).where(Account.code.in_([c.code for c in missing]))
        found.update({r.code: (r.id, None) for r in s.execute(q)})

    # No conflict target: a concurrent post with the same key, or a second reversal of the same
    # entry, inserts nothing here and is resolved below instead of raising IntegrityError.
    stmt = (pg_insert(Entry)
            .values(idempotency_key=key, payload_hash=digest, memo=memo, reverses_id=_reverses)
            .on_conflict_do_nothing()
            .returning(Entry))
    entry = s.scalars(stmt, execution_options={"populate_existing": True}).one_or_none()
    if entry is None:
        existing = _entry_by_key(s, key)
        if existing is not None:
            return _replay(existing, key, digest)
        if _reverses is None:  # the only other unique column is reverses_id
            raise RuntimeError(f"ledger entry {key!r} was neither inserted nor found")
        raise AlreadyReversed(f"entry {_reverses} has already been reversed")

    # One multi-row INSERT: with SET CONSTRAINTS ALL IMMEDIATE the balance trigger fires at the end
    # of the statement, when every leg of the entry is present.
    s.execute(pg_insert(Posting).values(
        [{"entry_id": entry.id, "account_id": found[code][0], "amount_fen": amount}
         for code, amount in plain]))
    return entry


def reverse(entry_id: int, idempotency_key: str, memo: str) -> Entry:
    """Post the mirror image of an entry (every leg negated); an entry is reversed at most once."""
    s = _session_in_transaction("reverse")
    if type(entry_id) is not int:
        raise NotFound(f"entry {entry_id!r} not found")
    original = s.get(Entry, entry_id)
    if original is None:
        raise NotFound(f"entry {entry_id} not found")
    lines = [(code, -amount) for code, amount in entry_lines(entry_id)]
    prior = s.scalars(select(Entry).where(Entry.reverses_id == entry_id)).one_or_none()
    if prior is not None and prior.idempotency_key != idempotency_key:
        raise AlreadyReversed(f"entry {entry_id} has already been reversed by entry {prior.id}")
    return post(lines, idempotency_key, memo, _reverses=entry_id)

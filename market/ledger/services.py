"""Writing to the ledger: get-or-create accounts, post balanced entries, reverse them.

post() is the only writer of entries and postings. It runs inside the caller's transaction() and
never commits. The database re-checks every invariant (migrations 0002 and 0006); the checks here
exist to refuse bad input early with a message that names the line or the account.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from market import db, uow
from market.errors import NotFound, ValidationFailed
from market.ledger.codes import (MAX_KEY_LENGTH, MAX_MEMO_LENGTH, AccountCode, parse_code,
                                 payload_hash, validate_lines, validate_text)
from market.ledger.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds
from market.ledger.models import Account, Entry
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


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """What post() wrote, or found already written under the same key (entries never change)."""
    id: int
    idempotency_key: str
    memo: str
    posted_at: datetime
    reverses_id: int | None
    replayed: bool


# Sent through the driver as it is: the statement never changes, so SQLAlchemy's compiling and
# parameter processing would be pure overhead on the ledger's hottest path.
_POST = ("SELECT outcome, entry_id, posted_at, account_code, balance_fen, change_fen "
         "FROM ledger_post(%s, %s, %s, %s::bigint, %s::text[], %s::bigint[], %s::text[], "
         "%s::bigint[])")


def _array(values) -> str:
    # A PostgreSQL array literal, bound as one string: cheaper than adapting a Python list, and
    # safe because account codes are validated against [A-Za-z0-9_:-] and amounts are ints.
    return "{" + ",".join(str(v) for v in values) + "}"


def post(lines: Sequence[tuple[str, int]], idempotency_key: str, memo: str, *,
         _reverses: int | None = None) -> PostedEntry:
    """Post a balanced entry [(account code, signed fen: debit +, credit −), …] once per key."""
    s = _session_in_transaction("post")
    key = validate_text(idempotency_key, field="idempotency_key", max_length=MAX_KEY_LENGTH,
                        required=True)
    memo = validate_text(memo, field="memo", max_length=MAX_MEMO_LENGTH, required=True)
    parsed = validate_lines(lines)
    digest = payload_hash([(c.code, amount) for c, amount in parsed], memo, _reverses)

    # One leg per account (lines on the same account added up; the entry means the same).
    legs: dict[AccountCode, int] = {}
    for c, amount in parsed:
        legs[c] = legs.get(c, 0) + amount
    legs = {c: amount for c, amount in legs.items() if amount != 0}
    if len(legs) < 2:
        raise ValidationFailed("an entry needs at least two accounts once lines on the same "
                               "account are added up", field="lines")
    guarded = sorted((c.code, c.natural(amount)) for c, amount in legs.items()
                     if not c.may_go_negative)

    # One round trip: ledger_post (migration 0006) locks the guarded accounts in code order,
    # refuses an overdraft, creates missing accounts and inserts the entry with its postings.
    outcome, entry_id, posted_at, code, balance, change = s.connection().exec_driver_sql(
        _POST, (key, digest, memo, _reverses, _array(c.code for c in legs),
                _array(legs.values()), _array(g for g, _ in guarded),
                _array(n for _, n in guarded))).one()
    if outcome in ("posted", "replayed"):
        return PostedEntry(entry_id, key, memo, posted_at, _reverses, outcome == "replayed")
    if outcome == "conflict":
        raise IdempotencyConflict(key, entry_id)
    if outcome == "insufficient":
        raise InsufficientFunds(code, balance, change)
    if outcome == "already_reversed":
        raise AlreadyReversed(f"entry {_reverses} has already been reversed")
    raise RuntimeError(f"ledger_post returned an unknown outcome {outcome!r}")


def reverse(entry_id: int, idempotency_key: str, memo: str) -> PostedEntry:
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

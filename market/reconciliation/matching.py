"""Matching statement lines to ledger entries on a clearing account (pure, deterministic).

Rules, in order; each match records the rule that made it:
  bank_txn_id     the entry was booked under the bank's own transaction id (a receipt);
  reference       the same reference on both sides (payout batch id, Stripe object id);
  payout_return   a credit naming a payout that left: the bank sent it back;
  funding_reference  a credit naming an order's funding reference with good check digits and no
                  entry yet: the caller books it through the receipt path;
  amount_date_counterparty  same amount within the date window, same counterparty when known.
What is left: a statement line without ledger entry, a ledger entry without statement line (once
older than the grace period), an amount mismatch (same reference, different amount).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import partial
from itertools import compress, islice, repeat
from operator import attrgetter, eq, itemgetter, le, lt, not_
from typing import NamedTuple

from market.escrow.policies import normalise_reference, reference_status
from market.reconciliation.statement import gc_paused

GRACE_DAYS = 3
WINDOW_DAYS = 3


class LineIn(NamedTuple):
    id: int
    booked: date
    amount_fen: int           # + money in, − money out
    reference: str
    counterparty: str
    bank_txn_id: str


class EntryIn(NamedTuple):
    id: int
    posted_on: date
    amount_fen: int           # the entry's posting on clearing:G (+ in, − out)
    bank_ref: str = ""        # the bank's transaction id it was booked under, if any
    reference: str = ""       # payout batch id / Stripe object id, if any
    counterparty: str = ""


class Outcome(NamedTuple):
    kind: str                 # matched | confirm_receipt | payout_return | unmatched_line |
                              # unmatched_entry | amount_mismatch
    line_id: int | None
    entry_id: int | None
    rule: str
    detail: str = ""


_new_outcome = partial(tuple.__new__, Outcome)
_new_line_in = partial(tuple.__new__, LineIn)
_id_of, _amount_of, _bank_ref_of = itemgetter(0), itemgetter(2), itemgetter(3)
_KIND = {True: "matched", False: "amount_mismatch"}


class LineColumns(NamedTuple):
    """Statement lines column by column (as a parser or a database read gives them), in
    LineIn's field order: the matcher's first rule runs over whole columns."""
    ids: Sequence[int]
    booked: Sequence[date]
    amounts: Sequence[int]
    references: Sequence[str]
    counterparties: Sequence[str]
    txn_ids: Sequence[str]


def columns_of(lines: Iterable[LineIn]) -> LineColumns:
    cols = list(zip(*lines))
    return LineColumns(*cols) if cols else LineColumns((), (), (), (), (), ())


def _in_order(cols: LineColumns) -> LineColumns:
    """(booked, id) order; lines read by id that are also by day are taken as they are."""
    ids, booked = cols.ids, cols.booked
    if all(map(lt, ids, islice(ids, 1, None))) and all(map(le, booked, islice(booked, 1, None))):
        return cols
    order = sorted(range(len(ids)), key=list(zip(booked, ids)).__getitem__)
    return LineColumns(*(list(map(col.__getitem__, order)) for col in cols))


def _by_bank_txn(cols: LineColumns, entries: list[EntryIn]) -> tuple[list[Outcome],
                                                                       list[LineIn], set[int]]:
    """Rule bank_txn_id for every line at once (one hash join): (outcomes, lines left over,
    ids of the entries taken).

    An entry booked under the bank's transaction id is that line's whatever the other rules
    would say, so it is taken first; lines arrive in (booked, id) order and the first line
    naming an id takes its entry."""
    by_txn = dict(zip(map(_bank_ref_of, entries), entries))
    by_txn.pop("", None)
    if not by_txn:
        return [], list(map(_new_line_in, zip(*cols))), set()
    hits = list(map(by_txn.get, cols.txn_ids))   # "" is never a key: no id, no hit
    found = list(filter(None, hits))
    entry_ids = list(map(_id_of, found))
    taken = set(entry_ids)
    if len(taken) != len(entry_ids):                  # two lines name one id: the first has it
        seen: set[int] = set()
        for i, e in enumerate(hits):
            if e is not None and (e.id in seen or seen.add(e.id)):
                hits[i] = None
        found = list(filter(None, hits))
        entry_ids = list(map(_id_of, found))
        taken = set(entry_ids)
    left = list(map(not_, hits))
    rest = list(map(_new_line_in, zip(*(compress(col, left) for col in cols))))
    kinds = map(_KIND.__getitem__, map(eq, map(_amount_of, found),
                                       compress(cols.amounts, hits)))
    return list(map(_new_outcome, zip(kinds, compress(cols.ids, hits), entry_ids,
                                      repeat("bank_txn_id"), repeat("")))), rest, taken


def _norm(text: str) -> str:
    return normalise_reference(text)


def _name(text: str) -> str:
    return "".join((text or "").split()).lower()


def match(lines: list[LineIn] | LineColumns, entries: list[EntryIn], *, today: date,
          returnable: list[EntryIn] = (), grace_days: int = GRACE_DAYS,
          window_days: int = WINDOW_DAYS) -> list[Outcome]:
    """Outcomes for unmatched lines (LineIn, or LineColumns) and entries; returnable are
    payouts already matched that the bank may still send back."""
    cols = lines if isinstance(lines, LineColumns) else columns_of(lines)
    with gc_paused():
        return _match(cols, entries, today, returnable, grace_days, window_days)


def _match(cols, entries, today, returnable, grace_days, window_days) -> list[Outcome]:
    ordered = sorted(entries, key=_id_of)        # entries have distinct ids (ledger entries)
    all_by_ref: dict[str, list[EntryIn]] = {}
    for e in sorted([*returnable, *filter(attrgetter("reference"), ordered)], key=_id_of):
        if e.amount_fen < 0:
            all_by_ref.setdefault(_norm(e.reference), []).append(e)
    out, rest, taken = _by_bank_txn(_in_order(cols), ordered)
    if taken:
        ordered = list(compress(ordered, map(not_, map(taken.__contains__,
                                                           map(_id_of, ordered)))))
    free = dict(zip(map(_id_of, ordered), ordered))
    by_ref: dict[str, list[EntryIn]] = {}
    for e in free.values():
        if e.reference:
            by_ref.setdefault(_norm(e.reference), []).append(e)
    by_amount: dict[int, list[EntryIn]] = {}
    for e in free.values():
        by_amount.setdefault(e.amount_fen, []).append(e)

    for ln in rest:
        ref = _norm(ln.reference)
        same_ref = [c for c in by_ref.get(ref, []) if c.id in free] if ref else []
        same_sign = [c for c in same_ref if (c.amount_fen > 0) == (ln.amount_fen > 0)]
        if same_sign:
            exact = [c for c in same_sign if c.amount_fen == ln.amount_fen]
            e = (exact or same_sign)[0]
            free.pop(e.id, None)
            out.append(Outcome("matched" if exact else "amount_mismatch", ln.id, e.id,
                               "reference"))
            continue
        returned = [c for c in all_by_ref.get(ref, []) if ref and ln.amount_fen > 0
                    and c.amount_fen == -ln.amount_fen]
        if returned:
            out.append(Outcome("payout_return", ln.id, returned[0].id, "payout_return"))
            continue
        if ln.amount_fen > 0 and ln.reference:
            status = reference_status(ln.reference)
            if status == "ok":
                out.append(Outcome("confirm_receipt", ln.id, None, "funding_reference", ref))
                continue
            if status == "bad_check":
                out.append(Outcome("unmatched_line", ln.id, None, "", "bad_check_digits"))
                continue
        candidates = [c for c in by_amount.get(ln.amount_fen, []) if c.id in free
                      and abs((c.posted_on - ln.booked).days) <= window_days
                      and (not c.counterparty or not ln.counterparty
                           or _name(c.counterparty) == _name(ln.counterparty))]
        if candidates:
            e = min(candidates, key=lambda c: (abs((c.posted_on - ln.booked).days), c.id))
            free.pop(e.id, None)
            out.append(Outcome("matched", ln.id, e.id, "amount_date_counterparty"))
            continue
        out.append(Outcome("unmatched_line", ln.id, None, ""))
    for e in free.values():
        if (today - e.posted_on).days > grace_days:
            out.append(Outcome("unmatched_entry", None, e.id, ""))
    return out


def suggestions(amount_fen: int, booked: date, entries: list[EntryIn], *,
                window_days: int = 10, limit: int = 5) -> list[EntryIn]:
    """Entries a person might match a line to by hand: same amount, nearest dates first."""
    near = [e for e in entries if e.amount_fen == amount_fen
            and abs((e.posted_on - booked).days) <= window_days]
    return sorted(near, key=lambda e: (abs((e.posted_on - booked).days), e.id))[:limit]

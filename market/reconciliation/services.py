"""Matching a gateway's statement lines to its clearing account, and what the outcomes write.

load() reads what is still unmatched, matching.match() decides (pure), apply() writes matches,
exceptions and returned payouts in the caller's transaction. Funding receipts found by reference
are booked by the caller through the order lifecycle (market.reconciliation.jobs), then tied to
their line with tie().
"""
from __future__ import annotations

from datetime import date
from operator import itemgetter

from sqlalchemy import BigInteger, any_, bindparam, exists, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from market import db
from market.accounts.models import Organisation, User
from market.audit.services import record
from market.escrow.models import Payout, Receipt
from market.ledger.models import Account, Entry, Posting
from market.oversight.services import raise_alert
from market.reconciliation.matching import EntryIn, LineColumns, Outcome
from market.reconciliation.models import Match, ReconException, StatementLine
from market.reconciliation.payers import looks_like_individual
from market.settlement import batches


def _entry_in(entry_id: int, posted: date, amount: int, key: str, receipts: dict, payouts: dict,
              gateway: str) -> EntryIn:
    if key.startswith(f"receipt:{gateway}:"):
        r = receipts.get(key.split(":", 2)[2])
        # A card receipt is booked under its PaymentIntent: the reference Stripe's lines carry.
        ref = key.split(":", 2)[2]
        return EntryIn(entry_id, posted, amount, bank_ref=ref,
                       reference=ref if gateway == "stripe" else "",
                       counterparty=r.payer_name if r else "")
    if key.startswith("payout:"):
        p = payouts.get(key.split(":", 1)[1])
        return EntryIn(entry_id, posted, amount, reference=(p.external_id or "") if p else "")
    return EntryIn(entry_id, posted, amount)


def clearing_entries(gateway: str) -> list[EntryIn]:
    """Every entry that moved clearing:G, as the matcher sees it (+ in, − out)."""
    db.session.flush()   # the Core read below sees what this transaction has written
    rows = db.session.connection().execute(   # Core rows, no ORM loading: lines by the 100,000
        select(Entry.id, Entry.posted_at, Entry.idempotency_key, Posting.amount_fen)
        .join(Posting, Posting.entry_id == Entry.id)
        .join(Account, Account.id == Posting.account_id)
        .where(Account.code == f"clearing:{gateway}").order_by(Entry.id)).all()
    receipts = {r.bank_ref: r for r in db.session.scalars(
        select(Receipt).where(Receipt.gateway == gateway))}
    payouts = {str(p.id): p for p in db.session.scalars(select(Payout))}
    # Adjustments are tied to their line when posted; a reopening reverses one: neither is
    # money the statement will show.
    return [_entry_in(r.id, r.posted_at.date(), int(r.amount_fen), r.idempotency_key, receipts,
                      payouts, gateway) for r in rows
            if not r.idempotency_key.startswith(("recon-adjust:", "recon-reopen:"))]


def load(gateway: str) -> tuple[LineColumns, list[EntryIn], list[EntryIn]]:
    """(unmatched lines, unmatched entries, matched payouts that may come back)."""
    db.session.flush()   # the Core read below sees what this transaction has written
    rows = db.session.connection().execute(   # Core rows, no ORM loading: lines by the 100,000
        select(StatementLine.id, StatementLine.booking_date, StatementLine.amount_fen,
               StatementLine.reference, StatementLine.counterparty_name,
               StatementLine.bank_txn_id)
        .where(StatementLine.gateway == gateway,
               ~exists().where(Match.line_id == StatementLine.id))
        .order_by(StatementLine.id)).all()
    lines = LineColumns(*(list(map(itemgetter(i), rows))
                          for i in range(len(LineColumns._fields))))
    used = set(db.session.scalars(select(Match.entry_id).where(Match.gateway == gateway)))
    resolving = set(db.session.scalars(select(ReconException.resolution_entry_id).where(
        ReconException.resolution_entry_id.is_not(None))))
    entries = clearing_entries(gateway)
    free = [e for e in entries if e.id not in used and e.id not in resolving]
    returnable = [e for e in entries if e.id in used and e.reference and e.amount_fen < 0]
    return lines, free, returnable


def tie(gateway: str, line_id: int, entry_id: int, rule: str, actor: User | None,
        kind: str = "matched") -> Match:
    m = Match(gateway=gateway, kind=kind, line_id=line_id, entry_id=entry_id, rule=rule,
              matched_by_id=getattr(actor, "id", None))
    db.session.add(m)
    db.session.flush()
    return m


def open_exception(gateway: str, kind: str, subject: str, day: date, amount_fen: int, *,
                   line_id: int | None = None, entry_id: int | None = None,
                   receipt_id: int | None = None, detail: str = "") -> ReconException:
    """Open an exception once per (kind, subject): running a day again opens nothing new."""
    found = db.session.scalar(select(ReconException).where(
        ReconException.gateway == gateway, ReconException.kind == kind,
        ReconException.subject == subject))
    if found is not None:
        return found
    exc = ReconException(gateway=gateway, kind=kind, subject=subject, day=day,
                         amount_fen=amount_fen, line_id=line_id, entry_id=entry_id,
                         receipt_id=receipt_id, detail=detail)
    db.session.add(exc)
    db.session.flush()
    record("reconciliation.exception_opened", exc, changes={
        "kind": kind, "subject": subject, "amount_fen": amount_fen, "detail": detail})
    return exc


def _payout_id(entry_id: int) -> int | None:
    key = db.session.get(Entry, entry_id).idempotency_key
    return int(key.split(":", 1)[1]) if key.startswith("payout:") else None


def _return_payout(gateway: str, line: StatementLine, entry_id: int, actor: User | None) -> None:
    """The bank sent a payout back: Dr clearing / Cr payable, the payee told to fix its account
    (market.settlement.batches); the return line is tied to that reversing entry."""
    posted = batches.return_payout(_payout_id(entry_id),
                                   f"statement line {line.bank_txn_id}", actor)
    tie(gateway, line.id, posted, "payout_return", actor, kind="payout_return")


def apply(gateway: str, outcomes: list[Outcome], actor: User | None) -> list[Outcome]:
    """Write every outcome but funding receipts, which are returned for the lifecycle to book."""
    to_book: list[Outcome] = []
    matched = [o for o in outcomes if o.kind == "matched"]
    if matched:   # one statement for all of them: a large file has a match a line
        actor_id = getattr(actor, "id", None)
        db.session.execute(insert(Match), [
            {"gateway": gateway, "kind": "matched", "line_id": o.line_id, "entry_id": o.entry_id,
             "rule": o.rule, "matched_by_id": actor_id} for o in matched])
        # payout batch lines the statement shows paid
        for key in db.session.scalars(select(Entry.idempotency_key).where(
                Entry.id == any_(bindparam("ids", [o.entry_id for o in matched],
                                           type_=ARRAY(BigInteger))),
                Entry.idempotency_key.startswith("payout:"))):
            batches.mark_paid(int(key.split(":", 1)[1]))
    amounts: dict[int, int] = {}
    for o in outcomes:
        line = db.session.get(StatementLine, o.line_id) if o.line_id and o.kind != "matched" \
            else None
        if o.kind == "matched":
            continue
        elif o.kind == "payout_return":
            _return_payout(gateway, line, o.entry_id, actor)
        elif o.kind == "confirm_receipt":
            to_book.append(o)
        elif o.kind == "amount_mismatch":
            open_exception(gateway, o.kind, f"line:{line.id}", line.booking_date,
                           line.amount_fen, line_id=line.id, entry_id=o.entry_id, detail=o.rule)
        elif o.kind == "unmatched_line":
            open_exception(gateway, o.kind, f"line:{line.id}", line.booking_date,
                           line.amount_fen, line_id=line.id, detail=o.detail)
        elif o.kind == "unmatched_entry":
            entry = db.session.get(Entry, o.entry_id)
            if not amounts:
                amounts.update((e.id, e.amount_fen) for e in clearing_entries(gateway))
            amount = amounts[o.entry_id]
            open_exception(gateway, o.kind, f"entry:{entry.id}", entry.posted_at.date(), amount,
                           entry_id=entry.id, detail=entry.memo[:200])
    return to_book


def after_receipt(gateway: str, line: StatementLine, receipt: Receipt,
                  actor: User | None) -> None:
    """Tie a booked receipt to its line; an overpayment and a direct payment are noted."""
    entry = db.session.scalar(select(Entry).where(
        Entry.idempotency_key == f"receipt:{gateway}:{receipt.bank_ref}"))
    tie(gateway, line.id, entry.id, "funding_reference", actor)
    if receipt.suspense_fen:
        open_exception(gateway, "overpayment", f"line:{line.id}", line.booking_date,
                       receipt.suspense_fen, line_id=line.id, entry_id=entry.id,
                       receipt_id=receipt.id, detail=receipt.reference)
    request = receipt.funding_request
    payer = direct_payer(line.counterparty_name, line.party_kind)
    if payer is None or request is None:
        return
    kind, carrier = payer
    if carrier is not None and carrier.id == request.payer_org_id:
        return
    raise_alert("direct_payment", "warning", subject=f"recon_line:{line.id}",
                order_id=request.order_id, carrier_org_id=carrier.id if carrier else None,
                data={"line_id": line.id, "amount_fen": line.amount_fen, "payer_kind": kind,
                      "payer": line.counterparty_name, "account": line.counterparty_account})


def direct_payer(name: str, party_kind: str = "") -> tuple[str, Organisation | None] | None:
    """("carrier", org) for a registered carrier's name; ("individual", None) where the statement
    says the account is a private person's (camt PrvtId), or, when it says nothing, for a
    person's name (market.reconciliation.payers) that no organisation bears; else None."""
    name = (name or "").strip()
    if not name and party_kind != "person":
        return None
    carrier = db.session.scalar(select(Organisation).where(
        Organisation.name == name, Organisation.types.contains(["carrier"])).limit(1))
    if carrier is not None:
        return "carrier", carrier
    if party_kind:
        return ("individual", None) if party_kind == "person" else None
    if not looks_like_individual(name) or db.session.scalar(
            select(Organisation.id).where(Organisation.name == name).limit(1)) is not None:
        return None
    return "individual", None

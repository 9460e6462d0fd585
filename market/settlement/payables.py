"""Read side of payables: what the platform owes an organisation, its history, and why anything
owed or earned has not reached the organisation's bank account yet."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from market import db, ledger
from market.accounts.models import Organisation
from market.escrow import book
from market.escrow.models import FundingRequest, Movement, Payout, PayoutAccount
from market.orders.models import Order
from market.settlement.batches import on_its_way
from market.settlement.models import Settlement, SettlementLine
from market.settlement.payout_models import BankAccount, PayoutBatch, PayoutBatchLine
from market.web.i18n import date as format_date, money

HISTORY = 200
WAITING = ("funded", "in_transfer", "received")


@dataclass
class PayableItem:
    entry_id: int
    posted_at: object
    kind: str            # release | refund | payout | payout_returned | other
    amount_fen: int      # + owed to the organisation, − paid out
    order_id: int | None
    order_number: str | None
    memo: str


@dataclass
class PendingReason:
    code: str
    message: str
    amount_fen: int
    order_id: int | None = None
    order_number: str | None = None


@dataclass
class Payables:
    balance_fen: int
    items: list[PayableItem] = field(default_factory=list)
    pending_reasons: list[PendingReason] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"balance_fen": self.balance_fen,
                "items": [item_json(i) for i in self.items],
                "pending_reasons": [{"code": r.code, "message": r.message,
                                     "amount_fen": r.amount_fen, "order_id": r.order_id,
                                     "order_number": r.order_number}
                                    for r in self.pending_reasons]}


def payables(org_id: int) -> Payables:
    """The organisation's payable balance, its postings newest first, and what is pending."""
    code = book.payable_account(org_id)
    out = Payables(ledger.balance(code), _items(ledger.account_postings(code, limit=HISTORY)))
    out.pending_reasons = _reasons(org_id, out.balance_fen)
    return out


def _items(postings: list) -> list[PayableItem]:
    """PayableItems of ledger PostingLines of a payable account, in the order given."""
    ids = [p.entry_id for p in postings]
    movements = {m.entry_id: m for m in db.session.scalars(
        select(Movement).where(Movement.entry_id.in_(ids)))} if ids else {}
    orders = _orders({m.order_id for m in movements.values()})
    items = []
    for p in postings:
        m = movements.get(p.entry_id)
        amount = -p.amount_fen  # payable is credit-normal: a credit is money owed to the org
        kind = m.kind if m is not None else ("payout" if amount < 0 else "payout_returned"
                                             if p.idempotency_key.startswith("payout") else "other")
        order = orders.get(m.order_id) if m is not None else None
        items.append(PayableItem(p.entry_id, p.posted_at, kind, amount,
                                 order.id if order else None, order.number if order else None,
                                 p.memo))
    return items


# --- the payables change feed: one item per posting on the organisation's payable account ------

def feed_query(org_id: int):
    """A select of the Posting rows of the organisation's payable account (append-only rows)."""
    return ledger.postings_query(book.payable_account(org_id))


def balance(org_id: int) -> int:
    return ledger.balance(book.payable_account(org_id))


def feed_items(postings: list) -> list[dict]:
    """The feed's items: each posting as GET /payables lists it, with its own posting_id."""
    items = _items(ledger.posting_lines(postings))
    return [{"posting_id": p.id, **item_json(i)} for p, i in zip(postings, items)]


def item_json(i: PayableItem) -> dict:
    return {"entry_id": i.entry_id, "posted_at": i.posted_at.isoformat(), "kind": i.kind,
            "amount_fen": i.amount_fen, "order_id": i.order_id, "order_number": i.order_number}


def _last_bank_payout_returned(org_id: int) -> bool:
    """The bank sent the organisation's last bank payout back (market.settlement.batches)."""
    last = db.session.scalar(select(Payout).where(Payout.org_id == org_id,
                                                  Payout.gateway == "bank")
                             .order_by(Payout.id.desc()).limit(1))
    return last is not None and last.status == "failed"


def _in_batches(org_id: int) -> list[PendingReason]:
    """Payouts sent in a batch that the bank (or Stripe) has not yet shown as paid."""
    out = []
    for line, batch, payout in db.session.execute(
            select(PayoutBatchLine, PayoutBatch, Payout)
            .join(PayoutBatch, PayoutBatch.id == PayoutBatchLine.batch_id)
            .join(Payout, Payout.id == PayoutBatchLine.payout_id)
            .where(PayoutBatchLine.org_id == org_id, on_its_way())
            .order_by(PayoutBatchLine.id)):
        out.append(PendingReason(
            "in_batch", _("%(amount)s is in payout batch %(batch)d, sent on %(day)s; it "
                          "reaches your account within a few banking days.",
                          amount=money(line.amount_fen), batch=batch.id,
                          day=format_date(batch.sent_at)), line.amount_fen))
    return out


def _waiting(org_id: int, rest: int, gateway: str) -> PendingReason:
    """Why money in the payable has not left yet, and what the payee can do about it."""
    stripe = db.session.scalar(select(PayoutAccount.id).where(
        PayoutAccount.org_id == org_id, PayoutAccount.gateway == "stripe")) is not None
    account = db.session.scalar(select(BankAccount).where(BankAccount.org_id == org_id))
    verified = stripe or (account is not None and account.status == "verified")
    minimum = int(current_app.config["PAYOUT_MINIMUM_FEN"])
    if not verified and (_last_bank_payout_returned(org_id)
                         or (account is not None and account.status == "returned")):
        return PendingReason("payout_returned", _(
            "Your bank returned our last payout; %(amount)s waits until the bank account on "
            "file is corrected and verified.", amount=money(rest)), rest)
    if not verified and gateway == "stripe" and account is None:
        return PendingReason("no_payout_account", _(
            "%(amount)s waits for a payout account: add your organisation's account to be "
            "paid.", amount=money(rest)), rest)
    if account is None and not stripe:
        return PendingReason("no_verified_account", _(
            "%(amount)s waits for a bank account: your organisation's administrator adds it "
            "under Bank account, and a platform administrator verifies it.",
            amount=money(rest)), rest)
    if not verified and account.status == "rejected":
        return PendingReason("no_verified_account", _(
            "%(amount)s waits for a verified bank account: the one on file was not accepted "
            "(%(reason)s); correct it under Bank account.", amount=money(rest),
            reason=account.reason or ""), rest)
    if not verified:
        return PendingReason("no_verified_account", _(
            "%(amount)s waits until a platform administrator verifies your bank account "
            "%(number)s.", amount=money(rest), number=account.masked), rest)
    if rest < minimum:
        return PendingReason("below_minimum", _(
            "%(amount)s is below the payout minimum of %(minimum)s; it is paid out once the "
            "amount owed reaches it.", amount=money(rest), minimum=money(minimum)), rest)
    return PendingReason("awaiting_payout_batch", _(
        "%(amount)s awaits the next payout batch to your bank account.", amount=money(rest)),
        rest)


def _orders(ids) -> dict[int, Order]:
    ids = [i for i in ids if i is not None]
    return {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(ids)))} \
        if ids else {}


def _reasons(org_id: int, balance: int) -> list[PendingReason]:
    reasons: list[PendingReason] = _in_batches(org_id)
    if balance > 0:
        gateway = current_app.config["PAYMENT_GATEWAY"]
        pending = {method: sum(p.amount_fen for p in db.session.scalars(select(Payout).where(
            Payout.org_id == org_id, Payout.status == "pending", Payout.method == method)))
            for method in ("stripe_refund", "stripe_transfer")}
        if pending["stripe_refund"]:
            reasons.append(PendingReason(
                "payout_pending", _("%(amount)s is on its way back to the card it came from.",
                                    amount=money(pending["stripe_refund"])),
                pending["stripe_refund"]))
        rest = balance - sum(pending.values())
        if rest > 0:
            reasons.append(_waiting(org_id, rest, gateway))
    for row, order, retained in db.session.execute(
            select(Settlement, Order, SettlementLine.retained_fen)
            .join(Order, Order.id == Settlement.order_id)
            .join(SettlementLine, SettlementLine.settlement_id == Settlement.id)
            .where(SettlementLine.payee_org_id == org_id, SettlementLine.retained_fen > 0,
                   Settlement.retention_released_at.is_(None))
            .order_by(Order.id)):
        reasons.append(PendingReason(
            "retention_until_certificate",
            _("%(amount)s of order %(number)s is retained until the operator uploads the "
              "disposal certificate.", amount=money(retained), number=order.number),
            retained, order.id, order.number))
    for order, value in _held_for(org_id):
        reasons.append(PendingReason(
            "held_until_received",
            _("%(amount)s of order %(number)s is held in escrow until the waste is received "
              "and the order settled.", amount=money(value), number=order.number),
            value, order.id, order.number))
    for req, order in db.session.execute(
            select(FundingRequest, Order).join(Order, Order.id == FundingRequest.order_id)
            .where(FundingRequest.payer_org_id == org_id, FundingRequest.status == "open",
                   Order.status == "received")):
        due = max(req.amount_fen - book.escrow_state(order.id).funded.get(org_id, 0), 0)
        reasons.append(PendingReason(
            "topup_due", _("Order %(number)s waits for your top-up of %(amount)s before "
                           "anything is released.", number=order.number, amount=money(due)),
            due, order.id, order.number))
    return reasons


def _held_for(org_id: int) -> list[tuple[Order, int]]:
    """Orders not yet settled with value held in escrow for lines the organisation is paid."""
    out = []
    for order in db.session.scalars(select(Order).where(
            or_(Order.generator_id == org_id, Order.operator_id == org_id,
                Order.lines.any(payee_org_id=org_id)),
            Order.status.in_(WAITING)).order_by(Order.id)):
        state = book.escrow_state(order.id)
        if not state.funded:
            continue
        value = sum(t.value_fen - state.released_value.get(t.line_id, 0)
                    for t in book.terms_for(order) if t.payee_org_id == org_id)
        if value > 0:
            out.append((order, value))
    return out


def owed_organisations(limit: int = 200) -> list[tuple[int, str, int]]:
    """(org id, name, fen owed) of every organisation the platform owes money, largest first."""
    balances = {int(code.split(":", 1)[1]): fen
                for code, fen in ledger.balances("payable:").items() if fen > 0}
    if not balances:
        return []
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(list(balances)))).all())
    rows = sorted(((oid, names.get(oid, f"#{oid}"), fen) for oid, fen in balances.items()),
                  key=lambda r: (-r[2], r[0]))
    return rows[:limit]

"""Read side of escrow: who may see an order's money, and what the pages and the API show."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from market import db, ledger
from market.accounts.models import Organisation, User
from market.errors import NotFound
from market.escrow import book
from market.escrow.dispute_models import CancellationProposal, Dispute
from market.escrow.funding import due_fen, requests_of
from market.escrow.models import FundingRequest, Movement, Payment, Payout, Receipt, WebhookEvent
from market.escrow.policies import LineTerms
from market.orders.models import Order
from market.orders.queries import visible_order


def visible_dispute(user: User, dispute_id: int) -> Dispute:
    """A dispute on an order the user may see, or NotFound."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(_("No such dispute."))
    visible_order(user, dispute.order_id)
    return dispute


@dataclass
class LineView:
    terms: LineTerms
    kind: str
    released_value: int
    released_out: int

    @property
    def open_value(self) -> int:
        return self.terms.value_fen - self.released_value


@dataclass
class OrderMoney:
    """Everything the payment page shows about one order's escrow."""
    order: Order
    requests: list[tuple[FundingRequest, int, int]]  # (request, paid in, still due)
    lines: list[LineView]
    held: dict[int, int]
    escrow_fen: int
    fees_fen: int
    movements: list[Movement]
    payments: list[Payment]
    disputes: list[Dispute]
    proposal: CancellationProposal | None
    names: dict[int, str]

    def request_of(self, org_id: int | None) -> tuple[FundingRequest, int, int] | None:
        return next((r for r in self.requests if r[0].payer_org_id == org_id), None)


def order_money(order: Order) -> OrderMoney:
    """What the payment page shows: requests, lines, movements, disputes, a proposal."""
    state = book.escrow_state(order.id)
    terms = book.terms_for(order)
    kinds = {ln.id: ln.kind for ln in order.lines}
    reqs = [(r, state.funded.get(r.payer_org_id, 0), due_fen(r, state) if r.status == "open" else 0)
            for r in requests_of(order.id)]
    movements = list(db.session.scalars(select(Movement).where(Movement.order_id == order.id)
                                        .order_by(Movement.id)))
    payments = list(db.session.scalars(
        select(Payment).join(FundingRequest, FundingRequest.id == Payment.funding_request_id)
        .where(FundingRequest.order_id == order.id).order_by(Payment.id)))
    disputes = list(db.session.scalars(select(Dispute).where(Dispute.order_id == order.id)
                                       .order_by(Dispute.id.desc())))
    proposal = db.session.scalar(select(CancellationProposal).where(
        CancellationProposal.order_id == order.id, CancellationProposal.status == "open"))
    return OrderMoney(order, reqs,
                      [LineView(t, kinds[t.line_id], state.released_value.get(t.line_id, 0),
                                state.released_out.get(t.line_id, 0)) for t in terms],
                      state.held(terms), ledger.balance(book.escrow_account(order)), state.fees,
                      movements, payments, disputes, proposal,
                      org_names({order.generator_id, order.operator_id}
                                | {t.payee_org_id for t in terms}
                                | {t.payer_org_id for t in terms}))


def org_names(ids) -> dict[int, str]:
    """Organisation names by id."""
    ids = [i for i in ids if i is not None]
    return dict(db.session.execute(select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(ids))).all()) if ids else {}


@dataclass
class OrgMoney:
    """A payee's view across orders: held for it, released to it, and what awaits payout."""
    payable_fen: int
    escrowed: list[tuple[Order, int]]      # orders with value still held for the org's lines
    released_fen: int
    refunded_fen: int
    payouts: list[Payout]


ESCROW_STATUSES = ("funding", "funded", "in_transfer", "received", "settled", "disputed")


def org_money(org_id: int) -> OrgMoney:
    """An organisation's money across orders: held for it, released, refunded, payable."""
    orders = db.session.scalars(select(Order).where(
        or_(Order.generator_id == org_id, Order.operator_id == org_id),
        Order.status.in_(ESCROW_STATUSES)).order_by(Order.id.desc()).limit(200))
    escrowed = []
    for order in orders:
        state = book.escrow_state(order.id)
        if not state.funded:
            continue
        owed = sum(t.value_fen - state.released_value.get(t.line_id, 0)
                   for t in book.terms_for(order) if t.payee_org_id == org_id)
        if owed > 0:
            escrowed.append((order, owed))
    sums = dict(db.session.execute(select(Movement.kind, func.sum(Movement.amount_fen
                                                                  - Movement.fee_fen))
                                   .where(Movement.org_id == org_id,
                                          Movement.kind.in_(("release", "refund")))
                                   .group_by(Movement.kind)).all())
    payouts = list(db.session.scalars(select(Payout).where(Payout.org_id == org_id)
                                      .order_by(Payout.id.desc()).limit(50)))
    return OrgMoney(ledger.balance(book.payable_account(org_id)), escrowed,
                    int(sums.get("release") or 0), int(sums.get("refund") or 0), payouts)


# --- finance ------------------------------------------------------------------------------------

def awaiting_receipts(limit: int = 200) -> list[tuple[FundingRequest, Order, int]]:
    """Open funding requests with what is still due: the receipts finance should expect."""
    rows = db.session.execute(
        select(FundingRequest, Order).join(Order, Order.id == FundingRequest.order_id)
        .where(FundingRequest.status == "open").order_by(FundingRequest.id).limit(limit)).all()
    return [(req, order, due_fen(req)) for req, order in rows]


def suspense_items(limit: int = 200) -> list[Receipt]:
    """Receipts with money still in suspense, oldest first."""
    return list(db.session.scalars(select(Receipt).where(
        Receipt.suspense_cleared_fen < Receipt.suspense_fen).order_by(Receipt.id).limit(limit)))


def recent_receipts(limit: int = 50) -> list[Receipt]:
    """The latest receipts booked, newest first."""
    return list(db.session.scalars(select(Receipt).order_by(Receipt.id.desc()).limit(limit)))


def gateway_alerts(limit: int = 50) -> list[WebhookEvent]:
    """PSP events that raised an alert (refunds, chargebacks, unbookable payments)."""
    return list(db.session.scalars(select(WebhookEvent).where(WebhookEvent.status == "alerted")
                                   .order_by(WebhookEvent.id.desc()).limit(limit)))


def open_disputes(limit: int = 200) -> list[Dispute]:
    """Disputes awaiting an admin's decision, oldest first."""
    return list(db.session.scalars(select(Dispute).where(Dispute.status == "open")
                                   .order_by(Dispute.id).limit(limit)))


def finance_summary() -> dict[str, int]:
    """Counts for the finance dashboard."""
    count = func.count()
    return {
        "awaiting": db.session.scalar(select(count).select_from(FundingRequest)
                                      .where(FundingRequest.status == "open")) or 0,
        "suspense": db.session.scalar(select(count).select_from(Receipt).where(
            Receipt.suspense_cleared_fen < Receipt.suspense_fen)) or 0,
        "alerts": db.session.scalar(select(count).select_from(WebhookEvent)
                                    .where(WebhookEvent.status == "alerted")) or 0,
        "disputes": db.session.scalar(select(count).select_from(Dispute)
                                      .where(Dispute.status == "open")) or 0,
    }

"""Funding an order's escrow: asking each payer for its amount, booking the money that arrives.

contract_signed → funding opens one FundingRequest per payer (all lines at contract quantities);
every receipt, by bank or card, goes through book_receipt(): what is due goes to escrow, anything
more (or anything for an order no longer awaiting it) to suspense for finance; the order becomes
funded when every payer has paid in full. The order's moves (→ funding, → funded) are made by
market.orders.lifecycle around these steps. At settlement a received order whose escrow falls
short asks the payer for a top-up through the same request (ask_topup); the lifecycle settles the
order again once it is paid.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import Conflict
from market.escrow import book
from market.escrow.errors import NotAwaitingFunding, NothingToPay
from market.escrow.gateways import get_gateway
from market.escrow.models import FundingRequest, Payment, Receipt
from market.escrow.policies import funding_plan, make_reference
from market.ledger import post
from market.notifications.messages import as_money, message
from market.notifications.services import notify_org
from market.orders.models import Order


def requests_of(order_id: int) -> list[FundingRequest]:
    """The order's funding requests, one per payer."""
    return list(db.session.scalars(select(FundingRequest).where(FundingRequest.order_id == order_id)
                                   .order_by(FundingRequest.id)))


def ask_payers(order: Order) -> None:
    """Tell each payer of an order whose contract both parties just signed that paying into escrow
    is its next step, with the amount and a link to the payment page (bank details, reference)."""
    for payer_id, amount in sorted(funding_plan(book.terms_for(order)).items()):
        notify_org(payer_id, "escrow.payment_due",
                   message("Both parties signed order %(number)s: your next step is to pay %(amount)s "
                           "into escrow.", number=order.number, amount=as_money(amount)),
                   message("The payment page shows the bank details and the reference to quote."),
                   link=f"/orders/{order.id}/payment")


def open_requests(order: Order, actor: User | None = None) -> list[FundingRequest]:
    """Ask each payer of a locked order that just moved to funding for its amount (none for a
    zero-value order; market.orders.lifecycle then marks it funded at once)."""
    plan = funding_plan(book.terms_for(order))
    created = []
    for payer_id, amount in sorted(plan.items()):
        req = FundingRequest(order_id=order.id, payer_org_id=payer_id, amount_fen=amount,
                             reference=make_reference(order.number, payer_id == order.operator_id))
        db.session.add(req)
        created.append(req)
    db.session.flush()
    record("escrow.funding_opened", order, actor=actor, changes={
        "requests": {str(r.payer_org_id): {"amount_fen": r.amount_fen, "reference": r.reference}
                     for r in created}})
    for req in created:
        notify_org(req.payer_org_id, "escrow.funding_requested",
                   message("Please pay %(amount)s into escrow for order %(number)s.",
                           amount=as_money(req.amount_fen), number=order.number),
                   message("Quote the reference %(reference)s.", reference=req.reference),
                   link=f"/orders/{order.id}/payment")
    return created


def require_contract_signed(order: Order) -> None:
    """Funding is opened for an order with a signed contract only."""
    if order.status != "contract_signed":
        raise NotAwaitingFunding(_("Only an order with a signed contract can be funded."))


def due_fen(req: FundingRequest, state: book.EscrowState | None = None) -> int:
    """What the payer still owes on its funding request."""
    state = state or book.escrow_state(req.order_id)
    return max(req.amount_fen - state.funded.get(req.payer_org_id, 0), 0)


def check_payer(order: Order, actor: User) -> None:
    """The actor's organisation pays into this locked order's escrow now, or a refusal."""
    if topup_open(order, actor.org_id):
        return  # a received order takes money only for a top-up asked for at settlement
    if order.status not in ("contract_signed", "funding"):
        raise NotAwaitingFunding(_(
            "Order %(number)s is not awaiting funding; money is paid in after the contract "
            "is signed and before the order is funded.", number=order.number))
    if actor.org_id not in funding_plan(book.terms_for(order)):
        raise NothingToPay(_("Your organisation has nothing to pay on this order."))


def topup_open(order: Order, org_id: int | None) -> bool:
    """True when settlement asked this payer of a received order for a top-up not yet paid."""
    return order.status == "received" and db.session.scalar(select(FundingRequest.id).where(
        FundingRequest.order_id == order.id, FundingRequest.payer_org_id == org_id,
        FundingRequest.status == "open")) is not None


def payment_instructions(order: Order, actor: User) -> dict:
    """How the actor's organisation pays its open funding request (order locked, funding open)."""
    gateway = get_gateway()
    req = db.session.scalar(select(FundingRequest).where(
        FundingRequest.order_id == order.id, FundingRequest.payer_org_id == actor.org_id)
        .with_for_update())
    due = due_fen(req)
    out = gateway.instructions(amount_fen=due, reference=req.reference)
    if gateway.takes_cards and due > 0:
        payment = _open_payment(req, due, order, gateway)
        out.update(client_secret=payment.client_secret, payment_id=payment.external_id)
    out.update(order_id=order.id, status=order.status)
    return out


def _open_payment(req: FundingRequest, due: int, order: Order, gateway) -> Payment:
    """The card payment for what is due: reuse an open one for the same amount, else start one."""
    payments = list(db.session.scalars(select(Payment).where(
        Payment.funding_request_id == req.id).order_by(Payment.id)))
    for p in payments:
        if p.status == "created" and p.amount_fen == due:
            return p
    # Our own key per attempt: the PSP replays a retried create instead of charging twice.
    handle = gateway.create_payment(amount_fen=due, order_number=order.number,
                                    reference=req.reference,
                                    idempotency_key=f"pi:{req.id}:{len(payments) + 1}")
    payment = Payment(funding_request_id=req.id, gateway=gateway.name,
                      external_id=handle.external_id, client_secret=handle.client_secret,
                      amount_fen=due)
    db.session.add(payment)
    db.session.flush()
    record("escrow.payment_started", payment, changes={"order": order.number, "amount_fen": due,
                                                       "external_id": handle.external_id})
    return payment


def _same_receipt(r: Receipt, reference: str, amount_fen: int, received_on: date,
                  payer_name: str) -> bool:
    return (r.reference, r.amount_fen, r.received_on, r.payer_name) == \
        (reference, amount_fen, received_on, payer_name)


def book_receipt(*, gateway: str, reference: str, req: FundingRequest | None, amount_fen: int,
                 received_on: date, payer_name: str, bank_ref: str,
                 actor: User | None = None) -> tuple[Receipt, bool]:
    """Book money received (inside the caller's transaction, order locked); (receipt, replayed).

    The same bank_ref is booked once: a repeat with the same details returns the first receipt,
    with different details it is a 409.
    """
    existing = db.session.scalar(select(Receipt).where(Receipt.gateway == gateway,
                                                       Receipt.bank_ref == bank_ref))
    if existing is not None:
        if not _same_receipt(existing, reference, amount_fen, received_on, payer_name):
            raise Conflict(_("Bank reference %(ref)s is already booked with other details.",
                             ref=bank_ref), field="bank_ref", code="idempotency_conflict")
        return existing, True
    order = db.session.get(Order, req.order_id) if req is not None else None
    state = book.escrow_state(order.id) if order is not None else None
    due = due_fen(req, state) if req is not None else 0
    # A funding order awaits its money; a received one awaits a top-up asked for at settlement.
    awaiting = order is not None and order.status in ("funding", "received") \
        and req.status == "open"
    applied = min(amount_fen, due) if awaiting else 0
    excess = amount_fen - applied
    if req is None:
        status = "unmatched"
    elif excess:
        status = "excess"
    else:
        status = "funded" if applied == due else "partial"
    receipt = Receipt(gateway=gateway, reference=reference, amount_fen=amount_fen,
                      funding_request_id=req.id if req is not None else None,
                      received_on=received_on, payer_name=payer_name, bank_ref=bank_ref,
                      applied_fen=applied, suspense_fen=excess, status=status,
                      confirmed_by_id=getattr(actor, "id", None))
    db.session.add(receipt)
    db.session.flush()
    key = f"receipt:{gateway}:{bank_ref}"
    lines = [(f"clearing:{gateway}", amount_fen), (f"suspense:{gateway}", -excess)]
    memo = f"receipt {bank_ref} ref {reference[:60]} from {payer_name[:60]}"
    if applied:
        lines.append((book.escrow_account(order), -applied))
        book.post_movement(key=key, kind="fund", lines=lines, memo=memo, order=order,
                           amount_fen=applied, org_id=req.payer_org_id, receipt_id=receipt.id,
                           actor=actor)
    else:
        post([ln for ln in lines if ln[1]], key, memo)
    record("escrow.receipt_booked", receipt, actor=actor, changes={
        "gateway": gateway, "reference": reference, "amount_fen": amount_fen,
        "applied_fen": applied, "suspense_fen": excess, "status": status,
        "order": order.number if order else None})
    if applied and applied == due:
        mark_paid(req)
    return receipt, False


def ask_topup(order: Order, payer_org_id: int, short_fen: int,
              actor: User | None = None) -> FundingRequest:
    """Ask a payer of a received order (locked) for short_fen more: settlement found the escrow
    short. Reuses the payer's funding request and reference; asking again for the same shortfall
    changes nothing."""
    state = book.escrow_state(order.id)
    req = db.session.scalar(select(FundingRequest).where(
        FundingRequest.order_id == order.id, FundingRequest.payer_org_id == payer_org_id)
        .with_for_update())
    amount = state.funded.get(payer_org_id, 0) + short_fen
    if req is None:
        req = FundingRequest(order_id=order.id, payer_org_id=payer_org_id, amount_fen=amount,
                             reference=make_reference(order.number,
                                                      payer_org_id == order.operator_id))
        db.session.add(req)
    elif req.amount_fen == amount and req.status == "open":
        return req
    req.amount_fen, req.status, req.paid_at = amount, "open", None
    db.session.flush()
    record("escrow.topup_requested", order, actor=actor, changes={
        "payer_org_id": payer_org_id, "topup_fen": short_fen, "reference": req.reference})
    notify_org(payer_org_id, "escrow.topup_requested",
               message("Please pay %(amount)s more into escrow for order %(number)s: more waste was "
                       "accepted than was paid for.", amount=as_money(short_fen), number=order.number),
               message("Quote the reference %(reference)s.", reference=req.reference),
               link=f"/orders/{order.id}/payment")
    return req


def mark_paid(req: FundingRequest) -> None:
    """The payer paid its request in full; market.orders.lifecycle marks the order funded once
    every request is paid (fully_paid)."""
    req.status, req.paid_at = "paid", utcnow()


def fully_paid(order: Order) -> bool:
    """True when an order awaiting funding has every funding request paid."""
    reqs = requests_of(order.id)
    return order.status == "funding" and bool(reqs) and all(r.status == "paid" for r in reqs)


def announce_funded(order: Order, actor: User | None) -> None:
    """The order just became funded: audit and tell both parties."""
    record("order.funded", order, actor=actor, changes={"total_fen": sum(
        r.amount_fen for r in requests_of(order.id))})
    for org_id in (order.generator_id, order.operator_id):
        notify_org(org_id, "escrow.funded",
                   message("Order %(number)s is funded: the money is held in escrow.",
                           number=order.number), link=f"/orders/{order.id}/payment")

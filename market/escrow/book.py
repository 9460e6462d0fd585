"""Posting escrow movements to the ledger, and reading an order's escrow state back.

Every money write of escrow goes through post_movement(): it replays a known key, posts the ledger
entry and records the Movement in the caller's transaction. Callers hold the order's row lock
(lock_order) first, then the ledger locks its accounts in code order, so concurrent writers on one
order queue on the order row and writers on different orders never wait in a cycle.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db, ledger
from market.errors import NotFound
from market.escrow.models import Movement
from market.escrow.policies import LineTerms, fee_bps_for, line_terms
from market.ledger import IdempotencyConflict
from market.orders.models import Order


def escrow_account(order: Order) -> str:
    """The ledger account holding this order's money."""
    return f"escrow:{order.number}"


def payable_account(org_id: int) -> str:
    """The ledger account of what the platform owes an organisation."""
    return f"payable:{org_id}"


def lock_order(order_id: int) -> Order:
    """The order under its row lock, freshly read (NotFound when it does not exist)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update(of=Order)
                              .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(_("No such order."))
    return order


def fee_bps(order: Order) -> int:
    """The platform fee rate for this order's waste category, in basis points."""
    cfg = current_app.config
    return fee_bps_for(order.category_code, cfg["PLATFORM_FEE_BPS"],
                       cfg["PLATFORM_FEE_BPS_BY_CATEGORY"])


def terms_for(order: Order) -> list[LineTerms]:
    """The payment terms of every line of the order, in line order."""
    bps = fee_bps(order)
    return [line_terms(line_id=ln.id, kind=ln.kind, amount_fen=ln.amount_fen,
                       payee_org_id=ln.payee_org_id, generator_id=order.generator_id,
                       operator_id=order.operator_id, fee_bps=bps) for ln in order.lines]


@dataclass
class EscrowState:
    """An order's escrow as its movements tell it (the ledger's escrow balance is the total)."""
    funded: dict[int, int] = field(default_factory=dict)          # payer org → fen paid in
    refunded: dict[int, int] = field(default_factory=dict)        # payer org → fen refunded
    released_value: dict[int, int] = field(default_factory=dict)  # line → value released
    released_out: dict[int, int] = field(default_factory=dict)    # line → fen out of escrow
    payee_fen: dict[int, int] = field(default_factory=dict)       # payee org → fen released
    fees: int = 0

    def held(self, terms: list[LineTerms]) -> dict[int, int]:
        """Per payer: paid in, less refunds, less what left escrow for the lines it pays."""
        out = dict(self.funded)
        for org_id, fen in self.refunded.items():
            out[org_id] = out.get(org_id, 0) - fen
        for t in terms:
            out[t.payer_org_id] = out.get(t.payer_org_id, 0) - self.released_out.get(t.line_id, 0)
        return out

    def total_held(self) -> int:
        return (sum(self.funded.values()) - sum(self.refunded.values())
                - sum(self.released_out.values()))


def escrow_state(order_id: int) -> EscrowState:
    """Sum the order's movements by kind, payer and line."""
    state = EscrowState()
    rows = db.session.execute(
        select(Movement.kind, Movement.org_id, Movement.line_id, func.sum(Movement.amount_fen),
               func.sum(Movement.value_fen), func.sum(Movement.fee_fen))
        .where(Movement.order_id == order_id)
        .group_by(Movement.kind, Movement.org_id, Movement.line_id))
    for kind, org_id, line_id, amount, value, fee in rows:
        amount, value, fee = int(amount), int(value), int(fee)
        if kind == "fund":
            state.funded[org_id] = state.funded.get(org_id, 0) + amount
        elif kind == "refund":
            state.refunded[org_id] = state.refunded.get(org_id, 0) + amount
        elif kind == "release":
            state.released_value[line_id] = state.released_value.get(line_id, 0) + value
            state.released_out[line_id] = state.released_out.get(line_id, 0) + amount
            state.payee_fen[org_id] = state.payee_fen.get(org_id, 0) + amount - fee
            state.fees += fee
    return state


def find_movement(key: str) -> Movement | None:
    """The movement posted under an idempotency key, if any."""
    return db.session.scalar(select(Movement).where(Movement.key == key))


def replay(key: str, **expected) -> Movement | None:
    """The movement already posted under key (same request), None if new; 409 if different."""
    found = find_movement(key)
    if found is None:
        return None
    if any(getattr(found, name) != value for name, value in expected.items()):
        raise IdempotencyConflict(key, found.entry_id)
    return found


def post_movement(*, key: str, kind: str, lines: list[tuple[str, int]], memo: str,
                  order: Order | None, amount_fen: int, value_fen: int | None = None,
                  fee_fen: int = 0, line_id: int | None = None, org_id: int | None = None,
                  receipt_id: int | None = None, dispute_id: int | None = None,
                  actor=None) -> Movement:
    """Post one balanced entry (zero legs dropped) and record why, under one key."""
    legs = [(code, fen) for code, fen in lines if fen != 0]
    entry = ledger.post(legs, key, memo)
    movement = Movement(key=key, kind=kind, order_id=order.id if order is not None else None,
                        line_id=line_id, org_id=org_id, amount_fen=amount_fen,
                        value_fen=amount_fen if value_fen is None else value_fen, fee_fen=fee_fen,
                        receipt_id=receipt_id, dispute_id=dispute_id, entry_id=entry.id,
                        actor_user_id=getattr(actor, "id", None), memo=memo)
    db.session.add(movement)
    db.session.flush()
    return movement

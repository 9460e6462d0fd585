"""Read side of settlement: what arrived, whether an order may settle, what it settled at."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from market import db, ledger
from market.escrow import book
from market.escrow.models import Movement
from market.manifests import queries as manifests
from market.orders.models import Order
from market.settlement.models import Settlement


def settlement_of(order_id: int, *, lock: bool = False) -> Settlement | None:
    stmt = select(Settlement).where(Settlement.order_id == order_id)
    return db.session.scalar(stmt.with_for_update() if lock else stmt)


def accepted_kg(order_id: int) -> int:
    """Received − refused over the order's received manifests (refused kg are not paid)."""
    return manifests.accepted_kg(order_id)


def ready_to_settle(order: Order) -> bool:
    """Received, every manifest in, no discrepancy holding it (open or at the dispute desk)."""
    return (order.status == "received" and manifests.all_received(order.id)
            and not manifests.open_discrepancies(order.id))


@dataclass
class LineSettlement:
    line_id: int
    kind: str
    payee_org_id: int
    amount_fen: int      # the line's settled value
    fee_fen: int
    retained_fen: int
    released_fen: int    # value released so far


@dataclass
class SettlementView:
    """What GET /orders/{id}/settlement and the order page show."""
    status: str          # pending | topup_due | settled | closed (the order's money, not a row)
    funded_fen: int
    refunded_fen: int
    escrow_fen: int
    topup_fen: int
    accepted_kg: int | None
    retained_fen: int
    certificate: bool
    lines: list[LineSettlement]

    def as_json(self) -> dict:
        return {"status": self.status, "funded_fen": self.funded_fen,
                "refunded_fen": self.refunded_fen, "escrow_fen": self.escrow_fen,
                "topup_fen": self.topup_fen, "accepted_kg": self.accepted_kg,
                "retained_fen": self.retained_fen, "certificate_uploaded": self.certificate,
                "lines": [{"line_id": ln.line_id, "kind": ln.kind,
                           "payee_org_id": ln.payee_org_id, "amount_fen": ln.amount_fen,
                           "fee_fen": ln.fee_fen, "retained_fen": ln.retained_fen,
                           "released_fen": ln.released_fen} for ln in self.lines]}


def settlement_view(order: Order) -> SettlementView:
    """The order's settlement, or (before it) its lines as contracted with nothing released."""
    state = book.escrow_state(order.id)
    row = settlement_of(order.id)
    if row is not None:
        lines = [LineSettlement(sl.line_id, sl.kind, sl.payee_org_id, sl.value_fen, sl.fee_fen,
                                sl.retained_fen if row.retention_released_at is None else 0,
                                state.released_value.get(sl.line_id, 0)) for sl in row.lines]
    else:
        lines = [LineSettlement(t.line_id, t.kind, t.payee_org_id, t.value_fen, t.fee_fen, 0,
                                state.released_value.get(t.line_id, 0))
                 for t in book.terms_for(order)]
    status = "pending" if row is None else row.status
    if order.status == "closed":
        status = "closed"
    return SettlementView(
        status=status, funded_fen=sum(state.funded.values()),
        refunded_fen=sum(state.refunded.values()),
        escrow_fen=ledger.balance(book.escrow_account(order)),
        topup_fen=row.topup_fen if row is not None and row.status == "topup_due" else 0,
        accepted_kg=row.accepted_kg if row is not None else None,
        retained_fen=sum(ln.retained_fen for ln in lines),
        certificate=row is not None and row.certificate_file is not None, lines=lines)


def paid_out(order: Order) -> bool:
    """Every release and refund of the order has left the platform (first in, first out per
    organisation) and its escrow is empty: the order may close."""
    if ledger.balance(book.escrow_account(order)):
        return False
    movements = db.session.execute(
        select(Movement.org_id, Movement.entry_id, Movement.amount_fen - Movement.fee_fen)
        .where(Movement.order_id == order.id, Movement.kind.in_(("release", "refund")))).all()
    covered: dict[int, set[int]] = {}
    for org_id, entry_id, credited in movements:
        if credited <= 0:
            continue
        if org_id not in covered:
            covered[org_id] = ledger.paid_out_credits(book.payable_account(org_id))
        if entry_id not in covered[org_id]:
            return False
    return True


def closable_orders(org_id: int) -> list[int]:
    """Ids of settled or resolved orders in which the organisation was paid or refunded."""
    return list(db.session.scalars(
        select(Order.id).join(Movement, Movement.order_id == Order.id)
        .where(Movement.org_id == org_id, Movement.kind.in_(("release", "refund")),
               Order.status.in_(("settled", "resolved"))).distinct().order_by(Order.id)))

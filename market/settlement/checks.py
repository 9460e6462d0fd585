"""The independent check after settlement (三流合一, DESIGN.md §8): the money released for the
disposal line equals unit price × the kilograms the manifests say were accepted.

It reads the manifests' weights and the escrow movements afresh, not the settlement row, so a
mistake in the settlement's own arithmetic (or a release posted by hand) shows up as an alert.
"""
from __future__ import annotations

from market import db
from market.escrow import book
from market.jobs import job
from market.money import line_amount_fen
from market.oversight.services import raise_alert
from market.orders.models import Order
from market.settlement import queries
from market.settlement.policies import amount_matches
from market.uow import transaction

SETTLED_AMOUNT_MISMATCH = "settled_amount_mismatch"


@job(queue="default", retries=3)
def check_settlement(order_id: int) -> str:
    """Compare the disposal line's released (and retained) value with price × accepted kg."""
    with transaction():
        order = db.session.get(Order, order_id)
        row = queries.settlement_of(order_id) if order is not None else None
        line = order.line("disposal") if order is not None else None
        if row is None or row.status != "settled" or line is None:
            return "skipped"
        accepted = queries.accepted_kg(order_id)
        released = book.escrow_state(order_id).released_value.get(line.id, 0)
        retained = 0 if row.retention_released_at is not None else sum(
            sl.retained_fen for sl in row.lines if sl.line_id == line.id)
        settled = (released + retained) * (-1 if line.unit_price_fen_per_t < 0 else 1)
        if amount_matches(settled, line.unit_price_fen_per_t, accepted, line.minimum_fen):
            return "ok"
        raise_alert(SETTLED_AMOUNT_MISMATCH, "critical", subject=f"order:{order.id}", order_id=order.id,
                    data={"order": order.number, "unit_price_fen_per_t":
                          line.unit_price_fen_per_t, "accepted_kg": accepted,
                          "settled_fen": settled,
                          "expected_fen": line_amount_fen(line.unit_price_fen_per_t, accepted)})
        return "alert"

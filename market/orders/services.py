"""The orders context's own steps: numbering, creating an order, moving it through its state
table, marking it cancelled. Helpers inside the caller's transaction; the use cases that sequence
an order's life across contexts live in market.orders.lifecycle, above every context."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, text

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied
from market.listings import capacity
from market.listings.validation import today
from market.money import line_amount_fen
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.orders import state
from market.orders.models import Order, OrderLine


def next_number() -> str:
    """HX + year + serial, e.g. HX2026000123; the serial comes from a database sequence."""
    serial = db.session.scalar(text("SELECT nextval('trade_order_number_seq')"))
    return f"HX{today().year}{serial:06d}"


def actor_role(order: Order, actor: User) -> str | None:
    """The actor's role on this order (DESIGN.md §1), or None when the order is not theirs."""
    if actor.platform_role in ("admin", "finance"):
        return actor.platform_role
    if actor.org_id == order.generator_id:
        return "generator"
    if actor.org_id == order.operator_id:
        return "operator"
    return None


def create_order(*, actor: User, generator_id: int, operator_id: int, licence_item_id: int,
                year: int, category_code: str, waste_code: str | None, quantity_kg: int,
                region_code: str, address: str, unit_price_fen_per_t: int, transport_fee_fen: int,
                subject_to_sampling: bool = False, request_id: int | None = None,
                quote_id: int | None = None, offer_id: int | None = None,
                booking_id: int | None = None, minimum_fen: int | None = None) -> Order:
    """Create the order (status created), its lines and its capacity reservation inside the
    caller's transaction; market.orders.lifecycle routes it on.

    The caller holds capacity.lock_item(licence_item_id) and has checked the match; reserve()
    checks the remaining capacity again under that lock and raises CapacityExhausted.
    A collection booking's order (booking_id) carries the round's minimum charge on its disposal
    line: it costs max(minimum, unit price × kg).
    """
    order = Order(number=next_number(), request_id=request_id, quote_id=quote_id, offer_id=offer_id,
                  booking_id=booking_id, generator_id=generator_id, operator_id=operator_id,
                  licence_item_id=licence_item_id, created_by_id=actor.id,
                  category_code=category_code, waste_code=waste_code, quantity_kg=quantity_kg,
                  region_code=region_code, address=address, subject_to_sampling=subject_to_sampling,
                  status="created")
    amount = line_amount_fen(unit_price_fen_per_t, quantity_kg)
    order.lines.append(OrderLine(kind="disposal", payee_org_id=operator_id,
                                 unit_price_fen_per_t=unit_price_fen_per_t, quantity_kg=quantity_kg,
                                 amount_fen=max(amount, minimum_fen) if minimum_fen else amount,
                                 minimum_fen=minimum_fen))
    if transport_fee_fen > 0:
        # The operator transports unless a separate carrier is engaged later (then the payee moves).
        order.lines.append(OrderLine(kind="transport", payee_org_id=operator_id,
                                     unit_price_fen_per_t=None, quantity_kg=quantity_kg,
                                     amount_fen=transport_fee_fen))
    db.session.add(order)
    db.session.flush()
    reservation = capacity.reserve(licence_item_id, year, quantity_kg, order.id)
    record("order.created", order, actor=actor, changes={
        "number": order.number,
        "source": "quote" if quote_id else "booking" if booking_id else "offer",
        "quote_id": quote_id, "offer_id": offer_id, "booking_id": booking_id, "request_id": request_id,
        "generator_id": generator_id, "operator_id": operator_id, "quantity_kg": quantity_kg,
        "unit_price_fen_per_t": unit_price_fen_per_t, "transport_fee_fen": transport_fee_fen,
        "total_fen": order.total_fen})
    record("capacity.reserved", reservation, actor=actor, changes={
        "licence_item_id": licence_item_id, "year": year, "kg": quantity_kg, "order": order.number})
    return order


def order_for_party(actor: User, order_id: int, *, lock: bool = False) -> tuple[Order, str]:
    """The order and the actor's role on it; an order of other organisations is a 404."""
    stmt = select(Order).where(Order.id == order_id)
    order = db.session.scalar(stmt.with_for_update(of=Order) if lock else stmt)
    role = actor_role(order, actor) if order is not None else None
    if role is None:
        raise NotFound(_("No such order."))
    return order, role


def transition(order: Order, to: str, role: str) -> None:
    """Move an order through the state table, refusing transitions or actors it does not list."""
    problem = state.problem(order.status, to, role)
    if problem == "invalid_transition":
        raise InvalidState(_("An order that is %(frm)s cannot become %(to)s.",
                             frm=_(order.status), to=_(to)), code="invalid_transition")
    if problem == "actor_not_allowed":
        raise PermissionDenied(_("You may not move this order from %(frm)s to %(to)s.",
                                 frm=_(order.status), to=_(to)), code="actor_not_allowed")
    order.status = to


def mark_cancelled(order: Order, actor: User | None, role: str, reason: str = "", *, refunded: int = 0,
                   by_agreement: bool = False) -> None:
    """Cancel a locked order whose escrow is already empty and release its capacity (inside the
    caller's transaction; market.orders.lifecycle.cancel_order refunds and withdraws first).
    actor None: the system (a lapsed collection booking)."""
    frm = order.status
    transition(order, "cancelled", role)
    order.cancelled_at = utcnow()
    order.cancel_reason = (reason or "").strip()[:1000] or None
    reservation = capacity.release(order.id)
    record("order.cancelled", order, actor=actor, changes={
        "from": frm, "reason": order.cancel_reason, "refund": state.cancel_refunds(frm),
        "refunded_fen": refunded, "by_agreement": by_agreement})
    if reservation is not None:
        record("capacity.released", reservation, actor=actor,
               changes={"licence_item_id": reservation.licence_item_id,
                        "year": reservation.year, "kg": reservation.kg, "order": order.number})
    title = message("Order %(number)s was cancelled.", number=order.number)
    for org_id in (order.generator_id, order.operator_id):
        if org_id != getattr(actor, "org_id", None):
            notify_org(org_id, "order.cancelled", title, verbatim(order.cancel_reason),
                       link=f"/orders/{order.id}")

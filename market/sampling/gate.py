"""The result gate: after the report, the operator confirms the unit price or declines.

Steps inside the caller's transaction with the trade order locked; market.orders.lifecycle
sequences them with the order's moves (on to the contract, or cancelled).

A confirmed, unchanged price sends the order straight to the contract. A changed price waits for
the generator, who accepts it (on to the contract) or rejects it (the order is cancelled). A
decline cancels the order. Whatever happens, the lab has done its work: its fee stays payable.
"""
from __future__ import annotations

from flask_babel import gettext as _

from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, PermissionDenied, ValidationFailed
from market.listings import validation as v
from market.money import line_amount_fen
from market.notifications.messages import message
from market.notifications.services import notify_org
from market.orders.models import Order
from market.sampling.models import SamplingOrder
from market.sampling.queries import for_order, live_for_order
from market.sampling.services import move


def _reported(order: Order) -> SamplingOrder:
    so = live_for_order(order.id, lock=True)
    if so is None or so.status != "reported":
        raise InvalidState(_("The price is decided once the lab has reported its results."),
                           code="not_reported")
    return so


def _close(so: SamplingOrder, decision: str) -> None:
    move(so, "closed", "system")
    so.closed_at = so.price_decided_at = utcnow()
    so.price_decision = decision


def confirm(order: Order, actor: User, price: int) -> SamplingOrder:
    """The operator's confirmed unit price, after the results (order locked and already moved to
    price_confirmed by market.orders.lifecycle.confirm_price); may differ from the quote.

    A changed price waits for the generator (told here); an unchanged one goes on to the contract.
    """
    so = _reported(order)
    disposal = order.line("disposal")
    old = disposal.unit_price_fen_per_t
    changed = price != old
    _close(so, "changed" if changed else "confirmed")
    so.confirmed_price_fen_per_t = price
    if changed:
        disposal.unit_price_fen_per_t = price
        disposal.amount_fen = line_amount_fen(price, disposal.quantity_kg)
    record("order.price_confirmed", order, actor=actor, changes={
        "sampling": so.number, "unit_price_fen_per_t": [old, price],
        "disposal_amount_fen": disposal.amount_fen, "changed": changed})
    if changed:
        notify_org(order.generator_id, "order.price_changed",
                   message("After the sampling test the operator changed the price of %(number)s; "
                           "accept or reject it.", number=order.number),
                   link=f"/orders/{order.id}/sampling")
    else:
        notify_org(order.generator_id, "order.price_confirmed",
                   message("The operator confirmed the price of %(number)s; the contract is being "
                           "prepared.", number=order.number), link=f"/orders/{order.id}/contract")
    return so


def decline(order: Order, role: str, actor: User, reason: str) -> SamplingOrder:
    """The operator declines after the results (order locked); the lab's fee stays due.
    market.orders.lifecycle.decline_price then cancels the order and tells the lab."""
    if role != "operator":
        raise PermissionDenied(_("Only the operator decides on the price after the results."),
                               code="actor_not_allowed")
    reason = v.text(reason, "decline", 1000, required=True)
    so = _reported(order)
    _close(so, "declined")
    so.decline_reason = reason
    record("order.declined_after_sampling", order, actor=actor, changes={
        "sampling": so.number, "reason": reason, "lab_fee_status": so.fee_status})
    return so


def respond(order: Order, role: str, actor: User, *, accept: bool,
            reason: str = "") -> tuple[SamplingOrder, str]:
    """The generator's answer to a changed price (order locked): (sampling order, reason).

    market.orders.lifecycle.respond_to_price moves the order on (accepted) or cancels it with the
    reason returned here (rejected).
    """
    if role != "generator":
        raise PermissionDenied(_("Only the generator answers a changed price."),
                               code="actor_not_allowed")
    so = next((s for s in reversed(for_order(order.id)) if s.status == "closed"), None)
    if order.status != "price_confirmed" or so is None or so.price_decision != "changed" \
            or so.generator_response is not None:
        raise InvalidState(_("There is no changed price awaiting your answer on this order."),
                           code="no_price_change")
    reason = v.text(reason, "reason", 1000)
    so.generator_response = "accepted" if accept else "rejected"
    so.generator_responded_at, so.generator_reason = utcnow(), reason or None
    record("order.price_accepted" if accept else "order.price_rejected", order, actor=actor,
           changes={"sampling": so.number, "unit_price_fen_per_t": so.confirmed_price_fen_per_t,
                    "reason": reason or None})
    if accept:
        notify_org(order.operator_id, "order.price_accepted",
                   message("%(org)s accepted the new price of %(number)s; the contract is being prepared.",
                           org=actor.org.name, number=order.number), link=f"/orders/{order.id}/contract")
        return so, reason
    return so, reason or _("The generator rejected the changed price.")


def tell_lab(so: SamplingOrder, order: Order) -> None:
    """The order was cancelled after the lab's report: its fee remains payable."""
    notify_org(so.lab_id, "sampling.order_cancelled",
               message("Order %(number)s was cancelled after your report; your fee for %(sampling)s "
                       "remains payable.", number=order.number, sampling=so.number),
               link=f"/sampling/{so.id}")


def parse_price_body(body: dict) -> tuple[str, object]:
    """('confirm', price) or ('decline', reason) from {unit_price_fen_per_t} or {decline}."""
    has_price, has_decline = body.get("unit_price_fen_per_t") is not None, body.get("decline") is not None
    if has_price == has_decline:
        raise ValidationFailed(_("Send either unit_price_fen_per_t or decline (a reason), not both."),
                               field="unit_price_fen_per_t")
    return ("confirm", body["unit_price_fen_per_t"]) if has_price else ("decline", body["decline"])

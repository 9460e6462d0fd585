"""Use cases of quotes: submit, withdraw, reject and accept (the award that creates the order).

Lock order, everywhere: the request row, then its quote rows, then the licence item row. Every use
case touching a quote locks its request first, so quote locks never interleave, and an award holds
the licence item last, so two awards on one item simply queue.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings import capacity
from market.listings import validation as v
from market.listings.explain import rule_message
from market.listings.matching import Exclusion
from market.listings.models import DisposalRequest, Quote
from market.listings.queries import judge_operator, request_facts
from market.listings.state import quote_problem
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.orders.models import Order
from market.orders.services import create_order
from market.prices.checks import own_history, require_tariff, watch_price
from market.uow import transaction
from market.web.i18n import date as shown_date


def _lock_request(request_id: int) -> DisposalRequest | None:
    return db.session.scalar(select(DisposalRequest).where(DisposalRequest.id == request_id)
                             .with_for_update().execution_options(populate_existing=True))


def _lock_quote(quote_id: int) -> Quote:
    return db.session.scalar(select(Quote).where(Quote.id == quote_id)
                             .with_for_update().execution_options(populate_existing=True))


def _move(quote: Quote, to: str, role: str) -> None:
    problem = quote_problem(quote.status, to, role)
    if problem:
        raise InvalidState(_("This quote is %(s)s and can no longer be %(to)s.",
                             s=_(quote.status), to=_(to)), code=f"quote_{quote.status}")
    quote.status, quote.decided_at = to, utcnow()


def _refuse(exclusion: Exclusion, error=PermissionDenied):
    raise error(rule_message(exclusion.rule, exclusion.params), code=exclusion.rule)


def submit_quote(actor: User, request_id: int, *, unit_price_fen_per_t: int,
                 transport_fee_fen: int = 0, valid_until: date, subject_to_sampling: bool = False,
                 note: str = "") -> Quote:
    """Quote on an open request the operator currently matches (negative prices allowed)."""
    with transaction():
        v.require_verified(actor, "operator")
        req = _lock_request(request_id)
        if req is None or req.status == "draft":
            raise NotFound(_("No such request."))
        if req.generator_id == actor.org_id:
            raise PermissionDenied(_("You cannot quote on your own request."))
        if req.status != "open":
            raise InvalidState(_("This request is %(s)s and takes no more quotes.", s=_(req.status)))
        price = v.money_fen(unit_price_fen_per_t, "unit_price_fen_per_t")
        require_tariff(req.category_code, [req.region_code], price)
        fee = v.money_fen(transport_fee_fen, "transport_fee_fen", negative=False)
        valid_until = v.a_date(valid_until, "valid_until")
        if valid_until < v.today():
            raise ValidationFailed(_("A quote must be valid at least until today."), field="valid_until")
        note = v.text(note, "note", 2000)
        if db.session.scalar(select(Quote.id).where(Quote.request_id == req.id,
                                                    Quote.operator_id == actor.org_id,
                                                    Quote.status == "submitted")):
            raise Conflict(_("You already have a live quote on this request; withdraw it first."),
                           code="quote_exists")
        outcome = judge_operator(request_facts(req), actor.org_id)
        if isinstance(outcome, Exclusion):
            _refuse(outcome)
        item, _prefix = outcome
        quote = Quote(request_id=req.id, operator_id=actor.org_id, licence_item_id=item.item_id,
                      created_by_id=actor.id, unit_price_fen_per_t=price, transport_fee_fen=fee,
                      valid_until=valid_until, subject_to_sampling=bool(subject_to_sampling),
                      note=note, status="submitted")
        db.session.add(quote)
        db.session.flush()
        record("quote.submitted", quote, actor=actor, changes={
            "request": req.number, "licence_item_id": item.item_id, "unit_price_fen_per_t": price,
            "transport_fee_fen": fee, "valid_until": valid_until.isoformat(),
            "subject_to_sampling": quote.subject_to_sampling})
        history = own_history(actor.org_id, req.category_code)
        watch_price(subject=f"quote:{quote.id}", category=req.category_code,
                    method_code=req.method_group, region_code=req.region_code, price=price,
                    operator_id=actor.org_id, operator_region=actor.org.region_code,
                    generator_id=req.generator_id, history=history,
                    data={"quote_id": quote.id, "request": req.number})
        notify_org(req.generator_id, "quote.submitted",
                   message("New quote from %(operator)s on request %(number)s.",
                           operator=actor.org.name, number=req.number), link=f"/requests/{req.id}")
        return quote


def _quote_of_operator(actor: User, quote_id: int) -> tuple[DisposalRequest, Quote]:
    request_id = db.session.scalar(select(Quote.request_id).where(
        Quote.id == quote_id, Quote.operator_id == actor.org_id))
    if request_id is None:
        raise NotFound(_("No such quote."))
    return _lock_request(request_id), _lock_quote(quote_id)


def _quote_of_generator(actor: User, quote_id: int) -> tuple[DisposalRequest, Quote]:
    request_id = db.session.scalar(
        select(Quote.request_id).join(DisposalRequest, DisposalRequest.id == Quote.request_id)
        .where(Quote.id == quote_id, DisposalRequest.generator_id == actor.org_id))
    if request_id is None:
        raise NotFound(_("No such quote."))
    return _lock_request(request_id), _lock_quote(quote_id)


def withdraw_quote(actor: User, quote_id: int) -> Quote:
    """The operator takes back a quote that has not been accepted."""
    with transaction():
        req, quote = _quote_of_operator(actor, quote_id)
        _move(quote, "withdrawn", "operator")
        record("quote.withdrawn", quote, actor=actor, changes={"request": req.number})
        notify_org(req.generator_id, "quote.withdrawn",
                   message("%(operator)s withdrew its quote on request %(number)s.",
                           operator=actor.org.name, number=req.number), link=f"/requests/{req.id}")
        return quote


def reject_quote(actor: User, quote_id: int, reason: str = "") -> Quote:
    """The generator declines one quote; the request stays open for the others."""
    with transaction():
        req, quote = _quote_of_generator(actor, quote_id)
        _move(quote, "rejected", "generator")
        reason = v.text(reason, "reason", 1000)
        record("quote.rejected", quote, actor=actor, changes={"request": req.number, "reason": reason})
        notify_org(quote.operator_id, "quote.rejected",
                   message("Your quote on request %(number)s was declined.", number=req.number),
                   verbatim(reason),
                   link=f"/requests/{req.id}")
        return quote


def award_quote(actor: User, quote_id: int) -> Order:
    """Award the request to a quote: reserve capacity, create the order, reject the other quotes.

    The order is left `created`; market.orders.lifecycle.accept_quote routes it on.
    """
    with transaction():
        v.require_verified(actor, "generator")
        req, quote = _quote_of_generator(actor, quote_id)
        if quote.status == "accepted":
            raise Conflict(_("This quote has already been accepted."), code="quote_accepted")
        if quote.status != "submitted":
            _move(quote, "accepted", "generator")  # raises with the quote's state
        if req.status != "open":
            raise InvalidState(_("This request is %(s)s; only open requests can be awarded.",
                                 s=_(req.status)), code=f"request_{req.status}")
        if quote.valid_until < v.today():
            raise InvalidState(_("This quote expired on %(d)s.", d=shown_date(quote.valid_until)),
                               code="quote_expired")
        capacity.lock_item(quote.licence_item_id)
        # Judged again under the lock: the operator may have been suspended, its licence may have
        # lapsed, or other awards may have used the capacity since it quoted.
        facts = request_facts(req)
        outcome = judge_operator(facts, quote.operator_id, item_ids=[quote.licence_item_id])
        if isinstance(outcome, Exclusion):
            _refuse(outcome, capacity.CapacityExhausted if outcome.rule == "capacity_exhausted"
                    else InvalidState)
        try:
            order = create_order(
                actor=actor, generator_id=req.generator_id, operator_id=quote.operator_id,
                licence_item_id=quote.licence_item_id, year=facts.wanted_on.year,
                category_code=req.category_code, waste_code=req.waste_code,
                quantity_kg=req.quantity_kg, region_code=req.region_code, address=req.address,
                unit_price_fen_per_t=quote.unit_price_fen_per_t,
                transport_fee_fen=quote.transport_fee_fen,
                subject_to_sampling=quote.subject_to_sampling or req.requires_sampling,
                request_id=req.id, quote_id=quote.id)
        except IntegrityError:
            # The unique quote_id is the last guard should the locks above ever be bypassed.
            raise Conflict(_("This quote has already been accepted."), code="quote_accepted") from None
        _move(quote, "accepted", "generator")
        req.status, req.closed_at = "awarded", utcnow()
        record("quote.accepted", quote, actor=actor, changes={"order": order.number})
        record("request.awarded", req, actor=actor, changes={"status": ["open", "awarded"],
                                                             "quote_id": quote.id,
                                                             "order": order.number})
        notify_org(quote.operator_id, "quote.accepted",
                   message("Your quote on request %(number)s was accepted: order %(order)s.",
                           number=req.number, order=order.number), link=f"/orders/{order.id}")
        others = db.session.scalars(select(Quote).where(
            Quote.request_id == req.id, Quote.status == "submitted", Quote.id != quote.id)
            .order_by(Quote.id).with_for_update().execution_options(populate_existing=True))
        for other in others:
            _move(other, "rejected", "system")
            record("quote.rejected", other, actor=actor, changes={"why": "another_quote_accepted",
                                                                  "order": order.number})
            notify_org(other.operator_id, "quote.rejected",
                       message("Request %(number)s was awarded to another operator.", number=req.number),
                       link=f"/requests/{req.id}")
        return order

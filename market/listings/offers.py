"""Use cases of storefront offers (Tmall style) and of ordering directly from one."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import changed_fields, record
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings import capacity
from market.listings import validation as v
from market.listings.explain import rule_message
from market.listings.matching import Exclusion, RequestFacts, item_problem
from market.listings.models import StorefrontOffer
from market.listings.queries import candidate_facts, judge_operator
from market.notifications.messages import message
from market.notifications.services import notify_org
from market.orders.models import Order
from market.orders.services import create_order
from market.prices.checks import own_history, require_tariff, watch_price
from market.uow import transaction

OFFER_FIELDS = ("category", "waste_code", "method_code", "service_region_prefixes", "min_kg",
                "max_kg", "unit_price_fen_per_t", "transport_fee_fen", "lead_time_days",
                "description")


def _clean(actor: User, data: dict) -> dict:
    unknown = sorted(set(data) - set(OFFER_FIELDS))
    if unknown:
        raise ValidationFailed(_("Field %(f)s cannot be set here.", f=unknown[0]), field=unknown[0])
    category = v.category(data.get("category"))
    out = dict(category_code=category, waste_code=v.waste_code(data.get("waste_code"), category),
               method_code=v.method(data.get("method_code")),
               service_region_prefixes=v.region_prefixes(data.get("service_region_prefixes"),
                                                         "service_region_prefixes"),
               min_kg=v.whole_kg(data.get("min_kg"), "min_kg"),
               max_kg=v.whole_kg(data.get("max_kg"), "max_kg"),
               unit_price_fen_per_t=v.money_fen(data.get("unit_price_fen_per_t"), "unit_price_fen_per_t"),
               transport_fee_fen=v.money_fen(data.get("transport_fee_fen") or 0, "transport_fee_fen",
                                             negative=False),
               description=v.text(data.get("description"), "description", 2000))
    if not out["service_region_prefixes"]:
        raise ValidationFailed(_("Name at least one region you serve."), field="service_region_prefixes")
    if out["max_kg"] < out["min_kg"]:
        raise ValidationFailed(_("The maximum must not be below the minimum."), field="max_kg")
    lead = data.get("lead_time_days", 7)
    if not isinstance(lead, int) or isinstance(lead, bool) or not 0 <= lead <= 365:
        raise ValidationFailed(_("Lead time is a whole number of days from 0 to 365."),
                               field="lead_time_days")
    out["lead_time_days"] = lead
    _check_licensed(actor, out)
    require_tariff(category, out["service_region_prefixes"], out["unit_price_fen_per_t"])
    return out


def _watch(actor: User, offer: StorefrontOffer) -> None:
    """The price check of DESIGN.md §7 on a standing price: regulator alerts when abnormally low
    (judged in the operator's own province; a storefront has no single pickup region)."""
    watch_price(subject=f"offer:{offer.id}:{offer.unit_price_fen_per_t}",
                category=offer.category_code, method_code=offer.method_code,
                region_code=actor.org.region_code, price=offer.unit_price_fen_per_t,
                operator_id=actor.org_id, operator_region=actor.org.region_code,
                history=own_history(actor.org_id, offer.category_code),
                data={"offer_id": offer.id})


def _check_licensed(actor: User, offer: dict) -> None:
    """The operator holds an item valid today covering the waste, listing the offer's method."""
    facts = RequestFacts(category=offer["category_code"], code=offer["waste_code"],
                         quantity_kg=offer["min_kg"], region_code="", wanted_on=v.today(),
                         small_lot=offer["min_kg"] <= v.small_lot_kg())
    found = candidate_facts(facts, operator_id=actor.org_id)
    items = found[0].items if found else ()
    # Capacity is judged per order, not when the price is posted.
    covering = [i for i in items if item_problem(facts, i) in (None, "capacity_exhausted")]
    if any(offer["method_code"] in i.methods for i in covering):
        return
    if covering:
        field = "method_code"
    elif offer["waste_code"] and any(item_problem(facts, i) == "code_not_covered" for i in items):
        field = "waste_code"
    else:
        field = "category"
    raise ValidationFailed(_("None of your valid licence items covers %(what)s with method %(m)s.",
                             what=offer["waste_code"] or offer["category_code"],
                             m=offer["method_code"]), field=field)


def create_offer(actor: User, **data) -> StorefrontOffer:
    """Publish a standing price for a category (or code), method and service regions."""
    with transaction():
        v.require_verified(actor, "operator")
        values = _clean(actor, data)
        offer = StorefrontOffer(operator_id=actor.org_id, active=True, **values)
        db.session.add(offer)
        db.session.flush()
        record("offer.created", offer, actor=actor, changes=values)
        _watch(actor, offer)
        return offer


def _own_offer(actor: User, offer_id: int) -> StorefrontOffer:
    offer = db.session.scalar(select(StorefrontOffer).where(
        StorefrontOffer.id == offer_id, StorefrontOffer.operator_id == actor.org_id).with_for_update())
    if offer is None:
        raise NotFound(_("No such offer."))
    return offer


def update_offer(actor: User, offer_id: int, **changes) -> StorefrontOffer:
    """Change an offer's terms; orders already placed keep theirs."""
    with transaction():
        v.require_verified(actor, "operator")
        offer = _own_offer(actor, offer_id)
        current = {f: getattr(offer, "category_code" if f == "category" else f) for f in OFFER_FIELDS}
        for key, value in _clean(actor, current | changes).items():
            setattr(offer, key, value)
        diff = changed_fields(offer)
        if diff:
            record("offer.updated", offer, actor=actor, changes=diff)
            if "unit_price_fen_per_t" in diff:
                _watch(actor, offer)
        return offer


def set_offer_active(actor: User, offer_id: int, active: bool) -> StorefrontOffer:
    """Take an offer off the shelf or put it back."""
    with transaction():
        offer = _own_offer(actor, offer_id)
        if offer.active != active:
            if active:
                v.require_verified(actor, "operator")
            offer.active = active
            record("offer.activated" if active else "offer.deactivated", offer, actor=actor)
        return offer


def order_offer(actor: User, offer_id: int, *, quantity_kg: int, region_code: str | None = None,
                address: str | None = None, wanted_on: date | None = None) -> Order:
    """Order directly from a storefront offer; capacity is reserved exactly as for an award.

    The order is left `created`; market.orders.lifecycle.order_from_offer routes it on.
    """
    with transaction():
        v.require_verified(actor, "generator")
        offer = db.session.scalar(select(StorefrontOffer).where(
            StorefrontOffer.id == offer_id, StorefrontOffer.active.is_(True)))
        if offer is None:
            raise NotFound(_("No such offer."))
        if offer.operator_id == actor.org_id:
            raise PermissionDenied(_("You cannot order from your own offer."))
        kg = v.whole_kg(quantity_kg)
        if not offer.min_kg <= kg <= offer.max_kg:
            raise ValidationFailed(_("This offer takes between %(lo)s and %(hi)s kg.",
                                     lo=f"{offer.min_kg:,}", hi=f"{offer.max_kg:,}"), field="quantity_kg")
        region = v.region(region_code or actor.org.region_code).code
        require_tariff(offer.category_code, [region], offer.unit_price_fen_per_t)
        address = v.text(address if address is not None else actor.org.address, "address", 300,
                         required=True)
        wanted_on = v.a_date(wanted_on or v.today(), "wanted_on")
        if wanted_on < v.today():
            raise ValidationFailed(_("The pickup date cannot be in the past."), field="wanted_on")
        coords = actor.org.coordinates if region == actor.org.region_code else None
        facts = RequestFacts(category=offer.category_code, code=offer.waste_code, quantity_kg=kg,
                             region_code=region, wanted_on=wanted_on,
                             small_lot=kg <= v.small_lot_kg(), coordinates=coords)

        def as_offered(cand):
            # The offer states its own service regions, and only items listing its method back it.
            return {"service_prefixes": tuple(offer.service_region_prefixes),
                    "items": tuple(i for i in cand.items if offer.method_code in i.methods)}

        outcome = judge_operator(facts, offer.operator_id, override=as_offered)
        if isinstance(outcome, Exclusion):
            error = capacity.CapacityExhausted if outcome.rule == "capacity_exhausted" else InvalidState
            field = {"region_not_served": "region_code", "capacity_exhausted": "quantity_kg"}.get(outcome.rule)
            raise error(rule_message(outcome.rule, outcome.params), code=outcome.rule, field=field)
        item = outcome[0]
        capacity.lock_item(item.item_id)
        order = create_order(
            actor=actor, generator_id=actor.org_id, operator_id=offer.operator_id,
            licence_item_id=item.item_id, year=wanted_on.year, category_code=offer.category_code,
            waste_code=offer.waste_code, quantity_kg=kg, region_code=region, address=address,
            unit_price_fen_per_t=offer.unit_price_fen_per_t,
            transport_fee_fen=offer.transport_fee_fen, offer_id=offer.id)
        notify_org(offer.operator_id, "order.created",
                   message("New order %(order)s from %(generator)s on your storefront.",
                           order=order.number, generator=actor.org.name), link=f"/orders/{order.id}")
        return order


"""Use cases of disposal requests, service areas and alert preferences.

Quotes and awards live in listings/quotes.py, storefront offers in listings/offers.py.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import delete, select, text

from market import db
from market.accounts.models import User
from market.audit.services import changed_fields, record
from market.db import utcnow
from market.errors import InvalidState, ValidationFailed
from market.jobs import enqueue_after_commit
from market.listings import validation as v
from market.listings.jobs import notify_matched_operators
from market.listings.models import AlertPreference, DisposalRequest, Quote, ServiceArea
from market.listings.queries import request_for_generator
from market.listings.state import EDITABLE_REQUEST_STATUSES, request_problem
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.uow import transaction

# The fields a generator writes; status, number, parties and timestamps are never assigned from input.
REQUEST_FIELDS = ("category", "waste_code", "description", "form", "packaging", "hazards",
                  "quantity_kg", "region_code", "address", "window_start", "window_end",
                  "method_group", "requires_sampling", "budget_fen", "recurring")


def next_number() -> str:
    """RQ + year + serial, e.g. RQ2026000123; the serial comes from a database sequence."""
    serial = db.session.scalar(text("SELECT nextval('disposal_request_number_seq')"))
    return f"RQ{v.today().year}{serial:06d}"


def _clean(data: dict, *, check_start: bool = True) -> dict:
    """Validate request fields in form order and return the column values."""
    unknown = sorted(set(data) - set(REQUEST_FIELDS))
    if unknown:
        raise ValidationFailed(_("Field %(f)s cannot be set here.", f=unknown[0]), field=unknown[0])
    category = v.category(data.get("category"))
    out = dict(
        category_code=category,
        waste_code=v.waste_code(data.get("waste_code"), category),
        description=v.text(data.get("description"), "description", 2000),
        form=v.form(data.get("form")),
        packaging=v.text(data.get("packaging"), "packaging", 100),
        hazards=v.hazards(data.get("hazards")),
        quantity_kg=v.whole_kg(data.get("quantity_kg")),
        region_code=v.region(data.get("region_code")).code,
        address=v.text(data.get("address"), "address", 300, required=True),
        method_group=v.method_group(data.get("method_group")),
        requires_sampling=bool(data.get("requires_sampling")),
        budget_fen=v.money_fen(data.get("budget_fen"), "budget_fen", optional=True),
        recurring=v.recurring(data.get("recurring")),
    )
    out["window_start"], out["window_end"] = v.window(data.get("window_start"), data.get("window_end"),
                                                      check_start=check_start)
    out["small_lot"] = out["quantity_kg"] <= v.small_lot_kg()
    return out


def _request_values(req: DisposalRequest) -> dict:
    """The request's fields as a generator writes them (the inverse of _clean's renaming)."""
    return {f: getattr(req, "category_code" if f == "category" else f) for f in REQUEST_FIELDS}


def _pickup_point(actor: User, region_code: str) -> dict:
    # Picking up at the generator's own site is the usual case; elsewhere the distance is unknown.
    org = actor.org
    if region_code == org.region_code and org.coordinates is not None:
        return {"latitude": org.latitude, "longitude": org.longitude}
    return {"latitude": None, "longitude": None}


def _move(req: DisposalRequest, to: str, role: str) -> None:
    problem = request_problem(req.status, to, role)
    if problem:
        raise InvalidState(_("A request that is %(frm)s cannot become %(to)s.",
                             frm=_(req.status), to=_(to)), code=problem)
    req.status = to


def create_request(actor: User, *, publish: bool = True, **data) -> DisposalRequest:
    """Post a disposal request (open and announced to matched operators, or kept as a draft)."""
    with transaction():
        v.require_verified(actor, "generator")
        if publish:
            v.not_blacklisted(actor)
        values = _clean(data)
        req = DisposalRequest(number=next_number(), generator_id=actor.org_id,
                              created_by_id=actor.id, status="draft", **values,
                              **_pickup_point(actor, values["region_code"]))
        db.session.add(req)
        db.session.flush()
        record("request.created", req, actor=actor, changes=dict(values, number=req.number))
        if publish:
            _publish(actor, req)
        return req


def _publish(actor: User, req: DisposalRequest) -> None:
    _move(req, "open", "generator")
    req.published_at = utcnow()
    record("request.published", req, actor=actor, changes={"status": ["draft", "open"]})
    enqueue_after_commit(notify_matched_operators, req.id)


def publish_request(actor: User, request_id: int) -> DisposalRequest:
    """Open a draft request to quotes and notify the operators that match it."""
    with transaction():
        v.require_verified(actor, "generator")
        v.not_blacklisted(actor)
        req = request_for_generator(actor, request_id, lock=True)
        if req.status == "draft":
            v.window_not_started(req.window_start)
        _publish(actor, req)
        return req


def _live_quotes(req: DisposalRequest) -> list[Quote]:
    return list(db.session.scalars(select(Quote).where(Quote.request_id == req.id,
                                                       Quote.status == "submitted")
                                   .order_by(Quote.id).with_for_update()))


def edit_request(actor: User, request_id: int, **changes) -> DisposalRequest:
    """Change a draft, or an open request no operator has a live quote on."""
    with transaction():
        v.require_verified(actor, "generator")
        req = request_for_generator(actor, request_id, lock=True)
        if req.status not in EDITABLE_REQUEST_STATUSES:
            raise InvalidState(_("A request that is %(s)s cannot be edited.", s=_(req.status)))
        if _live_quotes(req):
            raise InvalidState(_("Operators have quoted on this request; withdraw it or wait for "
                                 "the quotes to lapse before changing it."), code="has_quotes")
        merged = _request_values(req) | changes
        # An open request whose window has begun may still be corrected without moving its start.
        moved = merged["window_start"] != req.window_start
        values = _clean(merged, check_start=moved or req.status == "draft")
        for key, value in values.items():
            setattr(req, key, value)
        if "region_code" in changes:
            for key, value in _pickup_point(actor, values["region_code"]).items():
                setattr(req, key, value)
        diff = changed_fields(req)
        if diff:
            record("request.edited", req, actor=actor, changes=diff)
        return req


def cancel_request(actor: User, request_id: int, reason: str = "") -> DisposalRequest:
    """Withdraw a draft or open request; live quotes are rejected and their operators told."""
    with transaction():
        req = request_for_generator(actor, request_id, lock=True)
        frm = req.status
        _move(req, "cancelled", "generator")
        req.closed_at = utcnow()
        reason = v.text(reason, "reason", 1000)
        for quote in _live_quotes(req):
            quote.status, quote.decided_at = "rejected", utcnow()
            record("quote.rejected", quote, actor=actor, changes={"why": "request_cancelled"})
            notify_org(quote.operator_id, "quote.rejected",
                       message("Request %(number)s was cancelled by the generator.", number=req.number),
                       verbatim(reason), link=f"/requests/{req.id}")
        record("request.cancelled", req, actor=actor, changes={"status": [frm, "cancelled"],
                                                               "reason": reason})
        return req


def repost_request(actor: User, request_id: int, *, window_start: date, window_end: date,
                   publish: bool = True) -> DisposalRequest:
    """Post a cancelled, expired or awarded request again with a new window."""
    with transaction():
        req = request_for_generator(actor, request_id)
        if req.status in ("draft", "open"):
            raise InvalidState(_("This request is still %(s)s; edit it instead.", s=_(req.status)))
        data = _request_values(req)
        data.update(window_start=window_start, window_end=window_end)
        new = create_request(actor, publish=publish, **data)
        record("request.reposted", new, actor=actor, changes={"from": req.number})
        return new


def set_service_areas(actor: User, prefixes: list[str]) -> list[str]:
    """Replace the region prefixes the operator collects from (none: its own province)."""
    with transaction():
        v.require_org_type(actor, "operator")
        clean = v.region_prefixes(prefixes, "service_regions")
        old = sorted(db.session.scalars(select(ServiceArea.region_prefix)
                                        .where(ServiceArea.org_id == actor.org_id)))
        db.session.execute(delete(ServiceArea).where(ServiceArea.org_id == actor.org_id))
        db.session.add_all(ServiceArea(org_id=actor.org_id, region_prefix=p) for p in clean)
        record("operator.service_areas", object_type="organisation", object_id=actor.org_id,
               actor=actor, changes={"region_prefixes": [old, sorted(clean)]})
        return clean


def set_alert_preferences(actor: User, *, categories: list[str], region_prefixes: list[str]
                          ) -> AlertPreference:
    """Choose which new requests the operator hears about (empty lists: every match)."""
    with transaction():
        v.require_org_type(actor, "operator")
        cats = sorted({v.category(c, "categories") for c in categories or [] if c})
        prefixes = v.region_prefixes(region_prefixes, "region_prefixes")
        pref = db.session.get(AlertPreference, actor.org_id, with_for_update=True)
        if pref is None:
            pref = AlertPreference(org_id=actor.org_id)
            db.session.add(pref)
        pref.categories, pref.region_prefixes = cats, prefixes
        record("operator.alert_preferences", object_type="organisation", object_id=actor.org_id,
               actor=actor, changes={"categories": cats, "region_prefixes": prefixes})
        return pref

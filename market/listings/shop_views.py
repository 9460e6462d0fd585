"""Storefronts (Tmall style): shop pages, offer browsing, ordering from an offer, managing offers.

The offer page serves both sides on one URL: its owner edits the offer there, a generator orders.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from market import db
from market.catalog import queries as catalog
from market.errors import DomainError, NotFound, PermissionDenied
from market.listings import browse, offers
from market.listings.forms import (OFFER_FIELD_MAP, ORDER_FIELD_MAP, OfferFilterForm, OfferForm,
                                   OrderFromOfferForm, kg_from)
from market.listings.models import StorefrontOffer
from market.listings.validation import today
from market.orders import lifecycle
from market.reviews.forms import CRITERION_LABELS
from market.web.forms import attach_error, flash_outcome, form_status
from market.web.security import require_org_type

bp = Blueprint("shops", __name__)


def _offer_form(offer: StorefrontOffer | None = None) -> OfferForm:
    if offer is not None and request.method == "GET":
        form = OfferForm(formdata=None, data=dict(
            category=offer.category_code, waste_code=offer.waste_code or "",
            method_code=offer.method_code,
            service_region_prefixes=", ".join(offer.service_region_prefixes),
            min_t=Decimal(offer.min_kg) / 1000, max_t=Decimal(offer.max_kg) / 1000,
            unit_price=Decimal(offer.unit_price_fen_per_t) / 100,
            transport_fee=Decimal(offer.transport_fee_fen) / 100,
            lead_time_days=offer.lead_time_days, description=offer.description))
    else:
        form = OfferForm()
        if request.method == "GET":
            form.service_region_prefixes.data = current_user.org.region_code[:2]
    form.category.choices = [(c.code, f"{c.code} {c.name}") for c in catalog.categories()]
    form.method_code.choices = [(m.code, f"{m.code} {m.name}") for m in catalog.methods()]
    return form


@bp.get("/shops/<int:org_id>")
@login_required
def shop(org_id):
    org = browse.visible_shop(current_user, org_id)
    return render_template("listings/shop.html", org=org, owner=org.id == current_user.org_id,
                           today=today(), review_criteria=CRITERION_LABELS, **browse.shop_facts(org))


@bp.get("/offers")
@login_required
def browse_offers():
    filters = OfferFilterForm(request.args)
    filters.category.choices = [("", _("all"))] + [(c.code, f"{c.code} {c.name}")
                                                   for c in catalog.categories()]
    filters.method.choices = [("", _("all"))] + [(m.code, f"{m.code} {m.name}") for m in catalog.methods()]
    if not request.args and not current_user.is_platform and not current_user.is_regulator:
        filters.region.data = current_user.org.region_code
    region = (filters.region.data or "").strip()
    region_ok = region.isdigit() and len(region) == 6
    rows = browse.search_offers(
        category=filters.category.data or None, code=(filters.code.data or "").strip() or None,
        region=region if region_ok else None,
        method=filters.method.data or None, sort=filters.sort.data or "price",
        origin=current_user.org.coordinates)
    return render_template("listings/offers.html", filters=filters, rows=rows,
                           category_names=browse.category_names(),
                           bad_region=bool(region) and not region_ok)


@bp.get("/storefront")
@login_required
@require_org_type("operator")
def storefront():
    rows = list(db.session.scalars(select(StorefrontOffer).where(
        StorefrontOffer.operator_id == current_user.org_id)
        .order_by(StorefrontOffer.active.desc(), StorefrontOffer.id.desc())))
    return render_template("listings/storefront.html", offers=rows, category_names=browse.category_names())


@bp.route("/offers/new", methods=["GET", "POST"])
@login_required
@require_org_type("operator")
def new_offer():
    form = _offer_form()
    if form.validate_on_submit():
        try:
            offer = offers.create_offer(current_user, **form.service_data())
        except NotFound:
            raise
        except DomainError as exc:  # a field's rule beside the field, any other refusal above the form
            attach_error(form, exc, OFFER_FIELD_MAP)
        else:
            flash(_("Offer published in your shop."), "success")
            return redirect(url_for("shops.offer", offer_id=offer.id))
    return render_template("listings/offer_new.html", form=form), form_status(form)


def _offer_page(offer: StorefrontOffer, *, edit_form=None, order_form=None, status: int = 200):
    owner = offer.operator_id == current_user.org_id
    ctx = dict(offer=offer, owner=owner, category_names=browse.category_names(),
               region_names=browse.region_names(offer.service_region_prefixes))
    if owner:
        ctx["edit_form"] = edit_form or _offer_form(offer)
    elif current_user.org.has_type("generator") and offer.active:
        if order_form is None:
            org = current_user.org
            order_form = OrderFromOfferForm(formdata=None, data=dict(
                quantity=Decimal(offer.min_kg) / 1000, unit="t", region_code=org.region_code,
                address=org.address, wanted_on=today() + timedelta(days=offer.lead_time_days)))
        ctx["order_form"] = order_form
    return render_template("listings/offer.html", **ctx), status


@bp.route("/offers/<int:offer_id>", methods=["GET", "POST"])
@login_required
def offer(offer_id):
    item = browse.visible_offer(current_user, offer_id)
    if request.method == "GET":
        return _offer_page(item)
    if item.operator_id == current_user.org_id:
        return _edit_offer(item)
    if not current_user.org.has_type("generator"):
        raise PermissionDenied(_("Only %(type)s organisations may do this.", type=_("generator")))
    return _order(item)


def _edit_offer(offer: StorefrontOffer):
    form = _offer_form(offer)
    if form.validate_on_submit():
        try:
            offers.update_offer(current_user, offer.id, **form.service_data())
        except NotFound:
            raise
        except DomainError as exc:  # a field's rule beside the field, any other refusal above the form
            attach_error(form, exc, OFFER_FIELD_MAP)
        else:
            flash(_("Offer updated."), "success")
            return redirect(url_for("shops.offer", offer_id=offer.id))
    db.session.refresh(offer)
    return _offer_page(offer, edit_form=form, status=form_status(form))


def _order(offer: StorefrontOffer):
    form = OrderFromOfferForm()
    status = 200 if form.refining else 422  # a step of the region picker redraws the form
    if form.validate_on_submit():
        try:
            order = lifecycle.order_from_offer(
                current_user, offer.id, quantity_kg=kg_from(form.quantity.data, form.unit.data),
                region_code=form.region_code.data.strip(), address=form.address.data,
                wanted_on=form.wanted_on.data)
        except NotFound:
            raise
        except DomainError as exc:
            # A field's rule beside the field; capacity used up, region not served: above the form.
            attach_error(form, exc, ORDER_FIELD_MAP)
            status = exc.status
        else:
            flash(_("Order %(number)s placed.", number=order.number), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    db.session.refresh(offer)
    return _offer_page(offer, order_form=form, status=status)


@bp.post("/offers/<int:offer_id>/active")
@login_required
def set_active(offer_id):
    active = request.form.get("active") == "1"
    back = url_for("shops.storefront") if request.form.get("back") == "storefront" \
        else url_for("shops.offer", offer_id=offer_id)
    return flash_outcome(lambda: offers.set_offer_active(current_user, offer_id, active),
                         _("Offer is on sale again.") if active else _("Offer taken off sale."), back)

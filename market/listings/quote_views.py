"""The operator's side of the marketplace: matched requests, its quotes, service areas and alerts."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from market import db
from market.catalog import queries as catalog
from market.errors import NotFound, ValidationFailed
from market.listings import browse, quotes, services
from market.listings.explain import reason_message
from market.listings.forms import AlertPreferencesForm, ServiceAreasForm, split_prefixes
from market.listings.models import QUOTE_STATUSES, AlertPreference, Quote, ServiceArea
from market.listings.queries import open_requests_for_operator, quotes_of_operator
from market.listings.validation import today
from market.money import line_amount_fen
from market.orders.models import Order
from market.web.forms import attach_error, flash_outcome, form_status
from market.web.security import require_org_type

bp = Blueprint("quotes", __name__)


@bp.get("/requests/matched")
@login_required
@require_org_type("operator")
def matched():
    rows = open_requests_for_operator(current_user.org_id)
    mine = {q.request_id: q for q in quotes_of_operator(current_user.org_id, "submitted")}
    return render_template("listings/matched.html", rows=rows, mine=mine,
                           reason_message=reason_message,
                           category_names=browse.category_names())


@bp.get("/quotes")
@login_required
@require_org_type("operator")
def mine():
    status = request.args.get("status") if request.args.get("status") in QUOTE_STATUSES else None
    rows = quotes_of_operator(current_user.org_id, status)
    orders = dict(db.session.execute(select(Order.quote_id, Order.id).where(
        Order.quote_id.in_([q.id for q in rows if q.status == "accepted"]))).all()) if rows else {}
    totals = {q.id: line_amount_fen(q.unit_price_fen_per_t, q.request.quantity_kg) + q.transport_fee_fen
              for q in rows}
    return render_template("listings/quotes.html", quotes=rows, status=status, statuses=QUOTE_STATUSES,
                           orders=orders, totals=totals, today=today())


@bp.post("/quotes/<int:quote_id>/withdraw")
@login_required
def withdraw(quote_id):
    request_id = db.session.scalar(select(Quote.request_id).where(
        Quote.id == quote_id, Quote.operator_id == current_user.org_id))
    if request_id is None:
        raise NotFound(_("No such quote."))
    back = url_for("listings.detail", request_id=request_id) if request.form.get("back") == "request" \
        else url_for("quotes.mine")
    return flash_outcome(lambda: quotes.withdraw_quote(current_user, quote_id),
                         _("Quote withdrawn."), back)


def _area_forms(areas_form=None, alerts_form=None):
    pref = db.session.get(AlertPreference, current_user.org_id)
    areas = list(db.session.scalars(select(ServiceArea.region_prefix).where(
        ServiceArea.org_id == current_user.org_id).order_by(ServiceArea.region_prefix)))
    if areas_form is None:
        areas_form = ServiceAreasForm(formdata=None, prefixes=", ".join(areas))
    if alerts_form is None:
        alerts_form = AlertPreferencesForm(formdata=None, categories=pref.categories if pref else [],
                                           region_prefixes=", ".join(pref.region_prefixes) if pref else "")
    alerts_form.categories.choices = [(c.code, f"{c.code} {c.name}") for c in catalog.categories()]
    return dict(areas_form=areas_form, alerts_form=alerts_form, areas=areas, pref=pref,
                own_province=current_user.org.region_code[:2],
                region_names=browse.region_names(set(areas) | {current_user.org.region_code[:2]}
                                                 | set(pref.region_prefixes if pref else [])))


def _render_areas(status: int = 200, **forms):
    return render_template("listings/service_areas.html", **_area_forms(**forms)), status


@bp.route("/account/service-areas", methods=["GET", "POST"])
@login_required
@require_org_type("operator")
def service_areas():
    if request.method == "GET":
        return _render_areas()
    form = ServiceAreasForm()
    if form.validate_on_submit():
        try:
            services.set_service_areas(current_user, split_prefixes(form.prefixes.data))
        except ValidationFailed as exc:
            attach_error(form, exc, {"service_regions": "prefixes"})
        else:
            flash(_("Service areas saved."), "success")
            return redirect(url_for("quotes.service_areas"))
    return _render_areas(form_status(form), areas_form=form)


@bp.post("/account/alerts")
@login_required
@require_org_type("operator")
def alerts():
    form = AlertPreferencesForm()
    form.categories.choices = [(c.code, c.code) for c in catalog.categories()]
    if form.validate_on_submit():
        try:
            services.set_alert_preferences(current_user, categories=form.categories.data,
                                           region_prefixes=split_prefixes(form.region_prefixes.data))
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Alert preferences saved."), "success")
            return redirect(url_for("quotes.service_areas"))
    return _render_areas(form_status(form), alerts_form=form)

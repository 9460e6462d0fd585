"""Disposal requests on the web: the generator's list, form and request page with matches and quotes.

The request page is also where a matching operator quotes, so one URL serves every party: GET
shows what the viewer may see; POST is the form the viewer may send (the owner's edit or re-post,
an operator's quote).
"""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from market import db
from market.catalog import queries as catalog
from market.errors import DomainError, NotFound, ValidationFailed
from market.listings import browse, quotes, services
from market.listings.explain import exclusion_message, reason_message
from market.listings.explain_pages import excluded_page
from market.listings.forms import (QUOTE_FIELD_MAP, REQUEST_FIELD_MAP, QuoteForm, ReasonForm,
                                   RepostForm, RequestFilterForm, RequestForm)
from market.listings.models import REQUEST_STATUSES, DisposalRequest, Quote
from market.listings.queries import (matches, open_requests_for_operator, quotes_for_request,
                                     request_facts, requests_of)
from market.listings.state import EDITABLE_REQUEST_STATUSES
from market.listings.validation import today
from market.orders import lifecycle
from market.orders.models import Order
from market.orders.queries import visible_orders
from market.web.fields import fen_from_yuan
from market.web.forms import attach_error, flash_outcome, form_status
from market.region_scope import request_in_region
from market.web.security import require_org_type

bp = Blueprint("listings", __name__)

CLOSED_STATUSES = ("awarded", "cancelled", "expired")


def _request_form(req: DisposalRequest | None = None) -> RequestForm:
    if req is not None and request.method == "GET":
        form = RequestForm(data=dict(
            category=req.category_code, waste_code=req.waste_code or "", description=req.description,
            form=req.form, packaging=req.packaging, hazards=req.hazards,
            quantity=Decimal(req.quantity_kg) / 1000, unit="t", region_code=req.region_code, address=req.address,
            window_start=req.window_start, window_end=req.window_end,
            method_group=req.method_group or "", requires_sampling=req.requires_sampling,
            budget=None if req.budget_fen is None else Decimal(req.budget_fen) / 100, recurring=req.recurring))
    else:
        form = RequestForm()
    form.category.choices = [("", _("— from the waste code —"))] + [
        (c.code, f"{c.code} {c.name}") for c in catalog.categories()]
    if request.method == "GET" and req is None:
        org = current_user.org
        form.region_code.data = form.region_code.data or org.region_code
        form.address.data = form.address.data or org.address
        form.category.data = request.args.get("category", form.category.data)
        form.waste_code.data = request.args.get("waste_code", form.waste_code.data)
    return form


def _code_choices(q: str):
    return browse.search_waste_codes(q, limit=500 if not q else 50)


@bp.get("/requests")
@login_required
def index():
    if current_user.org.has_type("operator") and not current_user.org.has_type("generator"):
        return redirect(url_for("quotes.matched"))
    filters = RequestFilterForm(request.args)
    filters.status.choices = [("", _("all"))] + [(s, _(s)) for s in REQUEST_STATUSES]
    status = request.args.get("status") if request.args.get("status") in REQUEST_STATUSES else None
    if current_user.is_regulator or current_user.is_platform:
        stmt = select(DisposalRequest).order_by(DisposalRequest.id.desc())
        if current_user.is_regulator:
            stmt = stmt.where(request_in_region(current_user.org.scope_prefix))
        if status:
            stmt = stmt.where(DisposalRequest.status == status)
        rows = list(db.session.scalars(stmt.limit(500)))
    elif current_user.org.has_type("generator"):
        rows = requests_of(current_user.org_id, status)
    else:
        abort(403)
    return render_template("listings/requests.html", requests=rows, status=status, filters=filters,
                           statuses=REQUEST_STATUSES,
                           live=browse.live_quote_counts([r.id for r in rows]))


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@require_org_type("generator")
def new():
    form = _request_form()
    if form.validate_on_submit():
        try:
            req = services.create_request(current_user, publish=request.form.get("action") != "draft",
                                          **form.service_data(browse.category_of_code))
        except ValidationFailed as exc:
            attach_error(form, exc, REQUEST_FIELD_MAP)
        else:
            flash(_("Request %(number)s posted; matching operators are being told.", number=req.number)
                  if req.status == "open" else _("Request %(number)s saved as a draft.", number=req.number),
                  "success")
            return redirect(url_for("listings.detail", request_id=req.id))
    return render_template("listings/request_new.html", form=form, codes=_code_choices("")), \
        form_status(form)


EXCLUDED_PER_PAGE = 50


def _after(raw: str | None) -> tuple[float, int] | None:
    """The position after which the next page of excluded operators starts ("<key>_<id>")."""
    key, _sep, org_id = (raw or "").partition("_")
    try:
        return (float(key), int(org_id)) if raw else None
    except ValueError:
        return None


def _page(req: DisposalRequest, relation: str, *, edit_form=None, repost_form=None, quote_form=None,
          status: int = 200):
    """Render the request page for the viewer's relation to it."""
    explain = request.args.get("explain") == "1"
    owner_or_overseer = relation in ("owner", "regulator", "platform")
    qualified, excluded, more = [], [], None
    if owner_or_overseer and req.status in EDITABLE_REQUEST_STATUSES:
        qualified, _none = matches(req)
        if explain:
            found = excluded_page(request_facts(req), limit=EXCLUDED_PER_PAGE,
                                  after=_after(request.args.get("after")))
            excluded = [e for e, _km in found.items]
            more = f"{found.next[0]!r}_{found.next[1]}" if found.next else None
    rows = quotes_for_request(req)
    if relation == "operator":
        # Operators see their own quotes only: a competitor's price is not theirs to know.
        rows = [(q, total) for q, total in rows if q.operator_id == current_user.org_id]
    live = [q for q, _t in rows if q.status == "submitted"]
    ctx = dict(req=req, relation=relation, explain=explain, matches=qualified, excluded=excluded,
               more_excluded=more,
               quotes=rows, today=today(), order=browse.order_of_request(req),
               reason_message=reason_message, exclusion_message=exclusion_message,
               can_edit=relation == "owner" and req.status in EDITABLE_REQUEST_STATUSES and not live,
               can_cancel=relation == "owner" and req.status in EDITABLE_REQUEST_STATUSES,
               can_repost=relation == "owner" and req.status in CLOSED_STATUSES,
               editing=edit_form is not None or request.args.get("edit") == "1",
               cheapest=min((t for q, t in rows if q.status == "submitted"), default=None),
               region=catalog.region(req.region_code), reject_form=ReasonForm(),
               category_name=browse.category_names().get(req.category_code, ""))
    if relation == "owner":
        ctx["edit_form"] = edit_form or _request_form(req)
        ctx["repost_form"] = repost_form or RepostForm()
        ctx["cancel_form"] = ReasonForm()
        ctx["codes"] = _code_choices("") if ctx["editing"] else []
    if relation == "operator":
        ctx["standing"] = browse.operator_standing(req, current_user.org_id) \
            if req.status == "open" else None
        ctx["quote_form"] = quote_form or QuoteForm()
        ctx["can_quote"] = req.status == "open" and not any(q.operator_id == current_user.org_id for q in live)
    return render_template("listings/request.html", **ctx), status


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@login_required
def detail(request_id):
    req, relation = browse.visible_request(current_user, request_id)
    if request.method == "GET":
        return _page(req, relation)
    if relation == "owner" and req.status in EDITABLE_REQUEST_STATUSES:
        return _edit(req)
    if relation == "owner":
        return _repost(req)
    if relation == "operator":
        return _quote(req)
    abort(403)


def _edit(req: DisposalRequest):
    form = _request_form(req)
    if form.validate_on_submit():
        try:
            services.edit_request(current_user, req.id, **form.service_data(browse.category_of_code))
        except NotFound:
            raise
        except DomainError as exc:  # a field's rule beside the field, any other refusal above the form
            attach_error(form, exc, REQUEST_FIELD_MAP)
            db.session.refresh(req)
            return _page(req, "owner", edit_form=form, status=exc.status)
        else:
            flash(_("Request %(number)s updated.", number=req.number), "success")
            return redirect(url_for("listings.detail", request_id=req.id))
    db.session.refresh(req)
    return _page(req, "owner", edit_form=form, status=form_status(form))


def _repost(req: DisposalRequest):
    form = RepostForm()
    if form.validate_on_submit():
        try:
            new_req = services.repost_request(current_user, req.id, window_start=form.window_start.data,
                                              window_end=form.window_end.data)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Posted again as request %(number)s.", number=new_req.number), "success")
            return redirect(url_for("listings.detail", request_id=new_req.id))
    db.session.refresh(req)
    return _page(req, "owner", repost_form=form, status=form_status(form))


def _quote(req: DisposalRequest):
    form = QuoteForm()
    if form.validate_on_submit():
        try:
            quotes.submit_quote(current_user, req.id,
                                unit_price_fen_per_t=fen_from_yuan(form.unit_price.data),
                                transport_fee_fen=fen_from_yuan(form.transport_fee.data) or 0,
                                valid_until=form.valid_until.data,
                                subject_to_sampling=bool(form.subject_to_sampling.data),
                                note=form.note.data)
        except ValidationFailed as exc:
            attach_error(form, exc, QUOTE_FIELD_MAP)
        except NotFound:
            raise
        except DomainError as exc:
            # Not matching any more, a live quote already, request closed: said above the form.
            form.form_errors.append(exc.message)
            db.session.refresh(req)
            return _page(req, "operator", quote_form=form, status=exc.status)
        else:
            flash(_("Quote sent to the generator."), "success")
            return redirect(url_for("listings.detail", request_id=req.id))
    db.session.refresh(req)
    return _page(req, "operator", quote_form=form, status=form_status(form))


@bp.post("/requests/<int:request_id>/publish")
@login_required
def publish(request_id):
    return flash_outcome(lambda: services.publish_request(current_user, request_id),
                         _("Request published; matching operators are being told."),
                         url_for("listings.detail", request_id=request_id))


@bp.post("/requests/<int:request_id>/cancel")
@login_required
def cancel(request_id):
    form = ReasonForm()
    return flash_outcome(lambda: services.cancel_request(current_user, request_id, form.reason.data or ""),
                         _("Request cancelled."), url_for("listings.detail", request_id=request_id))


def _generators_quote(quote_id: int) -> Quote:
    """A quote on one of the user's organisation's requests, or 404."""
    quote = db.session.scalar(select(Quote).join(DisposalRequest, DisposalRequest.id == Quote.request_id)
                              .where(Quote.id == quote_id,
                                     DisposalRequest.generator_id == current_user.org_id))
    if quote is None:
        raise NotFound(_("No such quote."))
    return quote


@bp.post("/quotes/<int:quote_id>/accept")
@login_required
def accept(quote_id):
    quote = _generators_quote(quote_id)
    try:
        order = lifecycle.accept_quote(current_user, quote.id)
    except NotFound:
        raise
    except DomainError as exc:  # a 404 stays a 404; a refusal is said on the request page
        flash(exc.message, "error")
        return redirect(url_for("listings.detail", request_id=quote.request_id))
    flash(_("Quote accepted: order %(number)s created.", number=order.number), "success")
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.post("/quotes/<int:quote_id>/reject")
@login_required
def reject(quote_id):
    quote = _generators_quote(quote_id)
    form = ReasonForm()
    return flash_outcome(lambda: quotes.reject_quote(current_user, quote.id, form.reason.data or ""),
                         _("Quote declined."), url_for("listings.detail", request_id=quote.request_id))


@bp.app_template_global()
def marketplace_summary(user) -> dict:
    """What the generator and operator dashboards list: open work, latest requests, quotes, orders."""
    out = {"orders": list(db.session.scalars(visible_orders(select(Order), user)
                                             .order_by(Order.id.desc()).limit(5)))}
    if user.org.has_type("generator"):
        reqs = list(db.session.scalars(select(DisposalRequest).where(
            DisposalRequest.generator_id == user.org_id).order_by(DisposalRequest.id.desc()).limit(5)))
        out.update(requests=reqs, live=browse.live_quote_counts([r.id for r in reqs]))
    if user.org.has_type("operator"):
        out.update(matched=open_requests_for_operator(user.org_id, limit=5),
                   live_quotes=db.session.scalar(select(func.count()).select_from(Quote).where(
                       Quote.operator_id == user.org_id, Quote.status == "submitted")))
    return out

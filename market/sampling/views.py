"""Sampling on the web: the order's sampling panel, the lab's inbox and the sampling order page.

Every POST parses, calls one service and redirects back with the outcome; only the results form
is shown again on a mistake, so the lab keeps what it typed.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.contracts.access import order_for_viewer
from market.errors import DomainError, NotFound, ValidationFailed
from market.orders import lifecycle
from market.sampling import reporting, services
from market.sampling.analytes import display
from market.sampling.forms import (ANALYTE_LABELS, CollectForm, DeclineForm, LabAcceptForm,
                                   PriceForm, ReasonForm, SamplingRequestForm, fen, results_data,
                                   results_form)
from market.sampling.queries import (accredited_labs, declared_profile, flag_message, for_order,
                                     result_flags, sampling_orders_for, visible_sampling)
from market.web.downloads import send_attachment
from market.web.forms import attach_error, flash_outcome
from market.web.inputs import form_int

bp = Blueprint("sampling", __name__)


@bp.get("/sampling")
@login_required
def index():
    return render_template("sampling/index.html", rows=sampling_orders_for(current_user))


@bp.get("/orders/<int:order_id>/sampling")
@login_required
def order_panel(order_id):
    order, role = order_for_viewer(current_user, order_id)
    form = SamplingRequestForm()
    form.lab_org_id.choices = [(lab.id, f"{lab.name} · CMA {permit.number}")
                               for lab, permit in accredited_labs()
                               if lab.id not in (order.generator_id, order.operator_id)]
    rows = for_order(order.id)
    flags = {so.id: [flag_message(f) for f in result_flags(so)] for so in rows}
    return render_template("sampling/order.html", order=order, role=role, rows=rows, flags=flags,
                           declared=declared_profile(order),
                           form=form, price_form=PriceForm(), decline_form=DeclineForm(),
                           answer_form=ReasonForm(), labels=ANALYTE_LABELS)


@bp.post("/orders/<int:order_id>/sampling")
@login_required
def request_sampling(order_id):
    order_for_viewer(current_user, order_id)
    back = url_for("sampling.order_panel", order_id=order_id)
    form = SamplingRequestForm()
    return flash_outcome(lambda: services.request_sampling(
        current_user, order_id, lab_org_id=form_int("lab_org_id"),
        analytes=form.analytes.data or []),
        _("The sampling order was sent to the laboratory."), back)


@bp.post("/orders/<int:order_id>/price")
@login_required
def decide_price(order_id):
    order_for_viewer(current_user, order_id)
    back = url_for("sampling.order_panel", order_id=order_id)
    if request.form.get("action") == "decline":
        form = DeclineForm()
        return flash_outcome(lambda: lifecycle.decline_price(current_user, order_id, form.decline.data or ""),
                        _("You declined; the order is cancelled and the lab's fee remains payable."), back)
    form = PriceForm()
    return flash_outcome(lambda: lifecycle.confirm_price(current_user, order_id, fen(form.unit_price.data)),
                         _("Price confirmed."), back, form=form)


@bp.post("/orders/<int:order_id>/price/answer")
@login_required
def answer_price(order_id):
    order_for_viewer(current_user, order_id)
    back = url_for("sampling.order_panel", order_id=order_id)
    form = ReasonForm()
    accept = request.form.get("answer") == "accept"
    return flash_outcome(lambda: lifecycle.respond_to_price(current_user, order_id, accept=accept,
                                                  reason=form.reason.data or ""),
                    _("You accepted the new price; the contract is being prepared.") if accept
                    else _("You rejected the new price; the order is cancelled."), back)


def _detail(so, role, *, results=None, status: int = 200):
    flags = [flag_message(f) for f in result_flags(so)]
    return render_template("sampling/detail.html", so=so, role=role, flags=flags,
                           labels=ANALYTE_LABELS, accept_form=LabAcceptForm(),
                           collect_form=CollectForm(), cancel_form=ReasonForm(),
                           results=results or results_form(so.analytes)), status


@bp.get("/sampling/<int:sampling_id>")
@login_required
def detail(sampling_id):
    so, role = visible_sampling(current_user, sampling_id)
    return _detail(so, role)


def _lab_only(so, role):
    if role != "lab":
        flash(_("Only the laboratory of this sampling order may do this."), "error")
        return redirect(url_for("sampling.detail", sampling_id=so.id))
    return None


@bp.post("/sampling/<int:sampling_id>/accept")
@login_required
def accept(sampling_id):
    so, role = visible_sampling(current_user, sampling_id)
    refused = _lab_only(so, role)
    if refused:
        return refused
    form = LabAcceptForm()
    return flash_outcome(lambda: services.lab_accept(current_user, sampling_id, fee_fen=fen(form.fee.data)),
                         _("Accepted; the fee is recorded on the order as due to your laboratory."),
                         url_for("sampling.detail", sampling_id=sampling_id), form=form)


@bp.post("/sampling/<int:sampling_id>/collect")
@login_required
def collect(sampling_id):
    so, role = visible_sampling(current_user, sampling_id)
    refused = _lab_only(so, role)
    if refused:
        return refused
    form = CollectForm()
    return flash_outcome(lambda: services.lab_collect(
        current_user, sampling_id, collected_on=form.collected_on.data, sampler=form.sampler.data,
        custody_number=form.custody_number.data), _("Sampling recorded."),
        url_for("sampling.detail", sampling_id=sampling_id), form=form)


@bp.post("/sampling/<int:sampling_id>/results")
@login_required
def results(sampling_id):
    so, role = visible_sampling(current_user, sampling_id)
    refused = _lab_only(so, role)
    if refused:
        return refused
    back = url_for("sampling.detail", sampling_id=sampling_id)
    form = results_form(so.analytes)
    if form.validate_on_submit():
        upload = form.report.data
        try:
            reporting.report_results(current_user, sampling_id, results=results_data(form, so.analytes),
                                     report=upload.read() if upload else None)
        except ValidationFailed as exc:
            field = (exc.field or "").removeprefix("results.").split(".")
            name = "report" if field[0] == "report" else (
                f"method_{field[0]}" if len(field) > 1 else f"value_{field[0]}")
            attach_error(form, exc, {exc.field: name})
        except NotFound:
            raise
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(back)
        else:
            flash(_("Results reported; the operator now decides on the price."), "success")
            return redirect(back)
    return _detail(so, role, results=form, status=422)


@bp.post("/sampling/<int:sampling_id>/cancel")
@login_required
def cancel(sampling_id):
    visible_sampling(current_user, sampling_id)
    form = ReasonForm()
    return flash_outcome(lambda: services.cancel_sampling(current_user, sampling_id, form.reason.data or ""),
                    _("Sampling order cancelled."), url_for("sampling.detail", sampling_id=sampling_id))


@bp.get("/sampling/<int:sampling_id>/report.pdf")
@login_required
def report(sampling_id):
    so, _role = visible_sampling(current_user, sampling_id)
    if not so.report_file:
        raise NotFound(_("No report was uploaded yet."))
    return send_attachment(reporting.report_path(so.report_file), mimetype="application/pdf",
                           filename=f"{so.number}-report.pdf")


@bp.app_template_filter("analyte_value")
def analyte_value(value) -> str:
    """A stored measurement without trailing zeros (7.2000 → 7.2)."""
    return display(value)

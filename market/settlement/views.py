"""Settlement pages: the settlement section of an order page, the disposal certificate upload,
an organisation's payables, and finance's payouts of what is owed."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError, NotFound, ValidationFailed
from market.orders import settling
from market.orders.queries import visible_order
from market.settlement import payables as payables_q
from market.settlement import queries
from market.settlement.forms import CertificateForm, PayoutForm
from market.web.forms import attach_error
from market.web.i18n import money
from market.web.security import acting_user, require_platform_role

bp = Blueprint("settlement", __name__)


@bp.app_context_processor
def settlement_helpers():
    """The order page includes settlement/_order.html, which reads the settlement here."""
    return {"order_settlement": queries.settlement_view, "certificate_form": CertificateForm}


@bp.post("/orders/<int:order_id>/certificate")
@login_required
def upload_certificate(order_id):
    visible_order(acting_user(), order_id)
    form = CertificateForm()
    upload = form.certificate.data
    back = redirect(url_for("orders.detail", order_id=order_id) + "#settlement")
    if not form.validate() or upload is None or not getattr(upload, "filename", ""):
        flash(_("Attach the disposal certificate."), "error")
        return back
    try:
        settling.upload_certificate(current_user, order_id, upload.stream, upload.filename)
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Disposal certificate uploaded; any retention is released to you."), "success")
    return back


@bp.get("/payables")
@login_required
def payables():
    user = current_user
    if user.is_platform or user.is_regulator:
        abort(404)
    return render_template("settlement/payables.html", payables=payables_q.payables(user.org_id))


def _finance_page(form: PayoutForm, status: int = 200):
    return render_template("settlement/finance_payables.html", form=form,
                           owed=payables_q.owed_organisations()), status


@bp.get("/finance/payables")
@login_required
@require_platform_role("finance", "admin")
def finance_payables():
    return _finance_page(PayoutForm())


@bp.post("/finance/payables")
@login_required
@require_platform_role("finance")
def record_payout():
    form = PayoutForm()
    if not form.validate():
        return _finance_page(form, 422)
    try:
        payout = settling.record_bank_payout(current_user, form.org_id.data, form.amount.fen,
                                             form.bank_ref.data)
    except ValidationFailed as exc:
        attach_error(form, exc, {"amount_fen": "amount"})
        return _finance_page(form, 422)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _finance_page(form, exc.status)
    flash(_("Payout of %(amount)s recorded.", amount=money(payout.amount_fen)),
          "success")
    return redirect(url_for("settlement.finance_payables"))

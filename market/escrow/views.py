"""Escrow pages: an order's payment page (payer and payee), disputes, cancelling by agreement,
an organisation's money overview, and the Stripe webhook endpoint."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import db
from market.accounts.uploads import scan_path
from market.errors import DomainError, NotFound
from market.escrow import disputes, queries
from market.escrow.dispute_models import DisputeEvidence
from market.escrow.forms import AnswerForm, DisputeForm, ProposalForm, ResolveForm, TokenForm
from market.escrow.gateways import InvalidSignature
from market.escrow.webhooks import receive_stripe
from market.orders import lifecycle, state
from market.web.downloads import send_attachment
from market.web.i18n import money
from market.web.security import acting_user, require_platform_role

bp = Blueprint("escrow", __name__)


def _back(order_id: int):
    return redirect(url_for("escrow.payment", order_id=order_id))


def _flash_error(exc: DomainError) -> None:
    flash(exc.message, "error")


@bp.get("/orders/<int:order_id>/payment")
@login_required
def payment(order_id):
    order, role = queries.visible_order(current_user, order_id)
    money = queries.order_money(order)
    mine = money.request_of(current_user.org_id) if role in ("generator", "operator") else None
    cfg = current_app.config
    return render_template(
        "escrow/payment.html", order=order, role=role, money=money, mine=mine,
        gateway=cfg["PAYMENT_GATEWAY"], publishable_key=cfg.get("STRIPE_PUBLISHABLE_KEY"),
        account={"name": cfg["CUSTODY_ACCOUNT_NAME"], "number": cfg["CUSTODY_ACCOUNT_NUMBER"],
                 "bank": cfg["CUSTODY_BANK"]},
        can_dispute=role in ("generator", "operator") and state.can(order.status, "disputed", role),
        can_propose=role in ("generator", "operator") and order.status == "funded"
        and money.proposal is None,
        fund_form=TokenForm(), dispute_form=DisputeForm(), proposal_form=ProposalForm(),
        answer_form=AnswerForm())


@bp.post("/orders/<int:order_id>/funding")
@login_required
def fund(order_id):
    queries.visible_order(acting_user(), order_id)
    try:
        out = lifecycle.request_funding(current_user, order_id)
    except NotFound:
        raise
    except DomainError as exc:
        _flash_error(exc)
    else:
        flash(_("Pay %(amount)s into escrow quoting %(reference)s.",
                amount=money(out["amount_fen"]), reference=out["reference"]), "success")
    return _back(order_id)


@bp.post("/orders/<int:order_id>/disputes")
@login_required
def open_dispute(order_id):
    queries.visible_order(acting_user(), order_id)
    form = DisputeForm()
    files = [(f.stream, f.filename) for f in request.files.getlist("evidence") if f and f.filename]
    try:
        dispute = disputes.open_dispute(current_user, order_id, form.reason.data or "", files)
    except DomainError as exc:
        _flash_error(exc)
        return _back(order_id)
    flash(_("Dispute opened; the money stays in escrow until an administrator decides."),
          "success")
    return redirect(url_for("escrow.dispute", dispute_id=dispute.id))


@bp.post("/orders/<int:order_id>/cancellation")
@login_required
def propose_cancellation(order_id):
    queries.visible_order(acting_user(), order_id)
    form = ProposalForm()
    try:
        disputes.propose_cancellation(current_user, order_id, form.reason.data or "")
    except DomainError as exc:
        _flash_error(exc)
    else:
        flash(_("Cancellation proposed; the other party is asked to agree."), "success")
    return _back(order_id)


@bp.post("/orders/<int:order_id>/cancellation/answer")
@login_required
def answer_cancellation(order_id):
    queries.visible_order(acting_user(), order_id)
    agree = AnswerForm().decision.data == "agree"
    try:
        lifecycle.answer_cancellation(current_user, order_id, agree)
    except DomainError as exc:
        _flash_error(exc)
    else:
        flash(_("The order is cancelled and the payers are refunded in full.") if agree
              else _("The cancellation proposal is closed."), "success")
    return _back(order_id)


@bp.get("/disputes")
@login_required
@require_platform_role("admin", "finance")
def dispute_list():
    return render_template("escrow/disputes.html", disputes=queries.open_disputes())


@bp.get("/disputes/<int:dispute_id>")
@login_required
def dispute(dispute_id):
    item = queries.visible_dispute(current_user, dispute_id)
    money = queries.order_money(item.order)
    parties = sorted({item.order.generator_id, item.order.operator_id}
                     | {ln.payee_org_id for ln in item.order.lines})
    return render_template("escrow/dispute.html", dispute=item, order=item.order, money=money,
                           parties=parties, form=ResolveForm(),
                           can_resolve=current_user.platform_role == "admin"
                           and item.status == "open")


@bp.post("/disputes/<int:dispute_id>/resolve")
@login_required
def resolve(dispute_id):
    item = queries.visible_dispute(acting_user(), dispute_id)
    form = ResolveForm()
    split = {}
    for name, value in request.form.items():
        if name.startswith("share_"):
            # Blank means nothing to that party; anything else must be a whole number of fen.
            value = value.strip() or "0"
            split[name[len("share_"):]] = int(value) if value.isascii() and value.isdigit() \
                and len(value) <= 18 else value
    try:
        lifecycle.resolve_dispute(current_user, dispute_id, split, form.note.data or "")
    except DomainError as exc:
        _flash_error(exc)
    else:
        flash(_("Dispute resolved; the money is released and refunded as decided."), "success")
    return redirect(url_for("escrow.dispute", dispute_id=item.id))


@bp.get("/disputes/<int:dispute_id>/evidence/<int:evidence_id>")
@login_required
def evidence(dispute_id, evidence_id):
    queries.visible_dispute(current_user, dispute_id)
    item = db.session.get(DisputeEvidence, evidence_id)
    if item is None or item.dispute_id != dispute_id or not scan_path(item.stored_name).exists():
        abort(404)
    return send_attachment(scan_path(item.stored_name), mimetype=item.mime,
                           filename=item.original_name)


@bp.get("/money")
@login_required
def money_overview():
    user = current_user
    if user.is_platform or user.is_regulator:
        abort(404)
    return render_template("escrow/money.html", money=queries.org_money(user.org_id))


@bp.post("/webhooks/stripe")
def stripe_webhook():
    """Stripe calls this; the signature on the raw body is the only authentication."""
    try:
        event_id, new = receive_stripe(request.get_data(cache=False),
                                       request.headers.get("Stripe-Signature"))
    except InvalidSignature:
        return jsonify(error={"code": "bad_signature",
                              "message": "signature missing, wrong or too old"}), 400
    return jsonify(received=event_id, duplicate=not new)

"""Finance pages: receipts to confirm, suspense items, ledger browser by account, trial balance."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import ledger
from market.ledger.names import account_names
from market.errors import DomainError, ValidationFailed
from market.escrow import queries, receipts
from market.escrow.forms import MatchForm, ReceiptForm, ReturnForm
from market.orders import lifecycle
from market.web.forms import attach_error
from market.web.inputs import arg_int
from market.web.security import require_platform_role

bp = Blueprint("finance", __name__, url_prefix="/finance")
staff_only = require_platform_role("finance", "admin")


def _overview(form: ReceiptForm, status: int = 200):
    return render_template("finance/receipts.html", form=form,
                           awaiting=queries.awaiting_receipts(),
                           receipts=queries.recent_receipts(),
                           alerts=queries.gateway_alerts()), status


@bp.get("")
@login_required
@staff_only
def index():
    return _overview(ReceiptForm())


@bp.post("/receipts")
@login_required
@staff_only
def confirm_receipt():
    form = ReceiptForm()
    if not form.validate():
        return _overview(form, 422)
    try:
        receipt = lifecycle.confirm_receipt(
            current_user, reference=form.reference.data, amount_fen=form.amount.fen,
            received_on=form.received_on.data, payer_name=form.payer_name.data,
            bank_ref=form.bank_ref.data)
    except ValidationFailed as exc:
        attach_error(form, exc, {"amount_fen": "amount"})
        return _overview(form, 422)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _overview(form, exc.status)
    messages = {"funded": _("Receipt booked: the order's funding is complete."),
                "partial": _("Receipt booked: less than due, the order still awaits the rest."),
                "excess": _("Receipt booked: more than due, the excess is in suspense."),
                "unmatched": _("Receipt booked to suspense: its reference matches no order.")}
    flash(messages[receipt.status], "success" if receipt.status == "funded" else "warning")
    return redirect(url_for("finance.index"))


@bp.get("/suspense")
@login_required
@staff_only
def suspense():
    return render_template("finance/suspense.html", items=queries.suspense_items(),
                           match_form=MatchForm(), return_form=ReturnForm())


def _suspense_action(form, action) -> object:
    if not form.validate():
        errors = [e for errs in form.errors.values() for e in errs]
        flash("; ".join(str(e) for e in errors), "error")
    else:
        try:
            action(form)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Suspense item updated."), "success")
    return redirect(url_for("finance.suspense"))


def _receipt_id(form) -> int:
    raw = form.receipt_id.data or ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ValidationFailed(_("No such receipt."), field="receipt_id")
    return int(raw)


@bp.post("/suspense/match")
@login_required
@staff_only
def match_suspense():
    return _suspense_action(MatchForm(), lambda f: lifecycle.match_suspense(
        current_user, _receipt_id(f), f.reference.data, f.amount.fen,
        f"form:{current_user.id}:{f.idem.data}"))


@bp.post("/suspense/return")
@login_required
@staff_only
def return_suspense():
    return _suspense_action(ReturnForm(), lambda f: receipts.return_suspense(
        current_user, _receipt_id(f), f.amount.fen, f.bank_ref.data,
        f"form:{current_user.id}:{f.idem.data}"))


@bp.get("/ledger")
@login_required
@staff_only
def ledger_browser():
    code = (request.args.get("account") or "").strip()
    prefix = (request.args.get("prefix") or "").strip()[:60]
    postings, balance, error = [], None, None
    if code:
        try:
            postings = ledger.account_postings(code, limit=100,
                                               before_entry_id=arg_int("before", 2**63 - 1))
            balance = ledger.balance(code)
        except ValidationFailed as exc:
            error, code = exc.message, ""
    return render_template("finance/ledger.html", code=code, prefix=prefix, error=error,
                           accounts=ledger.balances(prefix or None), postings=postings,
                           balance=balance)


@bp.get("/trial-balance")
@login_required
@staff_only
def trial_balance():
    return render_template("finance/trial_balance.html", tb=ledger.trial_balance())


@bp.app_context_processor
def finance_helpers():
    # A callable, not the counts: only the finance dashboard pays for the queries.
    return {"finance_summary": queries.finance_summary, "account_names": account_names}

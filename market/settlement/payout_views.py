"""Payout pages: the payee's bank account on file, finance's payout queue and batches (build,
download the bank file, record a return). Admins verify accounts in account_review_views."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError, NotFound, ValidationFailed
from market.orders import settling
from market.settlement import bank_accounts, batches, payout_queries
from market.settlement.forms import BankAccountForm, BatchForm, ReturnLineForm
from market.web.forms import attach_error
from market.web.i18n import money
from market.web.inputs import arg_int, form_int
from market.web.security import require_platform_role

bp = Blueprint("payouts", __name__)
finance_staff = require_platform_role("finance", "admin")


@bp.app_context_processor
def payout_helpers():
    # Callables: only the finance and admin dashboards pay for their queries.
    return {"payout_queue": payout_queries.queue,
            "bank_accounts_pending": bank_accounts.awaiting_count}


def _account_page(form: BankAccountForm, status: int = 200):
    return render_template("settlement/bank_account.html", form=form,
                           account=bank_accounts.account_of(current_user.org_id)), status


def _tenant() -> None:
    if current_user.is_platform or current_user.is_regulator:
        abort(404)


@bp.get("/bank-account")
@login_required
def bank_account():
    _tenant()
    account = bank_accounts.account_of(current_user.org_id)
    form = BankAccountForm()
    if account is not None:
        form.account_name.data = account.account_name
        form.bank_name.data = account.bank_name
    return _account_page(form)


@bp.post("/bank-account")
@login_required
def set_bank_account():
    _tenant()
    form = BankAccountForm()
    if not form.validate():
        return _account_page(form, 422)
    try:
        bank_accounts.set_account(current_user, form.account_name.data, form.bank_name.data,
                                  form.account_number.data)
    except ValidationFailed as exc:
        attach_error(form, exc)
        return _account_page(form, 422)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _account_page(form, exc.status)
    flash(_("Bank account saved; a platform administrator verifies it before payouts go to "
            "it."), "success")
    return redirect(url_for("payouts.bank_account"))


def _batches_page(form: BatchForm, status: int = 200):
    return render_template("settlement/payout_batches.html", form=form,
                           queue=payout_queries.queue(), batches=batches.recent()), status


@bp.get("/finance/payout-batches")
@login_required
@finance_staff
def batch_list():
    return _batches_page(BatchForm())


@bp.post("/finance/payout-batches")
@login_required
@require_platform_role("finance")
def build_batch():
    form = BatchForm()
    if not form.validate():
        return _batches_page(form, 422)
    try:
        batch = settling.build_payout_batch(current_user, f"form:{current_user.id}:"
                                                          f"{form.idem.data}")
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _batches_page(form, exc.status)
    flash(_("Payout batch %(batch)d sent: %(amount)s in total; lines: %(count)d.",
            batch=batch.id, count=batch.line_count, amount=money(batch.total_fen)), "success")
    return redirect(url_for("payouts.batch_detail", id=batch.id))


# Batch and line ids travel in the query string or the form, as on the other finance pages.
@bp.get("/finance/payout-batch")
@login_required
@finance_staff
def batch_detail():
    batch = batches.batch(arg_int("id"))
    payouts = batches.payouts_of(batch.lines)
    return render_template("settlement/payout_batch.html", batch=batch, payouts=payouts,
                           names=batches.org_names(ln.org_id for ln in batch.lines),
                           status_of=payout_queries.line_status, return_form=ReturnLineForm())


@bp.get("/finance/payout-batch/file")
@login_required
@finance_staff
def batch_file():
    batch = batches.batch(arg_int("id"))
    return Response(batch.file_csv.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={batch.file_name}"})


@bp.post("/finance/payout-batch/returned")
@login_required
@require_platform_role("finance")
def return_line():
    form = ReturnLineForm()
    if not form.validate():
        flash(_("%(field)s is required.", field=_("Why the bank returned it")), "error")
        return redirect(url_for("payouts.batch_list"))
    try:
        line = batches.mark_returned(current_user, form_int("line_id"), form.reason.data)
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("payouts.batch_list"))
    flash(_("Payout %(reference)s marked returned; the amount is owed to the organisation "
            "again.", reference=line.reference), "success")
    return redirect(url_for("payouts.batch_detail", id=line.batch_id))

"""Admin pages that verify payees' bank accounts (routes on the admin blueprint, whose
before_request lets only platform administrators in)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.admin.views import bp
from market.settlement import bank_accounts as accounts
from market.settlement import batches
from market.settlement.forms import RejectAccountForm
from market.web.forms import flash_outcome


@bp.get("/bank-accounts")
def bank_accounts():
    pending = accounts.awaiting_verification()
    return render_template("admin/bank_accounts.html", accounts=pending,
                           names=batches.org_names(a.org_id for a in pending),
                           reject_form=RejectAccountForm())


@bp.post("/bank-accounts/<int:account_id>/verify")
def verify_account(account_id):
    return flash_outcome(lambda: accounts.verify(current_user, account_id),
                         _("Bank account verified."), url_for("admin.bank_accounts"))


@bp.post("/bank-accounts/<int:account_id>/reject")
def reject_account(account_id):
    form = RejectAccountForm()
    if not form.validate():
        flash(_("%(field)s is required.", field=_("Reason")), "error")
        return redirect(url_for("admin.bank_accounts"))
    return flash_outcome(lambda: accounts.reject(current_user, account_id, form.reason.data),
                         _("Bank account rejected; the organisation is told why."),
                         url_for("admin.bank_accounts"))

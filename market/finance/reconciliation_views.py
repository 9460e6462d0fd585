"""The reconciliation desk: upload statements, run matching, resolve exceptions, close days.

Ids travel in the form body (like the suspense page), so every route is finance-only by role.
"""
from __future__ import annotations

from datetime import date

from flask import (Blueprint, Response, flash, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError, NotFound, ValidationFailed
from market.reconciliation import close, desk, exports, imports, queries, reports, uploads
from market.reconciliation import jobs as recon
from market.reconciliation.desk import ADJUSTMENT_ACCOUNTS
from market.web.security import require_platform_role

bp = Blueprint("reconciliation", __name__, url_prefix="/finance/reconciliation")
staff_only = require_platform_role("finance", "admin")
REFRESH_SECONDS = 2


def _int(name: str) -> int:
    raw = (request.form.get(name) or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(_("%(field)s must be a whole number.", field=name), field=name)
    return int(raw)


def _day() -> date:
    try:
        return date.fromisoformat((request.form.get("day") or "").strip())
    except ValueError:
        raise ValidationFailed(_("%(field)s must be a date.", field="day"), field="day") from None


def _do(action, done: str):
    try:
        action()
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("reconciliation.desk_page"))


@bp.get("")
@login_required
@staff_only
def desk_page():
    return render_template("finance/reconciliation.html", imports=queries.recent_imports(),
                           items=queries.open_exceptions(),
                           resolved=queries.resolved_exceptions(), days=queries.days(),
                           accounts=ADJUSTMENT_ACCOUNTS, figures=queries.figures(),
                           uploads=uploads.recent())


@bp.post("/upload")
@login_required
@staff_only
def upload():
    file = request.files.get("file")

    def run():
        if file is None or not file.filename:
            raise ValidationFailed(_("%(field)s is required.", field="file"), field="file")
        data = file.read(imports.MAX_BYTES + 1)
        if uploads.needs_job(data):
            up = recon.queue_upload(current_user, filename=file.filename, data=data)
            flash(_("%(name)s is being imported and matched; this page shows how far it has "
                    "got.", name=up.filename), "success")
            return redirect(url_for("reconciliation.progress", upload=up.id))
        imp = imports.import_statement(current_user, filename=file.filename, data=data)
        flash(_("Imported %(n)d lines from %(name)s.", n=imp.line_count, name=imp.filename),
              "success")
        for note in imports.skipped_notes(imp.skipped):
            flash(_("Skipped: %(note)s", note=note), "warning")
        return None
    try:
        moved = run()
    except DomainError as exc:
        flash(exc.message, "error")
        moved = None
    return moved or redirect(url_for("reconciliation.desk_page"))


@bp.get("/progress")
@login_required
@staff_only
def progress():
    """A large file's import: refreshes itself (Refresh header, no script) until it is done."""
    raw = (request.args.get("upload") or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise NotFound(_("No such statement upload."))
    up = uploads.get(int(raw))
    shown = uploads.progress(up)
    resp = make_response(render_template("finance/reconciliation_progress.html", up=up,
                                         p=shown, refresh=REFRESH_SECONDS))
    if not shown["finished"]:
        resp.headers["Refresh"] = str(REFRESH_SECONDS)
    return resp


@bp.post("/match")
@login_required
@staff_only
def run_matching():
    return _do(lambda: recon.run_matching(current_user), _("Matching done."))


@bp.post("/resolve")
@login_required
@staff_only
def resolve():
    how = request.form.get("how", "")
    reason = request.form.get("reason", "")

    def run():
        exc_id = _int("exception_id")
        if how == "adjustment":
            desk.resolve_by_adjustment(current_user, exc_id, request.form.get("account", ""),
                                       reason)
        elif how == "match":
            desk.resolve_by_match(current_user, exc_id, _int("entry_id"), reason)
        elif how == "refund":
            desk.resolve_by_suspense_refund(current_user, exc_id,
                                            request.form.get("bank_ref", ""), reason)
        elif how == "reference":
            recon.resolve_by_reference(current_user, exc_id, request.form.get("reference", ""),
                                       reason)
        else:
            raise ValidationFailed(_("%(field)s is required.", field="how"), field="how")
    return _do(run, _("Exception resolved."))


@bp.post("/reopen")
@login_required
@staff_only
def reopen():
    return _do(lambda: desk.reopen(current_user, _int("exception_id"),
                                   request.form.get("reason", "")),
               _("Exception reopened; its entry was reversed."))


@bp.post("/close")
@login_required
@staff_only
def close_day():
    return _do(lambda: close.close_day(current_user, "bank", _day()), _("Day closed."))


@bp.post("/sign-off")
@login_required
@staff_only
def sign_off():
    return _do(lambda: close.sign_off(current_user, "bank", _day()), _("Day signed off."))


@bp.get("/report")
@login_required
@staff_only
def report():
    """?name=trial_balance|fee_revenue|escrow_by_age|payables|reconciliation&format=csv|xlsx"""
    name, fmt = request.args.get("name", ""), request.args.get("format", "csv")
    if name not in reports.REPORTS or fmt not in ("csv", "xlsx"):
        raise NotFound(_("No such report."))
    headers, rows = reports.REPORTS[name]()
    if fmt == "csv":
        body, mime = exports.to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(name, headers, rows)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename={name}.{fmt}"})

"""The regulator workspace on the web (DESIGN.md §8): dashboard, flows, capacity, the alerts queue,
organisations and their profiles, the settlement feed as CSV, and the two regulator writes —
alert notes and sanctions. Regulators see their region, platform staff everything; anyone else
is refused (403), except on its own organisation's profile."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError, NotFound, ValidationFailed
from market.oversight import feed, index_panel, labels, policies, queries, reports, services
from market.oversight.credit import COMPONENTS
from market.oversight.models import ALERT_STATUSES
from market.web.headers import draws_charts

bp = Blueprint("oversight", __name__, url_prefix="/regulator")


@bp.context_processor
def oversight_labels():
    return {"rule_label": labels.rule_label, "severity_label": labels.severity_label,
            "alert_status_label": labels.alert_status_label,
            "component_label": labels.component_label}


def _prefix() -> str | None:
    return queries.prefix_of(current_user)


@bp.get("")
@login_required
@draws_charts
def dashboard():
    prefix = _prefix()
    return render_template("oversight/dashboard.html", prefix=prefix,
                           alert_counts=queries.alert_counts(prefix),
                           order_counts=queries.order_counts(prefix),
                           prices=queries.settled_prices(prefix),
                           index=index_panel.index_panel(prefix),
                           open_alerts=queries.alerts(prefix, status="open", limit=10),
                           category_names=queries.category_names())


@bp.get("/flows")
@login_required
@draws_charts
def flows():
    prefix = _prefix()
    return render_template("oversight/flows.html", prefix=prefix, flows=queries.flows(prefix),
                           category_names=queries.category_names())


@bp.get("/capacity")
@login_required
@draws_charts
def capacity():
    prefix = _prefix()
    return render_template("oversight/capacity.html", prefix=prefix,
                           rows=queries.capacity(prefix), year=date.today().year,
                           category_names=queries.category_names())


@bp.get("/alerts")
@login_required
def alerts():
    prefix = _prefix()
    status = request.args.get("status") if request.args.get("status") in ALERT_STATUSES else None
    role = "regulator" if current_user.is_regulator else "admin"
    return render_template("oversight/alerts.html", prefix=prefix, status=status,
                           statuses=ALERT_STATUSES, alerts=queries.alerts(prefix, status=status),
                           next_states=lambda a: policies.alert_next(a.status, role))


@bp.post("/alerts")
@login_required
def update_alert():
    _prefix()
    back = redirect(url_for("oversight.alerts"))
    raw = request.form.get("alert_id", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise NotFound(_("No such alert."))
    try:
        alert = services.update_alert(current_user, int(raw), request.form.get("status"),
                                      request.form.get("note", ""))
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return back
    flash(_("Alert %(id)s is now %(status)s.", id=alert.id,
            status=labels.alert_status_label(alert.status)), "success")
    return back


@bp.get("/organisations")
@login_required
def organisations():
    prefix = _prefix()
    return render_template("oversight/organisations.html", prefix=prefix,
                           orgs=queries.organisations(prefix))


@bp.get("/organisations/<int:org_id>")
@login_required
def organisation(org_id):
    org = queries.visible_organisation(current_user, org_id)
    today = date.today()
    facts = queries.profile(org, current_user.org.scope_prefix if current_user.is_regulator
                            else None)
    if not (current_user.is_regulator or current_user.is_platform):
        facts["alerts"] = []  # alerts are the regulators'; an organisation sees its credit
    return render_template("oversight/organisation.html", components=COMPONENTS, today=today,
                           sanction_from=today, sanction_to=today + timedelta(days=365),
                           can_sanction=current_user.is_regulator and org.kind == "enterprise",
                           category_names=queries.category_names(), **facts)


@bp.post("/sanctions")
@login_required
def impose_sanction():
    _prefix()
    raw = request.form.get("org_id", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise NotFound(_("Not found."))
    org_id = int(raw)
    try:
        services.impose_sanction(current_user, org_id, request.form.get("kind", "blacklist"),
                                 request.form.get("reason", ""), request.form.get("valid_from"),
                                 request.form.get("valid_to"))
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("oversight.organisation", org_id=org_id))
    flash(_("Sanction recorded."), "success")
    return redirect(url_for("oversight.organisation", org_id=org_id))


@bp.get("/settlements.csv")
@login_required
def settlements_csv():
    prefix = _prefix()
    try:
        to = date.fromisoformat(request.args.get("to") or date.today().isoformat())
        frm = date.fromisoformat(request.args.get("from") or (to - timedelta(days=30)).isoformat())
    except ValueError:
        raise ValidationFailed(_("from and to must be dates written YYYY-MM-DD."), field="from")
    if frm > to or (to - frm).days > 366:
        raise ValidationFailed(_("The range may span at most %(n)s days.", n=366), field="from")
    text = feed.feed_csv(feed.feed_rows(prefix, frm, to))
    return Response(text.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="settlements-{frm}-{to}.csv"'})


def _month() -> reports.Month:
    raw = request.args.get("month") or date.today().strftime("%Y-%m")
    try:
        return reports.Month.parse(raw)
    except ValueError:
        raise ValidationFailed(_("month must be written YYYY-MM."), field="month") from None


@bp.get("/organisations/<int:org_id>/operating-report.csv")
@login_required
def operating_report_csv(org_id):
    """The operating report (经营情况月报) as CSV: the operator itself, its regulator, staff."""
    org = queries.visible_organisation(current_user, org_id)
    month = _month()
    text = reports.report_csv(reports.operating_rows(org.id, month))
    return Response(text.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="operating-report-{org.id}-{month}.csv"'})


@bp.get("/organisations/<int:org_id>/operating-report.pdf")
@login_required
def operating_report_pdf(org_id):
    org = queries.visible_organisation(current_user, org_id)
    month = _month()
    pdf = reports.report_pdf(org, month, reports.operating_rows(org.id, month))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="operating-report-{org.id}-{month}.pdf"'})

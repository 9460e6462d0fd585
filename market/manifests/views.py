"""Manifests on the web: the order's manifests, drafting one, the manifest page with each party's
step (pickup signatures, driver code, receipt, discrepancies), the PDF, a no-login driver signing
page and the public verification page. Unsent provincial reports are on an admin page
(market/admin/views.py)."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError, NotFound, ValidationFailed
from market.jobs.schedule import TZ
from market.db import utcnow
from market.manifests import document, queries, receiving, signing
from market.manifests.access import visible_manifest
from market.manifests.forms import (MANIFEST_FIELD_MAP, CancelForm, DiscrepancyForm,
                                    DriverCodeForm, DriverSignForm, ManifestForm, ReceiveForm,
                                    RefusalForm, SignForm)
from market.orders import lifecycle
from market.orders.queries import visible_order
from market.web.forms import attach_error, flash_outcome, form_status
from market.web.limiter import limiter

bp = Blueprint("manifests", __name__)


def _back(manifest_id: int) -> str:
    return url_for("manifests.detail", manifest_id=manifest_id)


@bp.get("/manifests")
@login_required
def index():
    return render_template("manifests/index.html", manifests=queries.manifests_for(current_user))


@bp.route("/orders/<int:order_id>/manifests/new", methods=["GET", "POST"])
@login_required
def new(order_id):
    order, role = visible_order(current_user, order_id)
    form = ManifestForm()
    form.carrier_org_id.choices = queries.carrier_choices()
    if request.method == "GET" and form.planned_pickup_at.data is None:
        form.planned_pickup_at.data = utcnow().astimezone(TZ).replace(second=0, microsecond=0,
                                                                     tzinfo=None)
    if role == "generator" and form.validate_on_submit():
        data = form.service_data()
        data["planned_pickup_at"] = data["planned_pickup_at"].replace(tzinfo=TZ)
        try:
            manifest = lifecycle.create_manifest(current_user, order_id, data)
        except (ValidationFailed, DomainError) as exc:
            if isinstance(exc, NotFound):
                raise
            attach_error(form, exc, MANIFEST_FIELD_MAP)
        else:
            flash(_("Manifest %(number)s drafted; the generator and the carrier sign at pickup.",
                    number=manifest.number), "success")
            return redirect(_back(manifest.id))
    return render_template("manifests/new.html", form=form, order=order,
                           may_draft=role == "generator"), form_status(form)


@bp.get("/manifests/<int:manifest_id>")
@login_required
def detail(manifest_id):
    manifest, roles = visible_manifest(current_user, manifest_id)
    receive_form = ReceiveForm()
    receive_form.method_code.choices = queries.method_choices(manifest)
    return render_template(
        "manifests/manifest.html", m=manifest, roles=roles,
        actions=queries.actions_for(manifest, current_user),
        discrepancies=queries.discrepancies_of(manifest.id),
        reports=queries.reports_of(manifest.id), sign_form=SignForm(),
        code_form=DriverCodeForm(), receive_form=receive_form,
        discrepancy_form=DiscrepancyForm(), refusal_form=RefusalForm(), cancel_form=CancelForm())


@bp.post("/manifests/<int:manifest_id>/sign")
@login_required
def sign(manifest_id):
    visible_manifest(current_user, manifest_id)
    form = SignForm()
    return flash_outcome(lambda: lifecycle.sign_manifest(current_user, manifest_id,
                                                         role=form.role.data,
                                                         ip=request.remote_addr),
                         _("Signed."), _back(manifest_id), form=form)


@bp.post("/manifests/<int:manifest_id>/driver-code")
@login_required
def driver_code(manifest_id):
    visible_manifest(current_user, manifest_id)
    form = DriverCodeForm()
    return flash_outcome(lambda: signing.request_driver_code(current_user, manifest_id,
                                                             form.send_to.data),
                         _("A one-time code was sent to the driver; it is valid for 15 minutes."),
                         _back(manifest_id), form=form)


def _weights(manifest) -> list[dict]:
    """The receive form's per-line fields; non-numbers go on as given, so the service names
    the field."""
    def number(name):
        raw = (request.form.get(name) or "").strip()
        return int(raw) if (raw.isascii() and raw.isdigit()) else (raw or None)
    return [{"line_id": ln.id, "received_kg": number(f"received_kg-{ln.id}"),
             "refused_kg": number(f"refused_kg-{ln.id}"),
             "comment": request.form.get(f"comment-{ln.id}", "")} for ln in manifest.lines]


@bp.post("/manifests/<int:manifest_id>/receive")
@login_required
def receive(manifest_id):
    manifest, _roles = visible_manifest(current_user, manifest_id)
    form = ReceiveForm()
    form.method_code.choices = queries.method_choices(manifest)
    lines = _weights(manifest)
    return flash_outcome(lambda: lifecycle.receive_manifest(current_user, manifest_id,
                                                            form.method_code.data, lines,
                                                            ip=request.remote_addr),
                         _("Received; the weights are recorded."), _back(manifest_id))


@bp.post("/manifests/<int:manifest_id>/discrepancies/<int:line_id>")
@login_required
def discrepancy(manifest_id, line_id):
    visible_manifest(current_user, manifest_id)
    form = DiscrepancyForm()
    files = [(f.stream, f.filename) for f in request.files.getlist("evidence") if f and f.filename]
    return flash_outcome(lambda: lifecycle.decide_discrepancy(
        current_user, manifest_id, line_id, form.action.data, form.comment.data or "", files),
        _("Your answer is recorded."), _back(manifest_id), form=form)


@bp.post("/manifests/<int:manifest_id>/refusals/<int:line_id>")
@login_required
def refusal(manifest_id, line_id):
    visible_manifest(current_user, manifest_id)
    form = RefusalForm()
    return flash_outcome(lambda: receiving.record_refusal(
        current_user, manifest_id, line_id, form.disposition.data,
        destination_org_id=form.destination_org_id.data,
        return_manifest_id=form.return_manifest_id.data, note=form.note.data or ""),
        _("Recorded where the refused waste goes."), _back(manifest_id), form=form)


@bp.post("/manifests/<int:manifest_id>/cancel")
@login_required
def cancel(manifest_id):
    visible_manifest(current_user, manifest_id)
    form = CancelForm()
    return flash_outcome(lambda: lifecycle.cancel_manifest(current_user, manifest_id,
                                                           form.reason.data or ""),
                         _("Manifest cancelled."), _back(manifest_id), form=form)


@bp.get("/manifests/<int:manifest_id>.pdf")
@login_required
def pdf(manifest_id):
    manifest, _roles = visible_manifest(current_user, manifest_id)
    data, sha256 = document.manifest_pdf(manifest)
    return send_file(BytesIO(data), mimetype="application/pdf",
                     download_name=f"manifest-{manifest.number}.pdf", etag=sha256, max_age=0)


@bp.route("/driver/manifests/<number>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def driver(number):
    """No login: the driver signs the carrier part with the one-time code (works on a phone)."""
    manifest = queries.by_number(number)
    if manifest is None:
        raise NotFound(_("No such manifest."))
    form = DriverSignForm()
    status = 200
    if form.validate_on_submit():
        try:
            lifecycle.sign_manifest(None, manifest.id, driver_code=form.code.data,
                                    ip=request.remote_addr)
        except NotFound:
            raise
        except DomainError as exc:
            attach_error(form, exc, {"driver_code": "code"})
            status = 422
        else:
            flash(_("Signed. Have a safe trip."), "success")
            return redirect(url_for("manifests.driver", number=number))
    elif request.method == "POST":
        status = 422
    manifest = queries.by_number(number)
    return render_template("manifests/driver.html", m=manifest, form=form), status


@bp.get("/verify/manifest/<number>")
def verify(number):
    """Public: whether a manifest with this number and token exists, and its status. No personal
    data: the QR code on the PDF links here."""
    manifest = queries.by_number(number)
    token = request.args.get("h", "")
    if manifest is None or not token or token != manifest.verify_token:
        return render_template("manifests/verify.html", m=None, number=number), 404
    return render_template("manifests/verify.html", m=manifest, number=number)

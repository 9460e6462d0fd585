"""Contracts on the web: the order's contract page, signing, revisions, downloads, verification.

Verification is public: anyone holding a contract PDF (a bank, a court, a regulator) may check it.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from market import db

from market.contracts import revisions, services
from market.contracts.models import Contract, ContractRevision
from market.contracts.forms import NoteForm, RevisionForm, SignForm, VerifyForm
from market.contracts.queries import (contract_for_viewer, contracts_for, document_for_viewer,
                                      hash_of, normalise_hash, verify as verify_hash)
from market.errors import DomainError, NotFound, ValidationFailed
from market.orders import lifecycle
from market.web.forms import attach_error, flash_outcome
from market.web.limiter import limiter, login_attempts_per_ip
from market.web.redirects import safe_target

bp = Blueprint("contracts", __name__)


@bp.get("/contracts")
@login_required
def index():
    return render_template("contracts/index.html", contracts=contracts_for(current_user))


@bp.get("/orders/<int:order_id>/contract")
@login_required
def page(order_id):
    order, role, contract = contract_for_viewer(current_user, order_id)
    return render_template("contracts/contract.html", order=order, role=role, contract=contract,
                           sign_form=SignForm(), revision_form=RevisionForm(), note_form=NoteForm())


@bp.post("/orders/<int:order_id>/contract/sign")
@login_required
@login_attempts_per_ip  # a password is checked: the login form's budget applies
def sign(order_id):
    contract_for_viewer(current_user, order_id)
    form = SignForm()
    return flash_outcome(lambda: lifecycle.sign_contract(current_user, order_id, form.password.data or "",
                                                   ip=request.remote_addr, sha256=form.sha256.data),
                    _("Signed. The SHA-256 of the PDF you signed is recorded with your signature."),
                    url_for("contracts.page", order_id=order_id))


@bp.post("/orders/<int:order_id>/contract/revisions")
@login_required
def propose(order_id):
    contract_for_viewer(current_user, order_id)
    form = RevisionForm()
    return flash_outcome(lambda: revisions.propose_revision(
        current_user, order_id, quantity_kg=form.quantity_kg.data, window_start=form.window_start.data,
        window_end=form.window_end.data, reason=form.reason.data or ""),
        _("Revision proposed; the other party accepts or rejects it."),
        url_for("contracts.page", order_id=order_id), form=form)


def _revision_back(revision_id: int) -> str:
    order_id = db.session.scalar(select(Contract.order_id).join(ContractRevision)
                                 .where(ContractRevision.id == revision_id))
    if order_id is None:
        raise NotFound(_("No such revision."))
    contract_for_viewer(current_user, order_id)  # 404 for anyone who may not see it
    return url_for("contracts.page", order_id=order_id)


@bp.post("/contracts/revisions/<int:revision_id>/accept")
@login_required
def accept_revision(revision_id):
    back = _revision_back(revision_id)
    form = NoteForm()
    return flash_outcome(lambda: revisions.accept_revision(current_user, revision_id, form.note.data or ""),
                    _("Revision accepted; the new version awaits both signatures."), back)


@bp.post("/contracts/revisions/<int:revision_id>/reject")
@login_required
def reject_revision(revision_id):
    back = _revision_back(revision_id)
    form = NoteForm()
    return flash_outcome(lambda: revisions.reject_revision(current_user, revision_id, form.note.data or ""),
                    _("Revision rejected; the signed version stays in force."), back)


@bp.get("/contracts/documents/<int:document_id>.pdf")
@login_required
def document(document_id):
    doc, order = document_for_viewer(current_user, document_id)
    name = f"{order.number}-v{doc.version.version}-{'signed' if doc.kind == 'final' else 'draft'}.pdf"
    return send_file(BytesIO(doc.pdf), mimetype="application/pdf", download_name=name,
                     etag=doc.sha256, max_age=0)


@bp.post("/contracts/documents/<int:document_id>/retry")
@login_required
def retry(document_id):
    try:
        doc = services.retry_render(current_user, document_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(safe_target(request.referrer, request.host_url) or url_for("contracts.index"))
    flash(_("The PDF is being produced again."), "success")
    return redirect(url_for("contracts.page", order_id=doc.version.contract.order_id))


@bp.route("/contracts/verify", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def verify():
    """Public: which contract version, if any, a PDF (or its SHA-256) is."""
    form = VerifyForm()
    digest, matches, status = None, None, 200
    raw = request.args.get("sha256") if request.method == "GET" else None
    try:
        if form.validate_on_submit():
            upload = form.pdf.data
            if upload:
                data = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
                if not data:
                    raise ValidationFailed(_("The file is empty."), field="pdf")
                digest = hash_of(data)
            elif form.sha256.data:
                digest = normalise_hash(form.sha256.data)
            else:
                raise ValidationFailed(_("Upload the PDF or paste its SHA-256 hash."), field="pdf")
        elif raw:
            digest = normalise_hash(raw)
            form.sha256.data = digest
    except ValidationFailed as exc:
        attach_error(form, exc)
        status = 422
    if digest:
        matches = verify_hash(digest)
    return render_template("contracts/verify.html", form=form, digest=digest, matches=matches), status

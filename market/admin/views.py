"""Platform administration: verification queues, audit browser, e-mail outbox, provincial reports
not delivered."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from market import db
from market.accounts import changes, groups, staff
from market.accounts import licences as licence_services
from market.accounts import services
from market.accounts.forms import (CHANGE_LABELS, AuditFilterForm, ChangeDecisionForm, CorporateGroupForm,
                                   PlatformInviteForm, PlatformRoleForm, ReasonForm)
from market.accounts.models import Licence, Organisation, Permit
from market.audit.queries import AuditFilter, audit_page
from market.audit.summary import action_text, object_text, summary
from market.errors import NotFound, ValidationFailed
from market.jobs.schedule import TZ
from market.manifests import queries as manifest_queries
from market.manifests import services as manifest_services
from market.manifests.forms import SignForm
from market.notifications.queries import email_outbox
from market.web.forms import flash_outcome
from market.web.inputs import arg_int
from market.web.security import require_platform_role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
@require_platform_role("admin")
def only_admins():
    return None


@bp.get("/organisations")
def organisations():
    status = request.args.get("status", "pending")
    stmt = select(Organisation).where(Organisation.kind == "enterprise").order_by(Organisation.id)
    if status != "all":
        stmt = stmt.where(Organisation.status == status)
    return render_template("admin/organisations.html", orgs=db.session.scalars(stmt).all(),
                           status=status)


def _organisation_or_404(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


def _organisation_page(org: Organisation, form: ReasonForm, group_form: CorporateGroupForm):
    status = 422 if form.errors or group_form.errors else 200
    return render_template("admin/organisation.html", org=org, form=form, group_form=group_form,
                           group_names=groups.group_names(),
                           pending_change=changes.pending_for(org.id)), status


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
def organisation(org_id):
    org = _organisation_or_404(org_id)
    form = ReasonForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.decide_organisation(current_user, org.id, request.form.get("action", ""),
                                         form.reason.data)
        except ValidationFailed as exc:
            form.reason.errors = [exc.message]
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("admin.organisation", org_id=org.id))
    group_form = CorporateGroupForm(formdata=None, corporate_group=(
        org.corporate_group.name if org.corporate_group else ""))
    return _organisation_page(org, form, group_form)


@bp.post("/organisations/<int:org_id>/group")
def set_corporate_group(org_id):
    org = _organisation_or_404(org_id)
    group_form = CorporateGroupForm()
    if group_form.validate_on_submit():
        try:
            groups.set_corporate_group(current_user, org.id, group_form.corporate_group.data or "")
        except ValidationFailed as exc:
            group_form.corporate_group.errors = [exc.message]
        else:
            flash(_("Corporate group saved."), "success")
            return redirect(url_for("admin.organisation", org_id=org.id))
    return _organisation_page(org, ReasonForm(formdata=None), group_form)


@bp.get("/changes")
def change_requests():
    return render_template("admin/changes.html", requests=changes.pending_requests(),
                           labels=CHANGE_LABELS, form=ChangeDecisionForm())


@bp.post("/changes/<int:change_id>")
def decide_change(change_id):
    form = ChangeDecisionForm()
    return flash_outcome(lambda: changes.decide_change(
        current_user, change_id, request.form.get("action") == "approve", form.reason.data or ""),
        _("Decision recorded."), url_for("admin.change_requests"), form=form)


@bp.get("/staff")
def staff_members():
    return render_template("admin/staff.html", members=staff.platform_members(),
                           role_name=staff.role_name, form=PlatformRoleForm(),
                           invite_form=PlatformInviteForm())


@bp.post("/staff/role")
def set_staff_role():
    form = PlatformRoleForm()
    return flash_outcome(lambda: staff.set_platform_role(current_user, form.user_id.data,
                                                         form.platform_role.data or None),
                         _("Platform role saved."), url_for("admin.staff_members"), form=form)


@bp.get("/documents")
def documents():
    licences = db.session.scalars(select(Licence).where(Licence.status == "pending").order_by(Licence.id)).all()
    permits = db.session.scalars(select(Permit).where(Permit.status == "pending").order_by(Permit.id)).all()
    return render_template("admin/documents.html", licences=licences, permits=permits, form=ReasonForm())


@bp.post("/documents/<kind>/<int:doc_id>")
def decide_document(kind, doc_id):
    model = {"licence": Licence, "permit": Permit}.get(kind)
    if model is None:
        raise NotFound(_("Not found."))
    form = ReasonForm()
    if not form.validate_on_submit():
        raise ValidationFailed(form.reason.errors[0] if form.reason.errors else _("Invalid form."),
                               field="reason")
    licence_services.decide_document(current_user, model, doc_id,
                                     request.form.get("action") == "verify", form.reason.data)
    flash(_("Decision recorded."), "success")
    return redirect(url_for("admin.documents"))


@bp.get("/audit")
def audit():
    form = AuditFilterForm(request.args)
    valid = form.validate()
    f = AuditFilter(**{name: getattr(form, name).data or None for name in (
        "action", "object_type", "object_id", "actor", "organisation", "date_from", "date_to")}) \
        if valid else AuditFilter()
    page = audit_page(f, TZ, before=arg_int("before", 2**63 - 1), after=arg_int("after", 2**63 - 1))
    query = {k: v for k, v in request.args.items() if k not in ("before", "after") and v}
    return render_template("admin/audit.html", form=form, page=page, query=query,
                           summary=summary, action_text=action_text,
                           object_text=object_text), 422 if form.errors else 200


@bp.get("/emails")
def emails():
    return render_template("admin/emails.html", messages=email_outbox())


@bp.get("/provincial")
def provincial():
    return render_template("admin/provincial.html", reports=manifest_queries.unsent_reports(),
                           form=SignForm())


@bp.post("/provincial/<int:report_id>/retry")
def retry_report(report_id):
    return flash_outcome(lambda: manifest_services.retry_provincial_report(current_user, report_id),
                         _("The report is queued again."), url_for("admin.provincial"),
                         form=SignForm())

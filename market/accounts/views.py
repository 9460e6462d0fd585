"""Login, registration, invitations, password reset, the organisation's own pages."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from market import db
from market.accounts import changes
from market.accounts import licences as licence_services
from market.accounts import services
from market.accounts.forms import (CHANGE_LABELS, AcceptInvitationForm, InviteForm, LicenceForm,
                                   LicenceItemForm, LoginForm, PermitForm, PlatformInviteForm,
                                   ProfileForm, RegistrationForm, ResetPasswordForm,
                                   ResetRequestForm)
from market.accounts.models import Licence, Permit, User
from market.accounts.uploads import scan_path
from market.catalog import queries as catalog
from market.errors import NotFound, ValidationFailed
from market.money import kg_from_tonnes
from market.web.forms import attach_error, form_status
from market.web.limiter import login_attempts_per_account, login_attempts_per_ip
from market.web.redirects import safe_target
from market.web.security import get_visible, require_org_type, scope

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@login_attempts_per_ip
@login_attempts_per_account
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("E-mail or password is wrong."))
            return render_template("accounts/login.html", form=form), 401
        login_user(user)
        services.record_login(user)
        if user.locale:
            session["locale"] = user.locale
        return redirect(safe_target(request.args.get("next")) or url_for("pages.dashboard"))
    return render_template("accounts/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("accounts.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = services.register_organisation(
                name=form.name.data, credit_code=form.credit_code.data, types=form.types.data,
                region_code=form.region_code.data, address=form.address.data,
                latitude=form.latitude.data, longitude=form.longitude.data,
                user_name=form.user_name.data, email=form.email.data, password=form.password.data)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            login_user(user)
            flash(_("Registered. An administrator will verify your organisation."), "success")
            return redirect(url_for("pages.dashboard"))
    status = form_status(form)
    return render_template("accounts/register.html", form=form), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation = services.find_invitation(token)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, name=form.name.data, password=form.password.data)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            login_user(user)
            return redirect(url_for("pages.dashboard"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation), \
        form_status(form)


@bp.route("/reset", methods=["GET", "POST"])
@login_attempts_per_ip
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(_("If the address has an account, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form), 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ValidationFailed as exc:
            attach_error(form, exc, {"token": "password"})
        else:
            flash(_("Password changed. Log in with the new one."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), \
        form_status(form)


@bp.route("/account/organisation", methods=["GET", "POST"])
@login_required
def organisation():
    org = current_user.org
    form = ProfileForm(obj=org)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.update_profile(current_user, name=form.name.data, address=form.address.data,
                                        region_code=form.region_code.data,
                                        latitude=form.latitude.data, longitude=form.longitude.data,
                                        credit_code=form.credit_code.data, types=form.types.data)
            except ValidationFailed as exc:
                attach_error(form, exc)
            else:
                if changes.pending_for(org.id) is not None:
                    flash(_("Saved. The change of your registered name, credit code, types or "
                            "region takes effect once an administrator approves it."), "info")
                else:
                    flash(_("Saved."), "success")
                return redirect(url_for("accounts.organisation"))
    return render_template("accounts/organisation.html", org=org, form=form,
                           pending=changes.pending_for(org.id), change_labels=CHANGE_LABELS,
                           region_path=catalog.region_path(org.region_code)), \
        form_status(form)


@bp.route("/account/users", methods=["GET", "POST"])
@login_required
def users():
    form = PlatformInviteForm() if current_user.org.kind == "platform" else InviteForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.invite_user(current_user, form.email.data,
                                     getattr(form, "platform_role", None) and form.platform_role.data)
            except ValidationFailed as exc:
                attach_error(form, exc)
            else:
                flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
                return redirect(url_for("accounts.users"))
    members = db.session.scalars(select(User).where(User.org_id == current_user.org_id)
                                 .order_by(User.id)).all()
    return render_template("accounts/users.html", form=form, members=members), \
        form_status(form)


def _item_form() -> LicenceItemForm:
    form = LicenceItemForm()
    form.category_code.choices = [(c.code, f"{c.code} {c.name}") for c in catalog.categories()]
    form.method_codes.choices = [(m.code, f"{m.code} {m.name}") for m in catalog.methods()]
    return form


@bp.route("/account/licences", methods=["GET", "POST"])
@login_required
@require_org_type("operator")
def licences():
    form = LicenceForm()
    if form.validate_on_submit():
        try:
            lic = licence_services.create_licence(
                current_user, number=form.number.data, kind=form.kind.data,
                valid_from=form.valid_from.data, valid_to=form.valid_to.data,
                scan=form.scan.data or None)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Licence added. Add its items, then an administrator verifies it."), "success")
            return redirect(url_for("accounts.licence", licence_id=lic.id))
    rows = db.session.scalars(select(Licence).where(Licence.org_id == current_user.org_id)
                              .order_by(Licence.valid_to.desc())).all()
    return render_template("accounts/licences.html", form=form, licences=rows), \
        form_status(form)


@bp.route("/account/licences/<int:licence_id>", methods=["GET", "POST"])
@login_required
def licence(licence_id):
    lic = get_visible(Licence, licence_id, current_user)
    form = _item_form()
    if request.method == "POST" and form.validate_on_submit():
        codes = (form.codes.data or "").replace("，", ",").split(",")
        try:
            licence_services.add_licence_item(
                current_user, lic.id, category_code=form.category_code.data, codes=codes,
                operations=form.operations.data, method_codes=form.method_codes.data,
                approved_kg_per_year=kg_from_tonnes(form.approved_t_per_year.data))
        except ValidationFailed as exc:
            attach_error(form, exc, {"approved_kg_per_year": "approved_t_per_year"})
        else:
            flash(_("Item added."), "success")
            return redirect(url_for("accounts.licence", licence_id=lic.id))
    return render_template("accounts/licence.html", licence=lic, form=form), \
        form_status(form)


@bp.post("/account/licences/<int:licence_id>/items/<int:item_id>/remove")
@login_required
def remove_licence_item(licence_id, item_id):
    licence_services.remove_licence_item(current_user, licence_id, item_id)
    flash(_("Item removed."), "success")
    return redirect(url_for("accounts.licence", licence_id=licence_id))


@bp.get("/account/licences/<int:licence_id>/scan")
@login_required
def licence_scan(licence_id):
    lic = get_visible(Licence, licence_id, current_user)
    return _send_scan(lic)


def _send_scan(doc):
    if not doc.scan_file:
        raise NotFound(_("No scanned copy was uploaded."))
    return send_file(scan_path(doc.scan_file), mimetype=doc.scan_mime,
                     download_name=f"{doc.number}{scan_path(doc.scan_file).suffix}")


@bp.route("/account/permits", methods=["GET", "POST"])
@login_required
@require_org_type("carrier", "lab")
def permits():
    kind = "transport" if current_user.org.has_type("carrier") else "cma"
    form = PermitForm()
    if form.validate_on_submit():
        try:
            licence_services.create_permit(current_user, kind=kind, number=form.number.data,
                                           valid_from=form.valid_from.data,
                                           valid_to=form.valid_to.data, scan=form.scan.data or None)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Saved. An administrator verifies it."), "success")
            return redirect(url_for("accounts.permits"))
    rows = db.session.scalars(scope(select(Permit), Permit, current_user).order_by(Permit.id)).all()
    return render_template("accounts/permits.html", form=form, permits=rows, kind=kind), \
        form_status(form)


@bp.get("/account/permits/<int:permit_id>/scan")
@login_required
def permit_scan(permit_id):
    return _send_scan(get_visible(Permit, permit_id, current_user))

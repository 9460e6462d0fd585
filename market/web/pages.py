"""Landing pages: the dashboard of each role, and the language switch."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from market import db
from market.accounts import services as account_services
from market.accounts.models import Licence, Organisation, Permit
from market.errors import ValidationFailed
from market.notifications.queries import inbox, unread_count
from market.web.redirects import safe_target
from market.web.security import scope

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return redirect(url_for("pages.dashboard" if current_user.is_authenticated else "accounts.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    user = current_user
    ctx = {"role": user.role, "notes": inbox(user.id, limit=5), "unread": unread_count(user.id),
           "today": date.today()}
    if user.role == "operator":
        ctx["licences"] = db.session.scalars(scope(select(Licence), Licence, user)
                                             .order_by(Licence.valid_to)).all()
    if user.role in ("carrier", "lab"):
        ctx["permits"] = db.session.scalars(scope(select(Permit), Permit, user)).all()
    if user.role == "regulator":
        orgs = select(Organisation.status, func.count()).where(
            Organisation.kind == "enterprise",
            Organisation.region_code.startswith(user.org.scope_prefix, autoescape=True)
        ).group_by(Organisation.status)
        ctx["org_counts"] = dict(db.session.execute(orgs).all())
        ctx["licences"] = db.session.scalars(scope(select(Licence), Licence, user)
                                             .order_by(Licence.valid_to).limit(50)).all()
    if user.role == "admin":
        ctx["pending_orgs"] = db.session.scalar(select(func.count()).select_from(Organisation)
                                                .where(Organisation.status == "pending")) or 0
        ctx["pending_docs"] = (db.session.scalar(select(func.count()).select_from(Licence)
                                                 .where(Licence.status == "pending")) or 0) + \
            (db.session.scalar(select(func.count()).select_from(Permit)
                               .where(Permit.status == "pending")) or 0)
    return render_template(f"dashboards/{user.role}.html", **ctx)


@bp.post("/language")
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed(_("Unsupported language."), field="locale")
    session["locale"] = locale
    if current_user.is_authenticated:
        account_services.set_locale(current_user, locale)
    target = safe_target(request.form.get("next"), request.host_url) \
        or safe_target(request.referrer, request.host_url) or url_for("pages.index")
    return redirect(target)

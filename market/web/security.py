"""Who may see and do what: the one place for scoping and role checks (DESIGN.md §1)."""
from __future__ import annotations

import functools

from flask import Flask, abort, g, request
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from sqlalchemy import Select, select

from market import acting, db
from market.accounts.models import Organisation, User
from market.errors import NotFound, PermissionDenied

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to see this page.")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Requests a regulator may still send: leaving, choosing a language, clearing its own inbox.
REGULATOR_WRITE_ALLOWED = {"accounts.logout", "pages.set_language", "notifications.mark_read",
                           "api.issue_token", "api.mark_notifications_read",
                           # their own webhook endpoints, for the alerts in their region
                           "api.create_webhook", "api.delete_webhook",
                           "api.replay_webhook_delivery", "webhooks.create", "webhooks.delete",
                           "webhooks.enable", "webhooks.replay"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    acting.install()

    @app.before_request
    def regulators_never_write():
        user = g.get("api_user") or current_user
        if request.method not in SAFE_METHODS and getattr(user, "is_authenticated", False) \
                and user.is_regulator and request.endpoint not in REGULATOR_WRITE_ALLOWED:
            raise PermissionDenied(str(_l("Regulators have read-only access.")))

    @app.before_request
    def bind_acting_user():
        # After the API token is resolved (market.api.auth.install): one acting user per request,
        # for the suspension guard of market.acting.
        g.acting_token = acting.bind(acting_user())

    @app.teardown_request
    def unbind_acting_user(exc=None):
        token = g.pop("acting_token", None)
        if token is not None:
            acting.unbind(token)


def acting_user() -> User | None:
    """The user behind this request, by session cookie or API bearer token."""
    user = g.get("api_user")
    if user is not None:
        return user
    return current_user if current_user.is_authenticated else None


def _require(allowed, refusal):
    """View decorator factory: 401 when anonymous, PermissionDenied when allowed(user) is false."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = acting_user()
            if user is None:
                abort(401)
            if not allowed(user):
                raise PermissionDenied(str(refusal()))
            return view(*args, **kwargs)
        return wrapper
    return decorate


def require_platform_role(*roles: str):
    """Only platform staff with one of these roles."""
    return _require(lambda u: u.is_platform and u.platform_role in roles,
                    lambda: _l("This page is for platform staff."))


def require_org_type(*types: str):
    """Only members of an organisation of one of these types."""
    return _require(lambda u: any(u.org.has_type(t) for t in types),
                    lambda: _l("This page is for %(types)s organisations.",
                               types=", ".join(str(_l(t)) for t in types)))


def scope(stmt: Select, model, user: User, *, org_column=None, region_column=None) -> Select:
    """Restrict a query on an organisation-owned model to what the user may see.

    Tenants see their own organisation's rows; regulators rows whose organisation lies in their
    region; platform staff everything.
    """
    org_column = org_column if org_column is not None else model.org_id
    if user.is_platform:
        return stmt
    if user.is_regulator:
        if region_column is None:
            region_column = Organisation.region_code
            stmt = stmt.join(Organisation, Organisation.id == org_column)
        return stmt.where(region_column.startswith(user.org.scope_prefix, autoescape=True))
    return stmt.where(org_column == user.org_id)


def get_visible(model, obj_id: int, user: User, **scope_kwargs):
    """Load one row the user may see, or raise NotFound (never reveal another tenant's ids)."""
    pk = model.__mapper__.primary_key[0]
    obj = db.session.scalar(scope(select(model).where(pk == obj_id), model, user, **scope_kwargs))
    if obj is None:
        raise NotFound(str(_l("Not found.")))
    return obj


def org_visible(org: Organisation, user: User) -> bool:
    if user.is_platform or org.id == user.org_id:
        return True
    if user.is_regulator:
        return org.region_code.startswith(user.org.scope_prefix)
    return org.status == "verified" and org.kind == "enterprise"

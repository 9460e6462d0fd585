"""Who may see and do what: the one place for scoping and role checks (DESIGN.md §1)."""
from __future__ import annotations

import functools
from datetime import timedelta

from flask import Flask, abort, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import Select, select
from werkzeug.local import LocalProxy

from market import acting, db
from market.accounts import sessions
from market.accounts.models import Organisation, User
from market.errors import NotFound, PermissionDenied
from market.region_scope import org_in_region, region_matches

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to see this page.")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Requests a regulator may still send: leaving, choosing a language, clearing its own inbox,
# looking after its own password, sessions and API tokens.
REGULATOR_WRITE_ALLOWED = {"accounts.logout", "pages.set_language", "notifications.mark_read",
                           "api.issue_token", "api.mark_notifications_read", "accounts.security",
                           "accounts.end_user_session", "accounts.revoke_token",
                           "api.revoke_token_by_id", "api.revoke_calling_token",
                           # its only writes (DESIGN.md §1): notes on alerts and sanctions of
                           # organisations in its region
                           "api.update_alert", "api.impose_sanction",
                           "oversight.update_alert", "oversight.impose_sanction",
                           # their own webhook endpoints, for the alerts in their region
                           "api.create_webhook", "api.delete_webhook",
                           "api.replay_webhook_delivery", "webhooks.create", "webhooks.delete",
                           "webhooks.enable", "webhooks.replay"}


# What survives a login or logout in the cookie: only the chosen language.
_KEPT_IN_COOKIE = ("locale",)


def idle_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of the cookie's server-side session, while it is open, recent and the user active."""
    user = None
    if user_id.isascii() and user_id.isdigit():
        user = sessions.session_user(session.get("sid"), int(user_id), idle_timeout())
    if user is None:
        _reset_cookie()
    return user


def _reset_cookie() -> None:
    """Empty the cookie but for the language: a new CSRF token and no trace of a user."""
    kept = {k: session[k] for k in _KEPT_IN_COOKIE if k in session}
    session.clear()
    session.update(kept)


def begin_session(user: User, *, login: bool = True) -> None:
    """Log a user in: a fresh cookie tied to a new server session (audited when `login`, i.e. the
    password was just typed at the login form)."""
    if isinstance(user, LocalProxy):  # current_user: flask-login must hold the user, not the proxy
        user = user._get_current_object()
    sid = sessions.sign_in(user, ip=request.remote_addr,
                           user_agent=request.user_agent.string or "", audit=login)
    _reset_cookie()
    login_user(user)
    session["sid"] = sid


def end_session() -> None:
    """Log out: the server session ends, so a copy of the cookie opens nothing either."""
    if current_user.is_authenticated:
        sessions.sign_out(current_user, session.get("sid"))
    logout_user()
    _reset_cookie()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    acting.install()

    @app.before_request
    def resolve_session_user():
        # Load the session's user before any use case opens its transaction, so ending an idle
        # session or noting activity is its own small commit.
        if request.blueprint not in ("api", "health") and request.endpoint != "static" \
                and "_user_id" in session:
            current_user._get_current_object()

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
    if user.is_platform:
        return stmt
    org_column = org_column if org_column is not None else model.org_id
    if user.is_regulator:
        prefix = user.org.scope_prefix
        if region_column is None:
            return stmt.where(org_in_region(org_column, prefix))
        return stmt.where(region_matches(region_column, prefix))
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

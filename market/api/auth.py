"""Bearer-token authentication for /api/v1: resolves `Authorization: Bearer …` into g.api_user."""
from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from market.accounts.models import User
from market.accounts.tokens import user_for_token
from market.web.errors import error_response

# Endpoints reachable without a token: getting one, and the description of the API.
PUBLIC_ENDPOINTS = {"api.issue_token", "api.openapi"}
# Endpoints a token is optional for: a driver signs a manifest with a one-time code, no login.
OPTIONAL_TOKEN_ENDPOINTS = {"api.sign_manifest"}


def _unauthorized(message: str):
    body, status = error_response(401, "unauthorized", message)
    body.headers["WWW-Authenticate"] = 'Bearer realm="hazex"'
    return body, status


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def resolve_bearer_token():
    """before_request: authenticate API requests by bearer token; 401 when it is missing or bad."""
    if request.blueprint != "api":
        return None
    # The app context (and so g) can outlive one request, e.g. in tests: never inherit a user.
    g.pop("api_user", None)
    g.pop("_login_user", None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = bearer_token()
    if token is None and request.endpoint in OPTIONAL_TOKEN_ENDPOINTS:
        return None
    if token is None:
        return _unauthorized(_("Send an API token in the header Authorization: Bearer <token>."))
    user = user_for_token(token)
    if user is None:
        return _unauthorized(_("The API token is unknown or has expired; request a new one."))
    g.api_user = user
    # flask-login's current_user reads g._login_user first, so audit records, locale selection
    # and the permission checks see this user without any session cookie being involved.
    g._login_user = user
    return None


def api_user() -> User:
    """The authenticated user of this API request."""
    return g.api_user


def install(state) -> None:
    """Register resolve_bearer_token as the very first before_request hook of the app.

    Flask runs app-level before_request hooks before a blueprint's own, and appends
    before_app_request hooks after those already registered, such as
    market.web.security.regulators_never_write. That check must already know the API user, so
    the token is resolved ahead of every other hook.
    """
    state.app.before_request_funcs.setdefault(None, []).insert(0, resolve_bearer_token)

"""Rate limits on Redis. Login form and API token share one budget per IP and per account."""
from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="fixed-window")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_key() -> str:
    """The e-mail being tried, from a form or a JSON body: guessing one account from many IPs is slow too."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(force=True, silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


login_attempts_per_ip = limiter.shared_limit(_login_limit, scope="login-ip", methods=["POST"])
login_attempts_per_account = limiter.shared_limit(_login_limit, scope="login-account",
                                                  key_func=_account_key, methods=["POST"])

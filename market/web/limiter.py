"""Rate limits on Redis. The login form and the API token share one budget of failed attempts
per account and per client address; successful logins are never counted, so colleagues behind
one office address are not locked out. Password-reset requests count every request."""
from __future__ import annotations

import math
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Moving window: after the account's budget is spent the wait is until its oldest failure ages
# out, and Retry-After says how long that is.
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")


def _per_account() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def _per_address() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ADDRESS"]


def _account_key() -> str:
    """The e-mail being tried, from a form or a JSON body: guessing one account from many IPs is slow too."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(force=True, silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def _failed(response) -> bool:
    """A login attempt failed: wrong e-mail or password."""
    return response.status_code == 401


login_attempts_per_ip = limiter.shared_limit(_per_address, scope="login-ip", methods=["POST"],
                                             deduct_when=_failed)
login_attempts_per_account = limiter.shared_limit(_per_account, scope="login-account",
                                                  key_func=_account_key, methods=["POST"],
                                                  deduct_when=_failed)
reset_requests_per_ip = limiter.shared_limit(_per_address, scope="reset-ip", methods=["POST"])
reset_requests_per_account = limiter.shared_limit(_per_account, scope="reset-account",
                                                  key_func=_account_key, methods=["POST"])


def retry_after_seconds() -> int | None:
    """Seconds until the limit this request broke lets it through again, or None."""
    current = limiter.current_limit
    if current is None:
        return None
    return max(1, math.ceil(current.reset_at - time.time()))

"""Per-token rate limits for /api/v1 (fixed windows counted in Redis).

Every authenticated response carries X-RateLimit-Limit (requests per window), X-RateLimit-Remaining
and X-RateLimit-Reset (Unix time in seconds when the window restarts); past the limit the API
answers 429 `rate_limited` with Retry-After (seconds). The limit is API_RATE_LIMIT, "N/seconds"
(default 600 per 60 s), counted per token, so one integration's burst never slows another. When
Redis cannot be reached, requests are let through (and logged): the limit protects the service, it
must not take it down.
"""
from __future__ import annotations

import hashlib
import logging
import time

import redis
from flask import current_app, g
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import bearer_token
from market.jobs import redis_connection
from market.web.errors import error_response

log = logging.getLogger(__name__)


def _limit() -> tuple[int, int]:
    count, _sep, seconds = str(current_app.config["API_RATE_LIMIT"]).partition("/")
    return int(count), int(seconds or 60)


@bp.before_request
def count_request():
    """Count the request against its token's window; 429 past the limit."""
    g.pop("api_rate", None)
    token = bearer_token()
    if token is None or g.get("api_user") is None:
        return None
    limit, window = _limit()
    now = int(time.time())
    start = now - now % window
    key = f"api-rate:{hashlib.sha256(token.encode()).hexdigest()[:32]}:{start}"
    try:
        pipe = redis_connection().pipeline()
        pipe.incr(key)
        pipe.expire(key, window + 5)
        used = pipe.execute()[0]
    except redis.exceptions.RedisError as exc:
        log.warning("API rate limit not counted, Redis unavailable: %s", exc)
        return None
    reset = start + window
    g.api_rate = (limit, max(limit - used, 0), reset)
    if used > limit:
        resp, status = error_response(429, "rate_limited", _(
            "Too many requests with this token: at most %(n)d per %(s)d seconds. Try again in "
            "%(wait)d seconds.", n=limit, s=window, wait=reset - now))
        resp.headers["Retry-After"] = str(max(reset - now, 1))
        return resp, status
    return None


@bp.after_request
def rate_headers(response):
    rate = g.get("api_rate")
    if rate is not None:
        limit, remaining, reset = rate
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
    return response

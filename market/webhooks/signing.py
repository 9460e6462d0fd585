"""The Hazex-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>.

verify() is what a receiver runs (docs/webhooks.md shows the same in a few lines): recompute the
HMAC over the exact bytes received, compare in constant time, and refuse a timestamp more than
five minutes away from now, so a captured request cannot be replayed later.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(header_value: str, body: bytes, secret: str, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when the header signs this body with this secret and its time is within tolerance."""
    parts = dict(p.split("=", 1) for p in header_value.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))

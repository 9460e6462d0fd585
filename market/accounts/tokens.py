"""API bearer tokens: issuing them and resolving them back to their user."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from market import db
from market.accounts.models import ApiToken, User
from market.audit.services import record
from market.db import utcnow
from market.uow import transaction


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored (the token itself never is)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User) -> tuple[str, datetime]:
    """Create a bearer token for the user; returns (token, expires_at)."""
    with transaction():
        token = secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
        row = ApiToken(user_id=user.id, token_hash=token_hash(token), expires_at=expires_at)
        db.session.add(row)
        # Only the expiry is audited: the token, even hashed, has no business in the audit trail.
        record("api_token.issued", row, changes={"expires_at": expires_at.isoformat()}, actor=user)
        return token, expires_at


def user_for_token(token: str) -> User | None:
    """The active user owning this unexpired token, or None."""
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                   ApiToken.expires_at > utcnow()))
    if row is None or not row.user.active:
        return None
    return row.user

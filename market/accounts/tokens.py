"""API bearer tokens: issuing them and resolving them back to their user."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import ApiToken, User
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound
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


def live_token(token: str) -> ApiToken | None:
    """The unexpired, unrevoked token row of an active user, or None."""
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                   ApiToken.expires_at > utcnow(),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row


def user_for_token(token: str) -> User | None:
    """The active user owning this unexpired, unrevoked token, or None."""
    row = live_token(token)
    return row.user if row is not None else None


def live_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that still open the API, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > utcnow()).order_by(ApiToken.id.desc())))


def revoke_token(actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own live tokens; another user's is not found."""
    with transaction():
        row = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                       ApiToken.user_id == actor.id)
                                .with_for_update(of=ApiToken))
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            raise NotFound(_("No such API token, or it is already revoked or expired."))
        row.revoked_at = utcnow()
        record("api_token.revoked", row, actor=actor)
        return row

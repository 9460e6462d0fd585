"""Server-side login sessions and the end of every credential a user holds.

The browser's signed cookie carries only a random session id; its SHA-256 is stored in
user_session. A session ends on logout, after SESSION_IDLE_MINUTES without a request, when its
owner ends it from the security page, and with every API token on a password change or reset.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from market import db
from market.accounts.models import ApiToken, User, UserSession
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound
from market.uow import transaction

# A session's last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def sign_in(user: User, *, ip: str | None, user_agent: str, audit: bool = True) -> str:
    """Open a session for a user who proved who they are; returns the id for the cookie.

    A login is audited; a session opened by registering, joining or changing the password is not
    (that use case's own event says it)."""
    with transaction():
        sid = secrets.token_urlsafe(32)
        now = utcnow()
        row = UserSession(user_id=user.id, sid_hash=sid_hash(sid), last_seen_at=now, ip=ip,
                          user_agent=(user_agent or "")[:200])
        db.session.add(row)
        u = db.session.get(User, user.id)
        u.last_login_at = now
        if audit:
            record("user.login", u, actor=u)
        return sid


def session_user(sid: str | None, user_id: int, idle: timedelta) -> User | None:
    """The active user of this open, recently used session, or None; an idle one is ended."""
    if not sid:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.sid_hash == sid_hash(sid),
                                                      UserSession.user_id == user_id,
                                                      UserSession.ended_at.is_(None)))
    if row is None:
        return None
    now = utcnow()
    if now - row.last_seen_at > idle:
        _end(row.id, now)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        with transaction():
            db.session.execute(update(UserSession).where(UserSession.id == row.id)
                               .values(last_seen_at=now))
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _end(session_id: int, when: datetime) -> None:
    with transaction():
        db.session.execute(update(UserSession).where(UserSession.id == session_id,
                                                     UserSession.ended_at.is_(None))
                           .values(ended_at=when))


def sign_out(user: User, sid: str | None) -> None:
    """End the session of this cookie (logout)."""
    with transaction():
        row = db.session.scalar(select(UserSession).where(
            UserSession.sid_hash == sid_hash(sid or ""), UserSession.user_id == user.id,
            UserSession.ended_at.is_(None)).with_for_update())
        if row is not None:
            row.ended_at = utcnow()  # the row is the record: no audit event per logout


def open_sessions(user: User, idle: timedelta) -> list[UserSession]:
    """The user's sessions that still open pages, newest first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
                                  UserSession.last_seen_at > utcnow() - idle)
        .order_by(UserSession.id.desc())))


def end_session(actor: User, session_id: int) -> UserSession:
    """End one of the actor's own sessions (e.g. a browser left logged in elsewhere)."""
    with transaction():
        row = db.session.scalar(select(UserSession).where(UserSession.id == session_id,
                                                          UserSession.user_id == actor.id)
                                .with_for_update())
        if row is None or row.ended_at is not None:
            raise NotFound(_("No such session, or it has already ended."))
        row.ended_at = utcnow()
        record("user_session.ended", row, actor=actor)
        return row


def end_all_credentials(user: User) -> dict[str, int]:
    """End every session and revoke every API token of the user (inside the caller's use case)."""
    with transaction():
        now = utcnow()
        sessions = db.session.execute(
            update(UserSession).where(UserSession.user_id == user.id,
                                      UserSession.ended_at.is_(None)).values(ended_at=now)).rowcount
        tokens = db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                   ApiToken.expires_at > now).values(revoked_at=now)).rowcount
        return {"sessions_ended": sessions, "tokens_revoked": tokens}


def prune(before: datetime) -> int:
    """Delete sessions and API tokens that stopped working before `before` (the audit trail keeps
    what happened with them); returns how many rows went."""
    with transaction():
        sessions = db.session.execute(delete(UserSession).where(or_(
            UserSession.ended_at < before, UserSession.last_seen_at < before))).rowcount
        tokens = db.session.execute(delete(ApiToken).where(or_(
            ApiToken.revoked_at < before, ApiToken.expires_at < before))).rowcount
        return sessions + tokens

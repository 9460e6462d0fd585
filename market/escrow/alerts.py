"""Telling platform staff about money events that need a person (inbox + e-mail)."""
from __future__ import annotations

from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.notifications.services import notify_users


def alert_finance(kind: str, title: str, body: str = "", link: str | None = "/finance") -> int:
    """Notify every active finance user; call inside the use case's transaction."""
    return alert_staff("finance", kind, title, body, link)


def alert_staff(role: str, kind: str, title: str, body: str = "", link: str | None = None) -> int:
    """Notify every active platform user with this role (finance or admin)."""
    return notify_users(db.session.scalars(select(User).where(
        User.platform_role == role, User.active.is_(True)).order_by(User.id)),
        kind, title, body, link)

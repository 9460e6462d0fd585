"""Telling platform staff about money events that need a person (inbox + e-mail)."""
from __future__ import annotations

from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.notifications.messages import Message
from market.notifications.services import notify_users


def alert_finance(kind: str, title: Message, body: Message | None = None,
                  link: str | None = "/finance") -> int:
    """Notify every active finance user; call inside the use case's transaction."""
    return alert_staff("finance", kind, title, body, link)


def alert_staff(role: str, kind: str, title: Message, body: Message | None = None,
                link: str | None = None) -> int:
    """Notify every active platform user with this role (finance or admin); title and body are
    message(...)/verbatim(...) (market.notifications.messages)."""
    return notify_users(db.session.scalars(select(User).where(
        User.platform_role == role, User.active.is_(True)).order_by(User.id)),
        kind, title, body, link)

from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.notifications.models import EmailMessage, Notification


def inbox(user_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def email_outbox(limit: int = 200) -> list[EmailMessage]:
    return list(db.session.scalars(select(EmailMessage).order_by(EmailMessage.id.desc()).limit(limit)))

"""Notifying users: an inbox row each, and an e-mail sent by a job after commit."""
from __future__ import annotations

from sqlalchemy import select, update

from market import db
from market.acting import allow_while_suspended
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.jobs import enqueue_after_commit
from market.notifications.jobs import send_email
from market.notifications.messages import Message, verbatim
from market.notifications.models import EmailMessage, Notification
from market.uow import transaction


def notify_user(user: User, kind: str, title: Message, body: Message | None = None,
                link: str | None = None, email: bool = True) -> Notification:
    """Add an inbox entry (and an e-mail) for one user; call inside a transaction.

    title and body are Messages (market.notifications.messages): stored as key and parameters and
    shown in the reader's language; the e-mail is written in the recipient's saved language.
    """
    if not isinstance(title, Message) or not (body is None or isinstance(body, Message)):
        raise TypeError("notify_* take message(...) or verbatim(...), not already translated text")
    body = body or verbatim("")
    note = Notification(user_id=user.id, kind=kind, link=link,
                        title=title.render_in(user.locale)[:300], body=body.render_in(user.locale),
                        title_msgid=title.msgid, title_params=title.params,
                        body_msgid=body.msgid, body_params=body.params)
    db.session.add(note)
    if email and user.active:
        queue_email(user.email, note.title, note.body + (f"\n\n{link}" if link else ""))
    return note


def notify_users(users, kind: str, title: Message, body: Message | None = None,
                 link: str | None = None) -> int:
    """Notify each of these users; how many were told."""
    count = 0
    for user in users:
        notify_user(user, kind, title, body, link)
        count += 1
    return count


def notify_org(org_id: int, kind: str, title: Message, body: Message | None = None,
               link: str | None = None) -> int:
    """Notify every active user of an organisation; call inside a transaction."""
    return notify_users(db.session.scalars(select(User).where(User.org_id == org_id,
                                                              User.active.is_(True))),
                        kind, title, body, link)


def queue_email(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage(to_address=to, subject=subject, body=body)
    db.session.add(msg)
    db.session.flush()
    enqueue_after_commit(send_email, msg.id)
    return msg


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read."""
    with transaction():
        allow_while_suspended()  # reading one's own inbox
        stmt = update(Notification).where(Notification.user_id == user.id,
                                          Notification.read_at.is_(None))
        if notification_id is not None:
            stmt = stmt.where(Notification.id == notification_id)
        marked = db.session.execute(stmt.values(read_at=utcnow())).rowcount
        if marked:
            record("notification.read", object_type="notification", object_id=notification_id,
                   changes={"marked": marked}, actor=user)
        return marked

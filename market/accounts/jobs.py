from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.accounts import sessions
from market.accounts.models import ExpiryReminder, Licence, Permit
from market.db import utcnow
from market.jobs import job
from market.jobs.schedule import TZ
from market.notifications.messages import as_date, as_word, message
from market.notifications.services import notify_org
from market.uow import transaction


def today_local() -> date:
    return utcnow().astimezone(TZ).date()


@job(queue="notifications")
def send_expiry_reminders(on: str | None = None) -> int:
    """Notify holders of licences and permits expiring in 60, 30 or 7 days (each reminder once)."""
    today = date.fromisoformat(on) if on else today_local()
    sent = 0
    for days in current_app.config["EXPIRY_REMINDER_DAYS"]:
        target = today + timedelta(days=days)
        for model, doc_type in ((Licence, "licence"), (Permit, "permit")):
            # read inside a transaction too, so a long-lived worker is not left idle in one
            with transaction():
                docs = db.session.scalars(select(model).where(model.valid_to == target,
                                                              model.status == "verified")).all()
            for doc in docs:
                with transaction():
                    claimed = db.session.execute(
                        insert(ExpiryReminder).values(document_type=doc_type, document_id=doc.id,
                                                      days_before=days)
                        .on_conflict_do_nothing().returning(ExpiryReminder.document_id)).first()
                    if not claimed:
                        continue
                    title = message("%(doc)s %(number)s expires in %(days)d days (%(date)s)",
                                    doc=as_word(doc_type), number=doc.number, days=days,
                                    date=as_date(doc.valid_to))
                    notify_org(doc.org_id, "document.expiring", title,
                               link="/account/licences" if doc_type == "licence" else "/account/permits")
                    sent += 1
    return sent


# Dead sessions and API tokens are kept this long, then deleted (the audit trail outlives them).
CREDENTIALS_KEEP_DAYS = 90


@job(queue="default")
def prune_credentials(on: str) -> int:
    """Delete sessions and API tokens that stopped working CREDENTIALS_KEEP_DAYS before the run day."""
    day = date.fromisoformat(on) - timedelta(days=CREDENTIALS_KEEP_DAYS)
    return sessions.prune(datetime.combine(day, time(), TZ))

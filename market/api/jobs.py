from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import delete

from market import db
from market.api.models import IdempotencyRecord
from market.jobs import job
from market.jobs.schedule import TZ
from market.uow import transaction

# Clients retry within minutes or hours; a week covers any sane retry policy.
KEEP_DAYS = 7


@job(queue="default")
def prune_idempotency_records(on: str) -> int:
    """Delete API idempotency records older than KEEP_DAYS before the run day."""
    cutoff = datetime.combine(date.fromisoformat(on) - timedelta(days=KEEP_DAYS), time(), TZ)
    with transaction():
        return db.session.execute(delete(IdempotencyRecord)
                                  .where(IdempotencyRecord.created_at < cutoff)).rowcount

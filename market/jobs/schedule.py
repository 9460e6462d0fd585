"""A small cron-style runner for daily jobs; safe with several schedulers running."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.jobs.core import _spec, enqueue_after_commit
from market.jobs.models import ScheduledRun
from market.uow import transaction

TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Daily:
    """A job run once a day at `at` (Asia/Shanghai); it receives that day as 'YYYY-MM-DD'."""
    name: str
    at: time
    job: str  # dotted path of a @job function


DAILY: tuple[Daily, ...] = (
    Daily("licence_expiry_reminders", time(8, 0), "market.accounts.jobs.send_expiry_reminders"),
    Daily("prune_idempotency_records", time(3, 0), "market.api.jobs.prune_idempotency_records"),
    Daily("listings_expiry", time(0, 10), "market.listings.jobs.expire_listings"),
    # card refunds and Connect transfers finish in jobs of their own; this closes what they paid
    Daily("close_paid_orders", time(6, 0), "market.settlement.jobs.close_paid_orders"),
    Daily("provincial_resend", time(6, 0), "market.manifests.jobs.resend_unsent_reports"),
    Daily("prune_credentials", time(3, 20), "market.accounts.jobs.prune_credentials"),
    # Monthly in effect: does something only on the price publication day (PRICE_PUBLICATION_DAY).
    Daily("price_publication", time(9, 0), "market.prices.jobs.publish_due"),
    # matches what is unmatched and closes yesterday against the uploaded statement
    Daily("bank_close_of_day", time(9, 0), "market.reconciliation.jobs.close_of_day"),
    # the 三流合一 sweeps; credit scores of every organisation on a quarter's first day
    Daily("oversight_daily", time(5, 0), "market.oversight.jobs.daily"),
    Daily("collection_lapse", time(0, 5), "market.collection.jobs.lapse_unpaid_bookings"),
)


def run_due(now: datetime, schedule: tuple[Daily, ...] = DAILY) -> list[str]:
    """Enqueue each daily job whose time has come today and that has not run today."""
    local = now.astimezone(TZ)
    started = []
    for entry in schedule:
        if local.time() < entry.at:
            continue
        with transaction() as s:
            claimed = s.execute(insert(ScheduledRun).values(name=entry.name, run_on=local.date())
                                .on_conflict_do_nothing().returning(ScheduledRun.name)).first()
            if claimed:
                # The day is passed on: a job delayed past midnight (Redis down) still does that day.
                enqueue_after_commit(_spec(entry.job).fn, local.date().isoformat())
                started.append(entry.name)
    return started


def last_runs() -> dict[str, str]:
    rows = db.session.execute(select(ScheduledRun.name, ScheduledRun.run_on)
                              .order_by(ScheduledRun.run_on)).all()
    return {name: day.isoformat() for name, day in rows}

"""Oversight jobs: the daily sweep of the 三流合一 rules (and, on the first day of a quarter,
every organisation's credit score), and one organisation's score after an event."""
from __future__ import annotations

from datetime import date

from market.jobs import job
from market.oversight import checks, services

QUARTER_STARTS = (1, 4, 7, 10)


@job(retries=3)
def daily(day: str | None = None) -> dict:
    """Run every sweep; recompute all credit scores when `day` opens a quarter."""
    today = date.fromisoformat(day) if day else date.today()
    found = checks.run_all(today)
    if today.day == 1 and today.month in QUARTER_STARTS:
        found["credit_scores"] = services.recompute_all_credit()
    return found


@job(retries=3)
def recompute_credit(org_id: int) -> int:
    """One organisation's credit score after an event that touches it."""
    return services.recompute_credit(org_id).score

"""Collection jobs: unpaid bookings lapse at their deadline (run daily and whenever a round
starts; the booking page also refuses payment once a booking has lapsed)."""
from __future__ import annotations

from market.collection import services
from market.jobs import job


@job(queue="default", retries=3)
def lapse_unpaid_bookings(day: str | None = None) -> int:
    """Every open booking still unpaid after its round's booking deadline lapses."""
    return services.lapse_unpaid()

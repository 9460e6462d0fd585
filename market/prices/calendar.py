"""Release rules and the release calendar (DESIGN.md §7; pure).

On the publication day of each month (PRICE_PUBLICATION_DAY, Asia/Shanghai) the platform
publishes the preliminary release of the month before and the final release of the month three
months back — a month becomes final two months after its preliminary release.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def parse_month(value: str | None) -> date | None:
    """'2025-03' → date(2025, 3, 1); None when not a month."""
    try:
        y, m = (value or "").split("-")
        if len(y) != 4 or len(m) != 2:
            return None
        return date(int(y), int(m), 1)
    except ValueError:
        return None


@dataclass(frozen=True)
class Release:
    day: date               # publication day
    preliminary: date       # month published preliminary that day
    final: date             # month made final that day


def releases_on(day: date) -> Release:
    first = month_start(day)
    return Release(day, add_months(first, -1), add_months(first, -3))


def calendar(today: date, publication_day: int, months: int = 12) -> list[Release]:
    """The next `months` publication days from today (today's included when it is one)."""
    first = month_start(today)
    if today.day > publication_day:
        first = add_months(first, 1)
    return [releases_on(add_months(first, i).replace(day=publication_day)) for i in range(months)]

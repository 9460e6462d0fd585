"""Statement months are calendar months in Beijing time, whatever the server's clock zone."""
from datetime import date, datetime, timezone

from market.settlement.statements import bounds, month_label, next_month


def test_a_month_starts_at_midnight_in_beijing():
    start, end = bounds(date(2026, 12, 1))
    assert start.astimezone(timezone.utc) == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    assert end.astimezone(timezone.utc) == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)


def test_months_roll_over_the_year():
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert next_month(date(2026, 1, 1)) == date(2026, 2, 1)
    assert month_label(date(2027, 3, 1)) == "2027-03"

"""Parsing a round's and a booking's fields: each refusal names its field, in the user's language."""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import gettext as _

from market.errors import ValidationFailed
from market.listings import validation as v
from market.jobs.schedule import TZ
from market.listings.validation import today

MAX_CONTAINERS = 1_000
MAX_REGIONS = 50


def a_day(value, field: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    return v.a_date(value, field)


def a_time(value, field: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationFailed(_("Enter a time of day (e.g. 09:00)."), field=field) from None


def a_moment(value, field: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise ValidationFailed(_("Enter a date and time (ISO 8601)."), field=field)
    return value if value.tzinfo else value.replace(tzinfo=TZ)


def region_codes(values) -> list[str]:
    if isinstance(values, str):
        values = [p for p in values.replace("，", ",").replace(" ", ",").split(",") if p]
    if not isinstance(values, list) or not values:
        raise ValidationFailed(_("Name at least one region the round serves."),
                               field="region_codes")
    if len(values) > MAX_REGIONS:
        raise ValidationFailed(_("At most %(n)d regions.", n=MAX_REGIONS), field="region_codes")
    return sorted({v.region(code, "region_codes").code for code in values})


def categories(values) -> list[tuple[str, list[str]]]:
    """[(category, codes)] from ["HW08", …] or [{"category": "HW08", "codes": [...]}, …]."""
    if isinstance(values, str):
        values = [p for p in values.replace("，", ",").replace(" ", ",").split(",") if p]
    if not isinstance(values, list) or not values:
        raise ValidationFailed(_("Name at least one waste category the round collects."),
                               field="categories")
    out: dict[str, list[str]] = {}
    for item in values:
        raw = item.get("category") if isinstance(item, dict) else item
        category = v.category(raw if isinstance(raw, str) else None, "categories")
        codes = item.get("codes") or [] if isinstance(item, dict) else []
        if not isinstance(codes, list):
            raise ValidationFailed(_("Waste codes come as a list."), field="categories")
        out[category] = sorted({v.waste_code(c, category, "categories") for c in codes})
    return sorted(out.items())


def round_fields(data: dict) -> dict:
    day = a_day(data.get("date"), "date")
    if day < today():
        raise ValidationFailed(_("The round's date must not be in the past."), field="date")
    start, end = a_time(data.get("window_start"), "window_start"), a_time(
        data.get("window_end"), "window_end")
    if end <= start:
        raise ValidationFailed(_("The time window must end after it starts."), field="window_end")
    price = v.money_fen(data.get("price_fen_per_kg"), "price_fen_per_kg")
    minimum = v.money_fen(data.get("minimum_fen", 0), "minimum_fen", negative=False)
    if price < 0 and minimum:
        raise ValidationFailed(_("A round that pays for the waste has no minimum charge."),
                               field="minimum_fen")
    closes = a_moment(data.get("booking_closes_at"), "booking_closes_at")
    if closes > datetime.combine(day, start, tzinfo=TZ):
        raise ValidationFailed(_("Bookings must close before the round's time window starts."),
                               field="booking_closes_at")
    repeat = v.choice(data.get("repeat") or "none", ("none", "weekly", "monthly"), "repeat")
    return {"region_codes": region_codes(data.get("region_codes")), "day": day,
            "window_start": start, "window_end": end, "price_fen_per_kg": price,
            "minimum_fen": minimum, "booking_closes_at": closes, "repeat": repeat,
            "vehicle_capacity_kg": v.whole_kg(data.get("vehicle_capacity_kg"),
                                              "vehicle_capacity_kg"),
            "categories": categories(data.get("categories"))}


def booking_fields(data: dict) -> dict:
    category = v.category(data.get("category"), "category")
    containers = data.get("containers", 1)
    if (not isinstance(containers, int) or isinstance(containers, bool)
            or not 1 <= containers <= MAX_CONTAINERS):
        raise ValidationFailed(_("The number of containers must be a whole number from 1 to "
                                 "%(n)d.", n=MAX_CONTAINERS), field="containers")
    return {"category": category,
            "waste_code": v.waste_code(data.get("waste_code") or None, category),
            "estimated_kg": v.whole_kg(data.get("estimated_kg"), "estimated_kg"),
            "containers": containers,
            "region_code": v.region(data.get("region_code")).code,
            "address": v.text(data.get("address"), "address", 300, required=True)}


def shift_months(day: date, months: int) -> date:
    """The same day `months` later, on the month's last day when it has fewer days."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")

"""Price checks (DESIGN.md §7): where a quoted or storefront price sits in the latest published
cell, the two regulator alerts about abnormally low prices, and government tariffs.

Band: below the cell's p10, within p10–p90, above p90 — shown to both parties.

Alert "price_below_floor": the price is under the alert floor, the highest of the cell's 12-month
p5 (confidential, stored with the publication), half its median and the method group's cost floor
(PRICE_COST_FLOORS; none by default). Disposal at a price clearly below market is evidence of
intent to dump illegally (2019 minutes of the two high courts and three ministries).

Alert "price_below_own_history": the price is below PRICE_OWN_HISTORY_PCT % (default 50 %) of the
median of the same operator's own disposal prices for the category over the last 180 days, when it
has at least three such orders and that median is positive. (A negative price — the operator pays
— is never "far below" in the dumping sense unless that median is positive.)

Government-priced categories (GOVERNMENT_PRICED_CATEGORIES, HW01 by default) are not compared with
the index: their price must equal the regional tariff (the longest matching region prefix, the
latest valid_from not after today).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median_low

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.db import utcnow
from market.errors import ValidationFailed
from market.orders.models import Order, OrderLine
from market.oversight.services import raise_alert
from market.prices.models import GovernmentTariff, PricePublication
from market.prices.queries import CellLookup, latest_publication, lookup_cell

BELOW_FLOOR = "price_below_floor"
BELOW_OWN_HISTORY = "price_below_own_history"
HISTORY_DAYS = 180
HISTORY_MIN_ORDERS = 3


def method_group(method_code: str | None) -> str | None:
    """The index's method group of a method code (R* → R; D10, D1, D9, C1; else other), or None."""
    if not method_code:
        return None
    code = method_code.strip().upper()
    if code.startswith("R") and code[1:].isdigit():
        return "R"
    if code in ("D10", "D1", "D9", "C1", "R", "other"):
        return code
    return "other"


@dataclass(frozen=True)
class PriceCheck:
    lookup: CellLookup
    price: int
    band: str             # "below_p10", "within", "above_p90"
    floor: int | None     # the alert floor, fen/t (None: no floor known)

    @property
    def cell(self):
        return self.lookup.cell

    @property
    def below_floor(self) -> bool:
        return self.floor is not None and self.price < self.floor


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{Decimal(abs(fen)) / 100:,.2f}"


def band_of(price: int, p10: int, p90: int) -> str:
    if price < p10:
        return "below_p10"
    if price > p90:
        return "above_p90"
    return "within"


def alert_floor(pub: PricePublication, lookup: CellLookup, group: str | None) -> int | None:
    cell = lookup.cell
    candidates = [pub.floors.get(lookup.floor_key)]
    if cell.median is not None and cell.median > 0:
        candidates.append(cell.median // 2)
    cost = current_app.config["PRICE_COST_FLOORS"].get(group or "")
    candidates.append(cost)
    known = [c for c in candidates if c is not None]
    return max(known) if known else None


def government_priced(category: str) -> bool:
    return category in current_app.config["GOVERNMENT_PRICED_CATEGORIES"]


def check_price(category: str, method_code: str | None, region_code: str,
                price: int) -> PriceCheck | None:
    """Where a price sits in the latest published cell; None without a publication or cell, and
    for government-priced categories."""
    if government_priced(category):
        return None
    pub = latest_publication()
    if pub is None:
        return None
    group = method_group(method_code)
    lookup = lookup_cell(category, group, region_code[:2], pub)
    if lookup is None:
        return None
    return PriceCheck(lookup, price, band_of(price, lookup.cell.p10, lookup.cell.p90),
                      alert_floor(pub, lookup, group))


def tariff_for(category: str, region_code: str, on: date | None = None) -> GovernmentTariff | None:
    on = on or utcnow().date()
    prefixes = [region_code[:n] for n in (6, 4, 2) if len(region_code) >= n]
    return db.session.scalar(select(GovernmentTariff).where(
        GovernmentTariff.category_code == category,
        GovernmentTariff.region_prefix.in_(prefixes), GovernmentTariff.valid_from <= on)
        .order_by(func.length(GovernmentTariff.region_prefix).desc(),
                  GovernmentTariff.valid_from.desc()).limit(1))


def require_tariff(category: str, region_codes: list[str], price: int,
                   field: str = "unit_price_fen_per_t") -> None:
    """Refuse a price of a government-priced category that is not the tariff of every region."""
    if not government_priced(category):
        return
    for region in region_codes:
        tariff = tariff_for(category, region)
        if tariff is None:
            raise ValidationFailed(_("%(c)s is priced by the government and no tariff is set for "
                                     "region %(r)s; the platform must record it first.",
                                     c=category, r=region), field=field)
        if price != tariff.unit_price_fen_per_t:
            raise ValidationFailed(_("%(c)s is priced by the government: the price in region %(r)s "
                                     "must be the tariff, %(t)s per tonne.", c=category, r=region,
                                     t=yuan(tariff.unit_price_fen_per_t)), field=field)


def own_history(operator_id: int, category: str) -> list[int]:
    """The operator's own disposal prices for the category on orders of the last 180 days
    (cancelled orders left out)."""
    return list(db.session.scalars(
        select(OrderLine.unit_price_fen_per_t).join(Order, Order.id == OrderLine.order_id).where(
            Order.operator_id == operator_id, Order.category_code == category,
            OrderLine.kind == "disposal", Order.status != "cancelled",
            Order.created_at >= utcnow() - timedelta(days=HISTORY_DAYS))))


def watch_price(*, subject: str, category: str, method_code: str | None, region_code: str,
                price: int, operator_id: int, operator_region: str,
                generator_id: int | None = None, history: list[int] | None = None,
                data: dict | None = None) -> PriceCheck | None:
    """Check a price being set and raise the regulator alerts it deserves (in the caller's
    transaction). `history` is the operator's own recent prices for the category."""
    check = check_price(category, method_code, region_code, price)
    parties = dict(operator_org_id=operator_id, operator_region=operator_region,
                   pickup_region=region_code if len(region_code) == 6 else None)
    if generator_id is not None:
        parties["generator_org_id"] = generator_id
    base = {"category": category, "method_code": method_code, "region": region_code,
            "price_fen_per_t": price, **(data or {})}
    if check is not None and check.below_floor:
        raise_alert(BELOW_FLOOR, "warning", subject=subject, data={
            **base, "floor_fen_per_t": check.floor, "cell": check.lookup.floor_key,
            "cell_period": check.cell.period, "cell_median": check.cell.median}, **parties)
    if history is not None and not government_priced(category) \
            and len(history) >= HISTORY_MIN_ORDERS:
        own = median_low(history)
        pct = current_app.config["PRICE_OWN_HISTORY_PCT"]
        if own > 0 and price * 100 < own * pct:
            raise_alert(BELOW_OWN_HISTORY, "warning", subject=subject, data={
                **base, "own_median_fen_per_t": own, "orders": len(history),
                "threshold_pct": pct}, **parties)
    return check



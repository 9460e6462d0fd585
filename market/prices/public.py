"""What anyone may see of a release, shaped for the page, the CSV and the API (no writes).

Suppressed cells carry no numbers, only "insufficient data" and the nearest published roll-up,
whose numbers are looked up in the same release.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from market.errors import NotFound, ValidationFailed
from market.prices import calendar as cal
from market.prices import queries
from market.prices.models import PriceCell, PricePublication
from market.catalog import messages as catalog_messages

METHODS = ("R", "D10", "D1", "D9", "C1", "other")
NUMBERS = ("trades", "kg", "vwap", "median", "p10", "p25", "p75", "p90")
CSV_COLUMNS = ("period", "category", "method", "region", "status") + NUMBERS + \
    ("nearest_published",)


@dataclass(frozen=True)
class Filters:
    month: date | None = None
    version: int | None = None
    category: str | None = None
    method: str | None = None
    province: str | None = None


def parse_filters(args) -> Filters:
    """?month=YYYY-MM&version=N&category=HWnn&method=…&province=NN|* — each checked, by name."""
    month = None
    if args.get("month"):
        month = cal.parse_month(args["month"])
        if month is None:
            raise ValidationFailed(_("Give the month as YYYY-MM."), field="month")
    version = None
    if args.get("version"):
        raw = str(args["version"])
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 10_000:
            raise ValidationFailed(_("A version is a whole number from 1."), field="version")
        version = int(args["version"])
        if month is None:
            raise ValidationFailed(_("Give the month of the version."), field="month")
    category = args.get("category") or None
    if category is not None and not re.fullmatch(r"HW\d{2}", category):
        raise ValidationFailed(catalog_messages.unknown_category(category), field="category")
    method = args.get("method") or None
    if method is not None and method not in METHODS + ("*",):
        raise ValidationFailed(_("Choose one of: %(choices)s.", choices=", ".join(METHODS + ("*",))),
                               field="method")
    province = args.get("province") or None
    if province is not None and not re.fullmatch(r"\d{2}|\*", province):
        raise ValidationFailed(_("A province is two digits, or * for national."), field="province")
    return Filters(month, version, category, method, province)


def release_for(f: Filters) -> PricePublication:
    if f.version is not None:
        pub = queries.publication(f.month, f.version)
    else:
        pub = queries.latest_publication(f.month)
    if pub is None:
        raise NotFound(_("No release of the price index for that month."))
    return pub


def release_json(pub: PricePublication) -> dict:
    return {"month": f"{pub.reference_month:%Y-%m}", "version": pub.version,
            "label": pub.label, "release": pub.release, "revised": pub.revised,
            "published_at": pub.created_at.isoformat(),
            "methodology_version": pub.methodology_version, "params_hash": pub.params_hash,
            "inputs_hash": pub.inputs_hash, "quality": pub.quality}


def cell_json(c: PriceCell) -> dict:
    out = {"period": c.period, "category": c.category, "method": c.method, "region": c.region,
           "status": "published" if c.published else "insufficient_data"}
    if c.published:
        out.update({k: getattr(c, k) for k in NUMBERS})
    else:
        out["nearest_published"] = c.nearest_published
    return out


def cells(pub: PricePublication, f: Filters) -> list[PriceCell]:
    return queries.latest_cells(category=f.category, method=f.method, region=f.province,
                                publication=pub)


def nearest(pub: PricePublication, rows: list[PriceCell]) -> dict[str, PriceCell]:
    """The published roll-ups the suppressed rows point to, by key "period/cat/method/region"."""
    wanted = {c.nearest_published for c in rows if not c.published and c.nearest_published}
    found = {}
    for key in wanted:
        period, category, method, region = key.split("/")
        hit = queries.latest_cells(category=category, method=method, region=region,
                                   period=period, publication=pub)
        if hit:
            found[key] = hit[0]
    return found


def to_csv(pub: PricePublication, rows: list[PriceCell]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f"# Hazex price index {pub.label} ({pub.release}); prices fen/t, weights kg; "
                f"methodology {pub.methodology_version}, inputs {pub.inputs_hash[:16]}"])
    w.writerow(CSV_COLUMNS)
    for c in rows:
        d = cell_json(c)
        w.writerow([d.get(k, "") if d.get(k) is not None else "" for k in CSV_COLUMNS])
    return buf.getvalue()


def series_json(pub: PricePublication, node: str = "*/*/*") -> dict:
    return {formula: [{"period": p, "level": None if lv is None else str(lv)}
                      for p, lv in queries.index_series(node, formula, pub)]
            for formula in ("laspeyres", "fisher")}

"""The public price page (no login): the latest release or any stored version, its charts with a
table beside each, the release calendar, the methodology, the CSV download."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template, request

from market.db import utcnow
from market.jobs.schedule import TZ
from market.prices import calendar as cal
from market.prices import public, queries
from market.prices.checks import check_price
from market.prices.charts import page_charts
from market.web.headers import draws_charts

bp = Blueprint("prices", __name__, url_prefix="/prices")

METHODOLOGY = Path(__file__).resolve().parents[2] / "pricing" / "METHODOLOGY.md"


def _price_check(category: str, method_code: str | None, region_code: str | None, price: int):
    """For templates: where a price sits in the latest published cell (cached per request)."""
    if not region_code:
        return None
    cache = g.setdefault("price_checks", {})
    key = (category, method_code, region_code[:2], price)
    if key not in cache:
        cache[key] = check_price(category, method_code, region_code, price)
    return cache[key]


@bp.app_context_processor
def price_helpers():
    return {"price_check": _price_check}


@bp.get("/")
@draws_charts
def index():
    f = public.parse_filters(request.args)
    pub = queries.latest_publication(f.month) if f.version is None else None
    if pub is None and (f.month or f.version):
        pub = public.release_for(f)
    today = utcnow().astimezone(TZ).date()
    days = cal.calendar(today, current_app.config["PRICE_PUBLICATION_DAY"])
    if pub is None:
        return render_template("prices/index.html", pub=None, calendar=days)
    province = f.province or "*"
    rows = public.cells(pub, public.Filters(category=f.category, province=province))
    return render_template(
        "prices/index.html", pub=pub, rows=rows, nearest=public.nearest(pub, rows),
        province=province, category=f.category, calendar=days,
        versions=queries.publication_versions(pub.reference_month),
        releases=queries.releases(), charts=page_charts(pub, rows, province),
        provinces=sorted({c.region for c in queries.latest_cells(publication=pub)} - {"*"}),
        categories=sorted({c.category for c in queries.latest_cells(publication=pub)}),
        government=current_app.config["GOVERNMENT_PRICED_CATEGORIES"])


@bp.get("/prices.csv")
def download():
    f = public.parse_filters(request.args)
    pub = public.release_for(f)
    rows = public.cells(pub, f) if f.category or f.method or f.province else \
        queries.latest_cells(publication=pub, period=None)
    body = public.to_csv(pub, rows)
    name = f"hazex-prices-{pub.reference_month:%Y-%m}-v{pub.version}.csv"
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/methodology")
def methodology():
    return render_template("prices/methodology.html",
                           government=current_app.config["GOVERNMENT_PRICED_CATEGORIES"])


@bp.get("/methodology.md")
def methodology_source():
    return Response(METHODOLOGY.read_text(encoding="utf-8"), mimetype="text/markdown",
                    headers={"Content-Language": "en"})



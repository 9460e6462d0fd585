"""The public price page (no login), its CSV, methodology and release versions; the admin's
publication page with a run's progress; price bands shown on quotes."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from market import db
from market.listings import quotes as quote_svc
from market.listings.services import create_request
from market.prices.jobs import run_publication
from market.prices.models import GovernmentTariff, PricePublication, PublicationRun
from market.prices.services import publish
from tests.fixtures import login
from tests.listing_factories import quote_data, request_data
from tests.price_factories import Market

PRICES = [300_000, 310_000, 320_000, 330_000, 340_000]


@pytest.fixture
def market():
    m = Market()
    m.cell(PRICES, month="2026-01")
    m.cell([p + 10_000 for p in PRICES], month="2026-02")
    m.cell([200_000, 210_000], month="2026-02", method_code="D1")
    return m


def test_public_page_without_a_release(client):
    resp = client.get("/prices/")
    assert resp.status_code == 200 and 'data-testid="no-release"' in resp.get_data(as_text=True)
    assert resp.get_data(as_text=True).count('data-testid="calendar-day"') == 12


@pytest.mark.parametrize("lang, words", [("en", ["insufficient data", "Release calendar"]),
                                         ("zh_CN", ["数据不足", "发布日历"])])
def test_public_page_in_both_languages(client, market, lang, words):
    publish(date(2026, 2, 1))
    resp = client.get("/prices/?province=44", headers={"Accept-Language": lang.replace("_", "-")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for w in words:
        assert w in html
    assert html.count("data-chart=") == 3 and "echarts.min.js" in html
    assert 'data-testid="index-table"' in html and 'data-testid="cells-table"' in html
    assert 'data-status="primary"' in html or 'data-status="secondary"' in html


def test_csv_and_versions(client, market):
    first = publish(date(2026, 2, 1))
    market.settle(345_000, month="2026-02", operator=1, generator=3)
    publish(date(2026, 2, 1))
    page = client.get("/prices/?month=2026-02&version=1").get_data(as_text=True)
    assert 'data-label="2026-02 v1"' in page and "2026-02 v2r" in page
    resp = client.get("/prices/prices.csv?month=2026-02&version=1")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][:5] == ["period", "category", "method", "region", "status"]
    d10 = [r for r in rows[2:] if r[:4] == ["2026-02", "HW08", "D10", "44"]]
    assert d10 and d10[0][4] in ("published", "insufficient_data")
    assert first.inputs_hash[:16] in rows[0][0]
    assert client.get("/prices/?month=2026-02&version=9").status_code == 404
    assert client.get("/prices/?month=26-02").status_code == 422


def test_methodology_pages(client):
    assert client.get("/prices/methodology").status_code == 200
    resp = client.get("/prices/methodology.md")
    assert resp.status_code == 200 and "Worked example" in resp.get_data(as_text=True)


def test_admin_publishes_and_watches_progress(client, admin, market):
    login(client, admin)
    assert client.get("/admin/prices").status_code == 200
    resp = client.post("/admin/prices/runs", data={"month": "2026-02", "release": "preliminary"})
    assert resp.status_code == 302
    run = db.session.scalar(select(PublicationRun))
    assert (run.status, run.progress) == ("queued", 0)
    run_publication(run.id)
    status = client.get(f"/admin/prices/run-status?run={run.id}").get_json()
    assert (status["status"], status["progress"], status["message"]) == ("done", 100, "2026-02 v1")
    assert db.session.scalar(select(func.count()).select_from(PricePublication)) == 1
    assert client.get("/admin/prices/run-status").get_json()["runs"][0]["id"] == run.id
    assert client.get("/admin/prices/run-status?run=x").status_code == 422


def test_admin_refusals_change_nothing(client, admin):
    login(client, admin)
    resp = client.post("/admin/prices/runs", data={"month": "2099-01", "release": "preliminary"})
    assert resp.status_code == 422
    assert client.post("/admin/prices/tariffs", data={"category_code": "HW08", "region_prefix": "44",
                                                      "price_yuan": "100"}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(PublicationRun)) == 0
    assert db.session.scalar(select(func.count()).select_from(GovernmentTariff)) == 0
    assert client.post("/admin/prices/tariffs", data={"category_code": "HW01", "region_prefix": "44",
                                                      "price_yuan": "2800"}).status_code == 302
    assert db.session.scalar(select(GovernmentTariff.unit_price_fen_per_t)) == 280_000


def test_both_parties_see_where_a_quote_sits(client, market, generator, operator):
    publish(date(2026, 2, 1))
    req = create_request(generator, **request_data(method_group="D10"))
    quote_svc.submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=300_000))
    login(client, generator)
    html = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert 'data-band="below_p10"' in html
    client.post("/logout")
    login(client, operator)
    html = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert 'data-band="below_p10"' in html

"""GET /api/v1/prices (public) and GET /api/v1/regulator/index (regulators, their province)."""
from __future__ import annotations

from datetime import date

import pytest

from market.prices.services import publish
from tests.api.conftest import bearer, error_of
from tests.price_factories import Market

PRICES = [300_000, 310_000, 320_000, 330_000, 340_000]


@pytest.fixture
def release():
    m = Market()
    m.cell(PRICES, month="2026-01")
    m.cell([p + 10_000 for p in PRICES], month="2026-02")
    Market(category="HW49").cell([200_000, 210_000], month="2026-02", method_code="D1")
    m.settle(20_000, month="2026-02", operator=2, generator=4)       # an outlier, listed for regulators
    guangxi = Market(region="450100")
    guangxi.cell(PRICES, month="2026-02")
    return publish(date(2026, 2, 1))


def test_prices_are_public_and_filtered(client, release):
    resp = client.get("/api/v1/prices?category=HW08&method=D10&province=44")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["release"]["label"] == "2026-02 v1" and body["release"]["release"] == "preliminary"
    [cell] = body["cells"]
    assert (cell["period"], cell["status"], cell["trades"]) == ("2026-02", "published", 5)
    assert body["index"]["laspeyres"][-1]["period"] == "2026-02"
    thin = client.get("/api/v1/prices?category=HW49&method=D1&province=44").get_json()["cells"][0]
    assert thin["status"] == "insufficient_data" and "vwap" not in thin
    assert thin["nearest_published"] is None        # nothing above it is published either
    assert "outliers" not in body


@pytest.mark.parametrize("query, field", [("month=2026-13x", "month"), ("category=XX", "category"),
                                          ("method=D99", "method"), ("province=4", "province"),
                                          ("version=0&month=2026-02", "version")])
def test_bad_filters_name_the_field(client, release, query, field):
    resp = client.get(f"/api/v1/prices?{query}")
    assert resp.status_code == 422 and error_of(resp)["field"] == field


def test_no_release_for_a_month_is_not_found(client, release):
    assert client.get("/api/v1/prices?month=2025-06").status_code == 404


def test_regulator_index_is_scoped_to_its_province(client, release, regulator, generator):
    headers = bearer(regulator)                  # scope 4403 → province 44
    body = client.get("/api/v1/regulator/index", headers=headers).get_json()
    assert {c["region"] for c in body["cells"]} == {"44"}
    assert [x["price"] for x in body["outliers"]] == [20_000]
    assert client.get("/api/v1/regulator/index?province=45", headers=headers).status_code == 404
    assert client.get("/api/v1/regulator/index?province=*", headers=headers).status_code == 404
    assert client.get("/api/v1/regulator/index", headers=bearer(generator)).status_code == 403
    assert client.get("/api/v1/regulator/index").status_code == 401

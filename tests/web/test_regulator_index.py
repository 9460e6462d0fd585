"""The regulator's dashboard shows the latest published index for the regulator's province beside
the national roll-up: release status, links, the composite index and the province's trend with a
table beside each chart, suppressed cells as suppressed — and nothing of another province."""
from __future__ import annotations

import re
from datetime import date

import pytest

from market.prices import queries
from market.prices.services import publish
from tests.factories import PlatformOrgFactory, UserFactory
from tests.fixtures import login
from tests.price_factories import Market

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
PRICES = [300_000, 310_000, 320_000, 330_000, 340_000]


@pytest.fixture
def releases():
    guangdong = Market(region="440306")
    guangdong.cell(PRICES, month="2026-01")
    guangdong.cell([p + 10_000 for p in PRICES], month="2026-02")
    Market(category="HW09", region="440306").cell([200_000, 210_000], month="2026-02")
    guangxi = Market(category="HW18", region="450102")
    guangxi.cell([610_000, 620_000, 630_000, 640_000, 650_000], month="2026-02")
    publish(JAN)
    return publish(FEB)


def _rows(page: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(
        r'<tr data-testid="index-cell" data-category="(HW\d\d)".*?</tr>', page, re.S)}


def test_shenzhen_regulator_sees_guangdongs_cells_and_not_another_provinces(client, app, regulator,
                                                                            releases):
    money = app.jinja_env.filters["money"]
    login(client, regulator)
    resp = client.get("/regulator", headers={"Accept-Language": "en"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    rows = _rows(page)
    assert set(rows) == {"HW08", "HW09"}                      # Guangxi's HW18 is not there
    assert 'data-region="44"' in rows["HW08"] and 'data-region="*"' in rows["HW08"]
    assert f"{money(314_000)} – {money(346_000)}" in rows["HW08"]         # p10 – p90
    assert money(330_000) in rows["HW08"]                                  # median
    assert 'data-testid="index-suppressed"' in rows["HW09"] and money(205_000) not in rows["HW09"]
    assert 'data-region="45"' not in page and money(630_000) not in page
    assert f'data-label="{releases.label}"' in page and 'data-release="preliminary"' in page
    assert 'href="/prices/?province=44"' in page and 'href="/prices/methodology"' in page
    for chart, table in (("index-chart", "index-table"), ("index-trend-chart", "index-trend-table")):
        assert f'data-testid="{chart}" data-chart="series"' in page and f'data-testid="{table}"' in page
    level = queries.index_series("*/*/*", "laspeyres", releases)[-1][1]
    assert f'<span class="stat-value">{level:.4f}</span>' in page.split('data-testid="index-composite"')[1][:80]
    trend = page.split('data-testid="index-trend-table"')[1].split("</table>")[0]
    assert "HW08" in trend and "HW18" not in trend and "2026-01" in trend


def test_the_panel_in_chinese_and_for_platform_staff(client, releases):
    staff = UserFactory(org=PlatformOrgFactory(), platform_role="admin")
    login(client, staff)
    page = client.get("/regulator", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已发布的价格指数" in page and "全国综合价格指数" in page
    assert set(_rows(page)) == {"HW08", "HW09", "HW18"}         # national: every category
    assert 'data-region="44"' not in page


def test_no_release_yet(client, regulator):
    login(client, regulator)
    page = client.get("/regulator", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="index-no-release"' in page and 'data-testid="index-chart"' not in page

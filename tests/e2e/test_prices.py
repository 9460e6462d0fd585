"""Browser test: the public price page renders its three ECharts charts, a table beside each, in
English and in Chinese, without logging in; screenshots for the README go to docs/."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from market.prices.services import publish
from tests.price_factories import Market

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def release():
    m = Market(operators=4, generators=6)
    for month in ("2026-01", "2026-02", "2026-03"):
        m.cell([300_000 + 7_000 * i + 5_000 * int(month[-1]) for i in range(6)], month=month)
        m.cell([200_000 + 4_000 * i for i in range(6)], month=month, method_code="D1")
    m.cell([500_000, 510_000], month="2026-03", method_code="D9")          # suppressed
    oil = Market(operators=3, generators=5, category="HW49")
    for month in ("2026-01", "2026-02", "2026-03"):
        oil.cell([400_000 + 9_000 * i for i in range(5)], month=month)
    return publish(date(2026, 3, 1))


@pytest.mark.parametrize("locale, heading, insufficient, shot", [
    ("en", "Settled disposal prices of hazardous waste", "insufficient data", "prices-en.png"),
    ("zh-CN", "危险废物处置成交价格", "数据不足", "prices-zh.png")])
def test_public_price_page_draws_its_charts(page_for, release, locale, heading, insufficient, shot):
    page = page_for(locale)
    page.goto("/prices/?province=44")
    assert page.get_by_role("heading", level=1).inner_text() == heading
    for chart in ("chart-index", "chart-cells", "chart-trend"):
        el = page.get_by_test_id(chart)
        el.locator("svg").first.wait_for(timeout=15_000)
        assert el.get_attribute("data-rendered") == "true"
        assert el.locator("svg path").count() > 3
    assert page.get_by_test_id("index-table").locator("tbody tr").count() == 3
    assert insufficient in page.get_by_test_id("cells-table").inner_text()
    assert page.get_by_test_id("calendar-day").count() == 12
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(DOCS / shot), full_page=True)

"""The regulator workspace in a real browser, in English and Chinese: the dashboard (settled
prices and the published index of the regulator's province: composite index and trend), flows
and capacity pages draw their ECharts charts (vendored, no inline script) beside their tables,
and a Shenzhen regulator sees nothing of Foshan. Screenshots go to docs/ for the README."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from market.prices.services import publish
from tests.e2e.test_sampling_contract import log_in, user
from tests.oversight_factories import settled_order, world
from tests.price_factories import Market

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = (("/regulator", (("price-chart", "price-table"), ("index-chart", "index-table"),
                          ("index-trend-chart", "index-trend-table")), "dashboard"),
         ("/regulator/flows", (("flows-chart", "flows-table"),), "flows"),
         ("/regulator/capacity", (("capacity-chart", "capacity-table"),), "capacity"))
PRICES = [300_000, 310_000, 320_000, 330_000, 340_000]


def _publish_guangdong_index() -> None:
    """Two months of a Shenzhen cell, published: the dashboard's index panel has a series."""
    market = Market(region="440306")
    market.cell(PRICES, month="2026-01")
    market.cell([p + 10_000 for p in PRICES], month="2026-02")
    publish(date(2026, 1, 1))
    publish(date(2026, 2, 1))


@pytest.mark.parametrize("locale,title", [("en", "Regulator workspace"), ("zh-CN", "监管工作台")])
def test_regulator_charts_render_in_both_languages(page_for, locale, title):
    from market.demo import seed
    seed()
    sz, fs = world("4403", "深圳"), world("4406", "佛山")
    # More flows for the pictures: Shenzhen's waste to Dongguan (op1), a lab's to Shenzhen.
    settled_order(sz.generator, user("op1").org, kg=5_000, price=80_000, category="HW09")
    settled_order(user("gen3").org, sz.operator, kg=3_000, price=420_000, category="HW08")
    _publish_guangdong_index()
    page = log_in(page_for, locale, "reg-sz")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    for path, charts, name in PAGES:
        page.goto(path)
        for chart, table in charts:
            page.wait_for_selector(f"[data-testid={chart}][data-rendered='1'] svg")
            assert page.get_by_test_id(table).count() == 1, (path, table)
            assert page.locator(f"[data-testid={chart}] svg path").count() > 0, (path, chart)
        body = page.content()
        assert sz.generator.name in body or sz.order.number in body or "深圳" in body, path
        for marker in fs.markers:
            assert marker not in body, (path, marker)
        page.screenshot(path=str(DOCS / f"regulator-{name}-{locale.split('-')[0]}.png"),
                        full_page=True)
    assert page.locator("h1").first.inner_text() != ""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/regulator")
    assert title in page.content()
    page.wait_for_selector("[data-testid=index-chart][data-rendered='1'] svg")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    assert errors == []

"""Inputs that help, in a real browser, in Chinese and English, at desktop and phone width (issue 14).

gen1 (深圳市华芯电子制造有限公司, 宝安区 440306) writes a disposal request: finds its waste by the
everyday word 废机油 (or "waste oil") and chooses a suggestion without losing what it typed; picks
the pickup region 南山区 (440305) by searching its name or through province → city → district;
submits the form empty and sees every problem at once. axe-core checks each of these pages.
"""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select

from market import db
from market.demo import seed
from market.listings.models import DisposalRequest, ServiceArea
from tests.e2e.test_sampling_contract import log_in, user

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
WORDS = {"en": {"everyday": "waste oil"}, "zh-CN": {"everyday": "废机油"}}


def request_form(page_for, locale: str, width: str):
    seed()
    page = log_in(page_for, locale, "gen1")
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})
    page.goto("/requests/new")
    return page


def no_sideways_scroll(page) -> None:
    scroll, view = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= view, f"the page scrolls sideways: {scroll} > {view}"


def axe_clean(page) -> None:
    found = Axe().run(page).response["violations"]
    bad = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found
           if v.get("impact") in ("serious", "critical")]
    assert not bad, bad


def latest_request() -> DisposalRequest:
    db.session.remove()
    return db.session.scalars(select(DisposalRequest).order_by(DisposalRequest.id.desc()).limit(1)).one()


def submit(page) -> DisposalRequest:
    page.get_by_test_id("post-request").click()
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    return latest_request()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_waste_search_by_everyday_words_keeps_what_was_typed(page_for, locale, width):
    page = request_form(page_for, locale, width)
    # typed before searching
    page.fill("textarea[name=description]", "车间保养换下的废机油，约 12 桶")
    page.fill("input[name=packaging]", "200 L 铁桶")
    page.fill("input[name=quantity]", "2.4")
    page.fill("input[name=address]", "深圳市南山区科技园测试路 1 号")

    page.get_by_test_id("waste-q").fill(WORDS[locale]["everyday"])
    suggestions = page.get_by_test_id("waste-results").get_by_test_id("waste-suggestion")
    suggestions.first.wait_for()
    assert suggestions.first.get_attribute("data-category") == "HW08"
    assert suggestions.first.get_attribute("data-code") == "900-214-08"
    assert "HW08" in suggestions.first.inner_text()
    no_sideways_scroll(page)
    if width == "desktop":
        axe_clean(page)
    suggestions.first.click()

    # the suggestion filled the category and code, in the page: nothing else changed
    assert page.input_value("select[name=category]") == "HW08"
    assert page.input_value("input[name=waste_code]") == "900-214-08"
    assert page.input_value("textarea[name=description]") == "车间保养换下的废机油，约 12 桶"
    assert page.input_value("input[name=quantity]") == "2.4"
    assert page.input_value("input[name=address]") == "深圳市南山区科技园测试路 1 号"
    assert page.get_by_test_id("waste-results").is_hidden()

    # typing a category code offers the category itself first
    page.get_by_test_id("waste-q").fill("hw12")
    first = page.get_by_test_id("waste-results").get_by_test_id("waste-suggestion").first
    expect(first).to_have_attribute("data-category", "HW12")
    assert first.get_attribute("data-code") == ""
    page.get_by_test_id("waste-q").fill("")

    req = submit(page)
    assert (req.category_code, req.waste_code, req.quantity_kg) == ("HW08", "900-214-08", 2400)
    assert req.description == "车间保养换下的废机油，约 12 桶" and req.packaging == "200 L 铁桶"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_region_picker_by_name_search(page_for, locale, width):
    page = request_form(page_for, locale, width)
    picker = page.get_by_test_id("region-picker-region_code")
    # the organisation's region is chosen by default and shown with its names
    assert "广东省 › 深圳市 › 宝安区" in picker.get_by_test_id("region-chosen").inner_text()
    picker.get_by_test_id("region-search").fill("南山")
    hit = picker.locator("[data-testid=region-suggestion][data-code='440305']")
    hit.wait_for()
    assert "广东省 › 深圳市 › 南山区" in hit.inner_text()
    # the other 南山区 (鹤岗市) is told apart by its path
    assert "黑龙江省 › 鹤岗市 › 南山区" in picker.locator(
        "[data-testid=region-suggestion][data-code='230404']").inner_text()
    no_sideways_scroll(page)
    if width == "desktop":
        axe_clean(page)
    hit.click()
    expect(page.locator("#region_code")).to_have_value("440305")
    assert page.input_value("#region_code-province") == "440000"
    assert page.input_value("#region_code-city") == "440300"
    chosen = picker.get_by_test_id("region-chosen").inner_text()
    assert "南山区" in chosen and "440305" in chosen
    page.fill("input[name=quantity]", "1")
    page.select_option("select[name=category]", "HW49")
    assert submit(page).region_code == "440305"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_region_picker_province_city_district(page_for, locale, width):
    page = request_form(page_for, locale, width)
    # another province first: its levels replace 深圳's
    page.select_option("#region_code-province", "110000")
    page.locator("#region_code-city option[value='110105']").wait_for(state="attached")
    assert page.locator("#region_code option[value='440306']").count() == 0
    page.select_option("#region_code-province", "440000")
    page.locator("#region_code-city option[value='440300']").wait_for(state="attached")
    page.select_option("#region_code-city", "440300")
    page.locator("#region_code option[value='440305']").wait_for(state="attached")
    page.select_option("#region_code", "440305")
    chosen = page.get_by_test_id("region-chosen").inner_text()
    assert "广东省 › 深圳市 › 南山区" in chosen and "(440305)" in chosen
    no_sideways_scroll(page)
    page.fill("input[name=quantity]", "1")
    page.select_option("select[name=category]", "HW49")
    assert submit(page).region_code == "440305"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_problem_is_reported_at_once_with_links_to_the_fields(page_for, locale, width):
    page = request_form(page_for, locale, width)
    db.session.remove()
    before = db.session.scalar(select(DisposalRequest.id).order_by(DisposalRequest.id.desc()).limit(1))
    page.fill("input[name=quantity]", "")
    page.fill("input[name=address]", "")
    page.select_option("#region_code-province", "")
    page.get_by_test_id("post-request").click()
    page.wait_for_load_state()

    summary = page.get_by_test_id("error-summary")
    assert summary.is_visible() and summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.dataset.testid") == "error-summary"
    links = summary.locator("a[data-error-for]")
    named = set(links.evaluate_all("els => els.map(e => e.dataset.errorFor)"))
    assert {"quantity", "address", "region_code"} <= named, named
    text = summary.inner_text()
    # each message says how to fix the input
    fixes = {"en": ["This field is required.", "Choose the province, then the city and district"],
             "zh-CN": ["省份", "此项为必填"]}[locale]
    assert all(f in text for f in fixes), text
    for name in ("quantity", "address"):
        field = page.locator(f"#{name}")
        assert field.get_attribute("aria-invalid") == "true"
        described = field.get_attribute("aria-describedby").split()
        assert f"{name}-error" in described
        assert page.locator(f"#{name}-error").inner_text().strip()
        summary.locator(f"a[data-error-for={name}]").click()
        assert page.evaluate("document.activeElement.id") == name
    # the region link leads into the picker
    summary.locator("a[data-error-for=region_code]").click()
    assert page.evaluate("document.activeElement.closest('[data-region-picker]') !== null")
    no_sideways_scroll(page)
    if width == "desktop":
        axe_clean(page)
    db.session.remove()
    assert db.session.scalar(select(DisposalRequest.id).order_by(DisposalRequest.id.desc()).limit(1)) == before


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_service_regions_are_added_with_the_picker(page_for, locale, width):
    seed()
    page = log_in(page_for, locale, "op1")
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})
    page.goto("/account/service-areas")
    picker = page.get_by_test_id("region-picker-prefixes")
    picker.get_by_test_id("region-search").fill("东莞")
    hit = picker.locator("[data-testid=region-suggestion][data-code='441900']")
    hit.wait_for()
    hit.click()
    expect(page.locator("#prefixes-city")).to_have_value("441900")
    picker.get_by_test_id("region-add").click()
    kept = picker.get_by_test_id("region-kept")
    expect(kept).to_have_count(1)
    assert kept.first.get_attribute("value") == "4419" and kept.first.is_checked()
    # and a whole province through the lists
    page.select_option("#prefixes", "450000")
    picker.get_by_test_id("region-add").click()
    expect(kept).to_have_count(2)
    no_sideways_scroll(page)
    if width == "desktop":
        axe_clean(page)
    page.get_by_test_id("areas-form").locator("button.primary").click()
    page.wait_for_load_state()
    db.session.remove()
    org_id = user("op1").org_id
    assert sorted(db.session.scalars(select(ServiceArea.region_prefix).where(
        ServiceArea.org_id == org_id))) == ["4419", "45"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_registration_form_picks_its_region_before_any_login(page_for, locale, width):
    page = page_for(locale)
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})
    page.goto("/register")
    picker = page.get_by_test_id("region-picker-region_code")
    picker.get_by_test_id("region-search").fill("深圳 南山")
    hit = picker.locator("[data-testid=region-suggestion][data-code='440305']")
    hit.wait_for()
    hit.click()
    expect(page.locator("#region_code")).to_have_value("440305")
    assert "(440305)" in picker.get_by_test_id("region-chosen").inner_text()
    no_sideways_scroll(page)
    if width == "desktop":
        axe_clean(page)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_enter_in_a_field_posts_the_form_not_a_search_step(page_for, locale):
    """The picker's and the search's step buttons come first in the form; Enter still posts it."""
    page = request_form(page_for, locale, "desktop")
    db.session.remove()
    before = db.session.scalar(select(func.count()).select_from(DisposalRequest))
    page.fill("input[name=quantity]", "3")
    page.select_option("select[name=category]", "HW49")
    page.locator("input[name=quantity]").press("Enter")
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    req = latest_request()
    assert db.session.scalar(select(func.count()).select_from(DisposalRequest)) == before + 1
    assert (req.quantity_kg, req.status) == (3000, "open")

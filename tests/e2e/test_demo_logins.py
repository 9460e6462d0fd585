"""Every demo login lands on its own dashboard, in Chinese and in English, in a real browser."""
from __future__ import annotations

import pytest

from market.demo import DEMO_PASSWORD, seed

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

EXPECTED_TITLES = {
    # login → (English dashboard title, Chinese dashboard title)
    "gen1": ("Generator workspace", "产废单位工作台"),
    "op1": ("Operator workspace", "经营单位工作台"),
    "carrier": ("Carrier workspace", "运输单位工作台"),
    "lab": ("Laboratory workspace", "检测机构工作台"),
    "reg-sz": ("Regulator workspace", "监管工作台"),
    "finance": ("Finance workspace", "财务工作台"),
    "admin": ("Administration", "平台管理"),
}


def _log_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")


@pytest.mark.parametrize("locale,column", [("en", 0), ("zh-CN", 1)])
def test_each_demo_role_lands_on_its_dashboard(page_for, locale, column):
    logins = {email.split("@")[0]: org for email, org, _ in seed()}
    for key, titles in EXPECTED_TITLES.items():
        page = page_for(locale)
        _log_in(page, f"{key}@demo.hazex.cn")
        title = page.get_by_test_id("dashboard-title").inner_text()
        assert titles[column] in title, (key, title)
        assert logins[key] in page.content()
        page.context.close()


def test_language_switch_is_remembered_for_the_user(page_for):
    seed()
    page = page_for("zh-CN")
    _log_in(page, "op1@demo.hazex.cn")
    assert "经营单位工作台" in page.get_by_test_id("dashboard-title").inner_text()
    page.get_by_test_id("lang-en").click()
    assert "Operator workspace" in page.get_by_test_id("dashboard-title").inner_text()
    # a new browser whose language is Chinese still gets English: the choice is the user's
    page2 = page_for("zh-CN")
    _log_in(page2, "op1@demo.hazex.cn")
    assert "Operator workspace" in page2.get_by_test_id("dashboard-title").inner_text()

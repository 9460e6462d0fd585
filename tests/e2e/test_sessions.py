"""In a real browser: a copied session cookie stops working once its owner logs out (issue 9)."""
from __future__ import annotations

import pytest

from market.demo import DEMO_PASSWORD, seed

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def _log_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")


def test_copied_cookie_no_longer_opens_the_dashboard_after_logout(page_for):
    seed()
    page = page_for("en")
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    _log_in(page, "gen1@demo.hazex.cn")
    copied = [c for c in page.context.cookies() if c["name"] == "session"]
    assert copied

    thief = page_for("en")
    thief.context.add_cookies(copied)
    thief.goto("/dashboard")
    assert thief.url.endswith("/dashboard")  # the copy works while the session is open
    thief.context.clear_cookies()

    page.get_by_test_id("nav-security").click()
    page.wait_for_url("**/account/security")
    assert page.get_by_test_id("this-session").is_visible()
    page.click("header form button:has-text('Log out')")
    page.wait_for_url("**/login")

    thief.context.add_cookies(copied)
    thief.goto("/dashboard")
    assert "/login" in thief.url
    assert thief.locator("input[name=password]").is_visible()
    assert csp_violations == []

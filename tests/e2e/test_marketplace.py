"""The marketplace journey in a real browser, in English and in Chinese (issue 3's acceptance).

A generator posts a request; two matching operators see it and quote; the generator accepts one;
each operator sees the outcome; the order appears for both parties.
"""
from __future__ import annotations

import re

import pytest

from market.demo import DEMO_PASSWORD, seed
from tests.e2e.conftest import confirm

pytestmark = [pytest.mark.committed, pytest.mark.e2e]

# locale → the words the pages must show in that language
WORDS = {
    "en": {"request": "Request", "not_selected": "not selected", "accepted": "accepted",
           "order": "Order", "created": "created", "contract_pending": "contract pending"},
    "zh-CN": {"request": "处置需求", "not_selected": "未中标", "accepted": "已接受",
              "order": "订单", "created": "已创建", "contract_pending": "待签合同"},
}
GEN, WINNER, LOSER = "gen1", "op3", "op2"  # op2 (Huizhou) and op3 (Foshan) both hold HW17


def log_in(page_for, locale: str, login: str):
    page = page_for(locale)
    page.goto("/login")
    page.fill("input[name=email]", f"{login}@demo.hazex.cn")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page


def post_request(page) -> str:
    page.get_by_test_id("dash-new-request").click()
    page.wait_for_url("**/requests/new")
    page.select_option("select[name=category]", "HW17")
    page.fill("input[name=waste_code]", "336-064-17")
    page.fill("textarea[name=description]", "酸洗废液，含镍，pH≈1")
    page.select_option("select[name=form]", "liquid")
    page.fill("input[name=packaging]", "1 m³ IBC 吨桶")
    page.check("input[name=hazards][value=T]")
    page.check("input[name=hazards][value=C]")
    page.fill("input[name=quantity]", "12")
    page.select_option("select[name=unit]", "t")
    page.get_by_test_id("post-request").click()
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    assert page.get_by_test_id("request-status").get_attribute("data-status") == "open"
    number = page.get_by_test_id("request-number").inner_text().split()[-1]
    # both licensed operators are matched, with the reasons they qualify
    assert page.get_by_test_id("match").count() == 2
    return number


def quote(page_for, locale: str, login: str, number: str, price: str, fee: str) -> None:
    page = log_in(page_for, locale, login)
    page.get_by_test_id("nav-matched").click()
    page.locator(f"[data-testid=matched-row][data-number='{number}'] a").first.click()
    assert page.get_by_test_id("standing-ok").is_visible()
    page.fill("input[name=unit_price]", price)
    page.fill("input[name=transport_fee]", fee)
    page.fill("textarea[name=note]", "含运输，两周内清运")
    page.get_by_test_id("send-quote").click()
    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    assert page.get_by_test_id("my-quote").get_attribute("data-status") == "submitted"
    page.context.close()


def quote_row(page, number: str):
    page.get_by_test_id("nav-quotes").click()
    return page.locator(f"[data-testid=quote-row][data-request='{number}']")


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_request_quotes_award_and_order_in_the_browser(csrf_app, page_for, locale):
    # csrf_app: CSRF protection on, as in production, so every form must carry its token
    seed()
    words = WORDS[locale]
    operators = {email.split("@")[0]: name for email, name, _role in seed()}

    generator = log_in(page_for, locale, GEN)
    number = post_request(generator)
    assert words["request"] in generator.get_by_test_id("request-number").inner_text()

    quote(page_for, locale, LOSER, number, "2800", "600")
    quote(page_for, locale, WINNER, number, "2600.50", "800")

    # the generator compares both quotes side by side and accepts the Foshan operator's
    generator.reload()
    cards = generator.get_by_test_id("quote-card")
    assert cards.count() == 2
    # 12 t × ¥2,600.50 + ¥800 = ¥32,006.00; 12 t × ¥2,800 + ¥600 = ¥34,200.00
    totals = generator.get_by_test_id("quote-total").all_inner_texts()
    assert totals == ["¥32,006.00", "¥34,200.00"]
    generator.locator(f"[data-testid=quote-card][data-operator='{operators[WINNER]}'] "
                      "[data-testid=accept-quote]").click()
    confirm(generator)
    generator.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_number = generator.get_by_test_id("order-number").inner_text().split()[-1]
    assert words["order"] in generator.get_by_test_id("order-number").inner_text()
    # a new order waits for its contract (or, once contracts exist, is already asking for one)
    status = generator.get_by_test_id("order-status")
    state = status.get_attribute("data-status")
    assert state in ("created", "contract_pending") and words[state] in status.inner_text()
    assert operators[WINNER] in generator.get_by_test_id("order-operator").inner_text()
    assert generator.get_by_test_id("order-total").inner_text() == "¥32,006.00"
    generator.get_by_test_id("nav-orders").click()
    assert generator.locator(f"[data-testid=order-row][data-number='{order_number}']").count() == 1

    # the losing operator sees its quote was not selected, and no order
    loser = log_in(page_for, locale, LOSER)
    row = quote_row(loser, number)
    assert row.get_attribute("data-status") == "rejected"
    assert words["not_selected"] in row.get_by_test_id("quote-status").inner_text()
    loser.get_by_test_id("nav-orders").click()
    assert loser.locator(f"[data-testid=order-row][data-number='{order_number}']").count() == 0

    # the winner sees its quote accepted and the order, from its quotes and its orders
    winner = log_in(page_for, locale, WINNER)
    row = quote_row(winner, number)
    assert row.get_attribute("data-status") == "accepted"
    assert words["accepted"] in row.get_by_test_id("quote-status").inner_text()
    row.get_by_test_id("quote-order").click()
    winner.wait_for_url(re.compile(r".*/orders/\d+$"))
    assert order_number in winner.get_by_test_id("order-number").inner_text()
    assert operators[GEN] in winner.get_by_test_id("order-generator").inner_text()
    winner.get_by_test_id("nav-orders").click()
    assert winner.locator(f"[data-testid=order-row][data-number='{order_number}']").count() == 1

"""Rating after settlement, in a real browser: the generator (gen1, in Chinese) rates the operator
from the order page's next step, the operator (op1, in English) rates the generator, and the
operator's shop then shows the mean score and the count."""
from __future__ import annotations

import pytest

from tests.e2e.test_sampling_contract import log_in, user
from tests.escrow_factories import make_order

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def test_both_parties_rate_each_other_and_the_shop_shows_it(csrf_app, page_for):
    from market.demo import seed
    seed()
    order = make_order(user("gen1").org, user("op1").org, status="settled")

    generator = log_in(page_for, "zh-CN", "gen1")
    generator.goto(f"/orders/{order.id}")
    step = generator.get_by_test_id("next-step-button")
    assert step.get_attribute("data-action") == "review" and step.inner_text() == "评价对方"
    step.click()
    form = generator.get_by_test_id("review-form")
    assert "按时清运" in form.inner_text() and "废物与申报一致" not in form.inner_text()
    for name, score in (("on_time", 5), ("as_agreed", 4), ("communication", 3)):
        form.locator(f"input[name={name}][value='{score}']").check()
    form.locator("textarea[name=comment]").fill("清运准时，沟通及时")
    form.get_by_test_id("review-submit").click()
    generator.wait_for_url(f"**/orders/{order.id}*")
    assert "谢谢，您的评价已发布。" in generator.content()
    review = generator.locator("[data-testid=review][data-side=generator]")
    assert "清运准时，沟通及时" in review.inner_text()
    assert generator.get_by_test_id("review-form").count() == 0
    generator.context.close()

    operator = log_in(page_for, "en", "op1")
    operator.goto(f"/orders/{order.id}")
    form = operator.get_by_test_id("review-form")
    # nothing chosen: the browser asks for the scores first, nothing is sent or stored
    assert form.locator("input[name=as_declared]").first.get_attribute("required") is not None
    form.get_by_test_id("review-submit").click()
    assert operator.locator("[data-testid=review][data-side=operator]").count() == 0
    form.locator("input[name=as_declared][value='4']").check()
    form.locator("input[name=payment][value='5']").check()
    form.get_by_test_id("review-submit").click()
    operator.wait_for_url(f"**/orders/{order.id}*")
    assert operator.locator("[data-testid=review]").count() == 2

    operator.goto(f"/shops/{user('op1').org_id}")
    stat = operator.get_by_test_id("reviews")
    assert stat.get_attribute("data-count") == "1"
    assert "4.0 / 5" in stat.inner_text() and "Collected on time: 5.0" in stat.inner_text()
    operator.context.close()

"""Reviews on the order page: the form for the side that has not reviewed, refusals explained."""
from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.reviews.models import Review
from tests.escrow_factories import make_order
from tests.factories import UserFactory
from tests.web.marketplace import as_user, text


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Review))


def test_the_generator_rates_the_operator_on_the_order_page(client):
    order = make_order(status="settled")
    gen = UserFactory(org=order.generator)
    as_user(client, gen)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-testid="review-form"' in page and 'name="on_time"' in page and 'name="payment"' not in page
    assert 'data-action="review"' in page and 'href="#reviews"' in page  # the next step
    resp = client.post(f"/orders/{order.id}/reviews",
                       data={"on_time": "5", "as_agreed": "4", "communication": "3", "comment": "准时"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/orders/{order.id}#reviews")
    page = client.get(f"/orders/{order.id}")
    body = page.get_data(as_text=True)
    assert 'data-testid="review-form"' not in body and 'data-side="generator"' in body
    assert 'data-action="review"' not in body
    assert "Thank you: your review is published." in text(page) and "准时" in text(page)
    client.post("/logout")
    as_user(client, UserFactory(org=order.operator), lang="zh-CN")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'name="as_declared"' in page and 'name="on_time"' not in page
    assert "评价" in page


def test_a_missing_score_is_explained_and_nothing_is_stored(client):
    order = make_order(status="settled")
    as_user(client, UserFactory(org=order.operator))
    resp = client.post(f"/orders/{order.id}/reviews", data={"as_declared": "4"}, follow_redirects=True)
    assert "Payment: Choose a score from 1 to 5." in text(resp)
    assert _count() == 0


def test_no_form_before_settlement_and_a_post_is_refused(client):
    order = make_order(status="received")
    as_user(client, UserFactory(org=order.generator))
    assert 'data-testid="review-form"' not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    resp = client.post(f"/orders/{order.id}/reviews",
                       data={"on_time": "5", "as_agreed": "4", "communication": "3"}, follow_redirects=True)
    assert "can be reviewed once it is settled" in text(resp)
    assert _count() == 0

"""The order action reviews add: each party rates the other once the order is settled or closed."""
import pytest

from market.orders.actions import OrderFacts, allowed

BOTH = OrderFacts(unreviewed=frozenset({"generator", "operator"}))


@pytest.mark.parametrize("status", ["settled", "closed"])
def test_each_party_that_has_not_reviewed_may_review(status):
    assert "review" in allowed(status, "generator", BOTH)
    assert "review" in allowed(status, "operator", BOTH)
    done = OrderFacts(unreviewed=frozenset({"operator"}))
    assert "review" not in allowed(status, "generator", done)
    assert "review" in allowed(status, "operator", done)


@pytest.mark.parametrize("status", ["funded", "in_transfer", "received", "disputed", "cancelled"])
def test_no_review_before_settlement(status):
    assert "review" not in allowed(status, "generator", BOTH)


def test_staff_and_the_certificate_come_first():
    assert "review" not in allowed("settled", "admin", BOTH)
    held = OrderFacts(retention_held=True, unreviewed=frozenset({"operator"}))
    assert allowed("settled", "operator", held)[:2] == ["upload_certificate", "review"]

"""The order actions settlement adds: paying a top-up, uploading the disposal certificate."""
from market.orders.actions import OrderFacts, allowed


def test_a_top_up_due_is_the_payers_next_step():
    due = OrderFacts(payers_due=frozenset({"generator"}))
    assert allowed("received", "generator", due)[0] == "fund"
    assert "fund" not in allowed("received", "generator", OrderFacts())
    assert "fund" not in allowed("received", "operator", due)


def test_the_operator_uploads_the_certificate_while_a_retention_is_held():
    held = OrderFacts(retention_held=True)
    assert allowed("settled", "operator", held)[0] == "upload_certificate"
    assert "upload_certificate" not in allowed("settled", "operator", OrderFacts())
    assert "upload_certificate" not in allowed("settled", "generator", held)

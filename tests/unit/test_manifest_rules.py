"""Pure manifest rules: the state table's actions per role, weights, numbers, plates."""
from __future__ import annotations

import pytest

from market.manifests import policies
from market.manifests.state import ManifestFacts as F
from market.manifests.state import manifest_actions


@pytest.mark.parametrize("status,roles,facts,expected", [
    ("draft", {"generator"}, F(), ["sign_as_generator", "cancel", "download_pdf"]),
    ("draft", {"generator"}, F(signed=frozenset({"generator"})), ["cancel", "download_pdf"]),
    ("draft", {"carrier"}, F(), ["sign_as_carrier", "request_driver_code", "download_pdf"]),
    ("draft", {"carrier", "operator"}, F(signed=frozenset({"carrier"})), ["download_pdf"]),
    ("draft", {"admin"}, F(), ["cancel", "download_pdf"]),
    ("shipped", {"operator"}, F(), ["receive", "download_pdf"]),
    ("shipped", {"generator"}, F(), ["download_pdf"]),
    ("received", {"generator"}, F(open_discrepancy=True, refusal_unrecorded=True),
     ["confirm_discrepancy", "dispute_discrepancy", "record_refusal", "download_pdf"]),
    ("received", {"operator"}, F(open_discrepancy=True), ["download_pdf"]),
    ("cancelled", {"generator"}, F(), []),
    ("draft", set(), F(), []),
])
def test_actions_follow_the_table(status, roles, facts, expected):
    assert manifest_actions(status, roles, facts) == expected


def test_weights():
    assert policies.shipping_limit_kg(2_000, 5) == 2_100
    assert not policies.received_too_high(1_000, 1_200) and policies.received_too_high(1_000, 1_201)
    assert policies.discrepancy_kind(1_000, 950, 0, 5) is None
    assert policies.discrepancy_kind(1_000, 949, 0, 5) == "weight"
    assert policies.discrepancy_kind(1_000, 1_051, 0, 5) == "weight"
    assert policies.discrepancy_kind(1_000, 1_000, 1, 5) == "refusal"


def test_numbers_and_codes():
    assert policies.manifest_number(2026, "4403", 1) == "20264403000001"
    with pytest.raises(ValueError):
        policies.manifest_number(2026, "4403", 1_000_000)
    assert policies.city_code("440306") == "4403"
    code = policies.new_driver_code()
    assert policies.driver_code_format_ok(code)
    h = policies.hash_driver_code("s", 1, code)
    assert policies.code_matches("s", 1, code, h) and not policies.code_matches("s", 2, code, h)


def test_phones():
    assert policies.phone_ok(policies.normalise_phone("+86 138-0013-8000"))
    assert not policies.phone_ok("12800138000") and not policies.phone_ok("1380013800")

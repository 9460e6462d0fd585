"""GET /api/v1/requests/{id}/matches[?explain=1]: ranked candidates, reasons, excluded operators."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from market.listings.validation import today
from tests.api.conftest import error_of
from tests.api.test_listings_requests import get, open_request, operator_user
from tests.factories import RegulatorOrgFactory, UserFactory
from tests.listing_factories import ServiceAreaFactory, reservation


@pytest.fixture
def request_(generator):
    return open_request(generator)  # 5 000 kg of HW08 (900-214-08), pickup in 440306


def explain(client, user, req) -> dict:
    resp = get(client, user, f"/requests/{req.id}/matches?explain=1")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def excluded(body) -> dict[int, str]:
    return {e["operator_id"]: e["rule"] for e in body["excluded"]}


def test_matches_carry_reasons_and_score_without_excluded(client, generator, operator, request_):
    resp = get(client, generator, f"/requests/{request_.id}/matches")
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"items"}  # excluded only with explain=1
    [m] = body["items"]
    item = operator.org.licences[0].items[0]
    assert (m["operator_id"], m["operator_name"], m["licence_item_id"], m["remaining_kg"]) == (
        operator.org_id, operator.org.name, item.id, 1_000_000)
    assert 0 <= m["score"] <= 100
    rules = [r["rule"] for r in m["reasons"]]
    assert rules[:3] == ["org_verified", "licence_valid", "category_covered"]
    assert {"code_covered", "capacity_available", "region_served"} <= set(rules)
    assert all(r["message"] for r in m["reasons"])


def test_explain_lists_the_excluded_with_their_rule(client, generator, operator, request_):
    wrong = operator_user(category_code="HW17", method_codes=["R4"])
    body = explain(client, generator, request_)
    assert [m["operator_id"] for m in body["items"]] == [operator.org_id]
    [e] = body["excluded"]
    assert (e["operator_id"], e["rule"], e["operator_name"]) == (wrong.org_id, "category_not_covered",
                                                                 wrong.org.name)
    assert e["message"]
    assert set(get(client, generator, f"/requests/{request_.id}/matches?explain=0").get_json()) == {"items"}


def test_excluded_for_no_licence_for_the_category(client, generator, request_):
    org = operator_user(category_code="HW17", method_codes=["R4"]).org
    body = explain(client, generator, request_)
    assert body["items"] == [] and excluded(body) == {org.id: "category_not_covered"}


def test_excluded_for_an_expired_licence(client, generator, request_):
    org = operator_user(licence__valid_from=date(2019, 1, 1),
                        licence__valid_to=today() - timedelta(days=1)).org
    body = explain(client, generator, request_)
    assert body["items"] == [] and excluded(body) == {org.id: "licence_not_valid"}


def test_excluded_for_exhausted_capacity(client, generator, request_):
    user = operator_user(approved_kg_per_year=10_000)
    item = user.org.licences[0].items[0]
    reservation(item, 6_000, year=request_.window_start.year)  # 4 000 kg left for 5 000 asked
    body = explain(client, generator, request_)
    assert body["items"] == [] and excluded(body) == {user.org_id: "capacity_exhausted"}
    assert "4000" in body["excluded"][0]["message"].replace(",", "")


def test_excluded_for_a_region_not_served(client, generator, request_):
    org = operator_user(region="440106").org                 # Guangzhou, but it says where it serves:
    ServiceAreaFactory(org=org, region_prefix="4401")        # Guangzhou only, not Shenzhen
    body = explain(client, generator, request_)
    assert body["items"] == [] and excluded(body) == {org.id: "region_not_served"}
    assert "440306" in body["excluded"][0]["message"]


def test_regulators_of_the_region_and_staff_see_matches(client, request_, operator, regulator, admin):
    for user in (regulator, admin):
        body = explain(client, user, request_)
        assert [m["operator_id"] for m in body["items"]] == [operator.org_id]
    elsewhere = UserFactory(org=RegulatorOrgFactory(scope_prefix="4406", region_code="440600"))
    assert get(client, elsewhere, f"/requests/{request_.id}/matches").status_code == 404


def test_operators_do_not_see_the_competition(client, request_, operator):
    # The operator may see the request (it matches it), not who else does.
    assert get(client, operator, f"/requests/{request_.id}").status_code == 200
    resp = get(client, operator, f"/requests/{request_.id}/matches?explain=1")
    assert resp.status_code == 403 and error_of(resp)["code"] == "permission_denied"


def test_another_generator_gets_404(client, request_, other_generator):
    resp = get(client, other_generator, f"/requests/{request_.id}/matches?explain=1")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"


def test_bad_explain_value_is_422(client, generator, request_):
    resp = get(client, generator, f"/requests/{request_.id}/matches?explain=yes")
    assert resp.status_code == 422 and error_of(resp)["field"] == "explain"

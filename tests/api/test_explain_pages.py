"""?explain=1 at national scale: excluded operators nearest the pickup first, a page at a time,
every one exactly once across pages, optionally those of one rule."""
from __future__ import annotations

from market import db
from market.listings.explain_pages import excluded_page
from market.listings.queries import matches, request_facts
from tests.api.test_listings_requests import get, open_request, operator_user


def test_pages_nearest_first_each_once_and_by_rule(client, generator, operator):
    generator.org.latitude, generator.org.longitude = 22.55, 113.88   # 宝安, the pickup
    db.session.commit()
    req = open_request(generator)
    assert req.coordinates is not None
    far = []
    for i in range(7):  # wrong category, further and further away
        u = operator_user(category_code="HW17", method_codes=["R4"])
        u.org.latitude, u.org.longitude = 22.6 + i * 0.5, 114.0 + i * 0.5
        far.append(u.org)
    unlocated = operator_user(region="110105", category_code="HW17", method_codes=["R4"]).org
    db.session.commit()
    # The operator that qualifies is never listed as excluded.
    expected = [o.id for o in far] + [unlocated.id]
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/requests/{req.id}/matches?explain=1&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get(client, generator, url).get_json()
        assert [m["operator_id"] for m in body["items"]] == [operator.org_id]
        seen += [e["operator_id"] for e in body["excluded"]]
        pages += 1
        cursor = body["excluded_next"]
        if cursor is None:
            break
    assert seen == expected and pages == 3
    first = get(client, generator, f"/requests/{req.id}/matches?explain=1&limit=3").get_json()
    kms = [e["distance_km"] for e in first["excluded"]]
    assert kms == sorted(kms) and kms[0] < 30
    # The same exclusions as judging every operator at once.
    _q, every = matches(req, explain=True)
    assert sorted(seen) == sorted(e.operator_id for e in every)
    by_rule = get(client, generator,
                  f"/requests/{req.id}/matches?explain=1&rule=region_not_served").get_json()
    assert by_rule["excluded"] == [] and by_rule["excluded_next"] is None


def test_without_pickup_coordinates_same_province_first(generator, operator):
    req = open_request(generator, region_code="440305")
    near = operator_user(region="440304", category_code="HW17", method_codes=["R4"]).org
    away = operator_user(region="110105", category_code="HW17", method_codes=["R4"]).org
    facts = request_facts(req)
    if facts.coordinates is None:
        ids = [e.operator_id for e, _km in excluded_page(facts, limit=10).items]
        assert ids.index(near.id) < ids.index(away.id)

"""Matching through the real query: each rule excludes with its id, in few constant statements."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import event, update
from sqlalchemy import text as sql

from market import db
from market.accounts.models import LicenceItem
from market.listings import queries
from market.listings.explain import exclusion_message, reason_message
from market.listings.matching import RequestFacts
from market.listings.models import ServiceArea
from market.listings.services import create_request, set_service_areas
from market.listings.validation import today
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import StorefrontOfferFactory, request_data, reservation


def operator_org(region="441900", **kw):
    return OrganisationFactory(types=["operator"], region_code=region, **kw)


@pytest.fixture
def request_(generator):
    return create_request(generator, **request_data())


def explain(req):
    qualified, excluded = queries.matches(req, explain=True)
    return {m.operator_id for m in qualified}, {e.operator_id: e.rule for e in excluded}


def test_a_licensed_operator_nearby_matches(request_, operator):
    qualified, excluded = queries.matches(request_)
    assert [m.operator_id for m in qualified] == [operator.org_id] and excluded == []
    assert qualified[0].licence_item_id == operator.org.licences[0].items[0].id
    assert qualified[0].remaining_kg == 1_000_000


def test_org_not_verified(request_):
    org = operator_org(status="pending")
    LicenceItemFactory(licence__org=org)
    assert explain(request_)[1] == {org.id: "org_not_verified"}


def test_org_suspended(request_):
    org = operator_org(status="suspended")
    LicenceItemFactory(licence__org=org)
    assert explain(request_)[1] == {org.id: "org_suspended"}


def test_licence_expired(request_):
    org = operator_org()
    LicenceItemFactory(licence__org=org, licence__valid_from=date(2019, 1, 1),
                       licence__valid_to=today() - timedelta(days=1))
    assert explain(request_)[1] == {org.id: "licence_not_valid"}


def test_licence_pending_verification(request_):
    org = operator_org()
    LicenceItemFactory(licence__org=org, licence__status="pending")
    assert explain(request_)[1] == {org.id: "licence_not_valid"}


def test_operator_without_licence(request_):
    org = operator_org()
    assert explain(request_)[1] == {org.id: "licence_not_valid"}


def test_no_licence_for_the_category(request_):
    org = operator_org()
    LicenceItemFactory(licence__org=org, category_code="HW17", method_codes=["R4"])
    assert explain(request_)[1] == {org.id: "category_not_covered"}


def test_code_not_on_the_items_code_list(request_):
    org = operator_org()
    LicenceItemFactory(licence__org=org, codes=["900-249-08"])
    assert explain(request_)[1] == {org.id: "code_not_covered"}


def test_collection_only_licence(request_):
    org = operator_org()
    LicenceItemFactory(licence__org=org, licence__kind="collection", operations=["收集", "贮存"],
                       method_codes=[])
    assert explain(request_)[1] == {org.id: "operation_not_allowed"}


def test_collector_matches_a_small_lot(generator):
    org = operator_org()
    LicenceItemFactory(licence__org=org, licence__kind="collection", operations=["收集", "贮存"],
                       method_codes=[])
    small = create_request(generator, **request_data(quantity_kg=600))
    assert explain(small) == ({org.id}, {})


def test_capacity_exhausted_by_approval(request_):
    org = operator_org()
    LicenceItemFactory(licence__org=org, approved_kg_per_year=4_999)
    assert explain(request_)[1] == {org.id: "capacity_exhausted"}


def test_capacity_exhausted_by_active_reservations_of_the_year_only(request_):
    org = operator_org()
    item = LicenceItemFactory(licence__org=org, approved_kg_per_year=20_000)
    year = request_.window_start.year
    reservation(item, 9_000, year=year)
    reservation(item, 9_000, year=year - 1)         # another year: does not count
    reservation(item, 9_000, year=year, released=True)  # released: does not count
    qualified, _ = queries.matches(request_)
    assert [(m.operator_id, m.remaining_kg) for m in qualified] == [(org.id, 11_000)]
    reservation(item, 6_001, year=year)
    assert explain(request_)[1] == {org.id: "capacity_exhausted"}


def test_region_not_served(request_):
    beijing = operator_org(region="110101")
    LicenceItemFactory(licence__org=beijing)
    assert explain(request_)[1] == {beijing.id: "region_not_served"}
    user = UserFactory(org=beijing)
    set_service_areas(user, ["11", "4403"])
    assert explain(request_) == ({beijing.id}, {})


def test_nobody_lawful_means_no_candidates_and_explain_names_each_rule(request_):
    cases = [  # (organisation, licence item, the rule that excludes it)
        (dict(status="pending"), dict(), "org_not_verified"),
        (dict(), dict(category_code="HW12", method_codes=["D10"], operations=["处置"]),
         "category_not_covered"),
        (dict(), dict(licence__valid_from=date(2020, 1, 1),
                      licence__valid_to=request_.window_start - timedelta(days=1)), "licence_not_valid"),
        (dict(), dict(approved_kg_per_year=10), "capacity_exhausted"),
        (dict(region="110101"), dict(), "region_not_served"),
    ]
    rules = {}
    for org_kw, item_kw, rule in cases:
        org = operator_org(**org_kw)
        LicenceItemFactory(licence__org=org, **item_kw)
        rules[org.id] = rule
    qualified, excluded = queries.matches(request_)
    assert qualified == [] and excluded == []          # without explain, only the ranking
    assert explain(request_) == (set(), rules)
    for e in queries.matches(request_, explain=True)[1]:
        assert exclusion_message(e) and exclusion_message(e) != e.rule


def test_reasons_read_as_sentences(request_, operator):
    (m,) = queries.matches(request_)[0]
    sentences = [reason_message(r) for r in m.reasons]
    assert len(sentences) == 7 and all(s and "_" not in s for s in sentences)


def test_storefront_price_and_distance_feed_the_score(generator):
    generator.org.latitude, generator.org.longitude = 22.67, 113.81
    near = operator_org(latitude=22.70, longitude=113.85)
    far = operator_org(latitude=23.07, longitude=114.30)
    for org in (near, far):
        LicenceItemFactory(licence__org=org)
    StorefrontOfferFactory(operator=far, unit_price_fen_per_t=100_000)
    StorefrontOfferFactory(operator=near, unit_price_fen_per_t=300_000)
    StorefrontOfferFactory(operator=near, unit_price_fen_per_t=90_000, service_region_prefixes=["11"])
    req = create_request(generator, **request_data())
    qualified, _ = queries.matches(req)
    by_id = {m.operator_id: m for m in qualified}
    assert by_id[far.id].storefront_total_fen == 500_000      # ¥1,000/t × 5 t
    assert by_id[near.id].storefront_total_fen == 1_500_000   # the Beijing-only offer is ignored
    assert by_id[near.id].distance_km < 10 < by_id[far.id].distance_km


def count_statements(fn):
    db.session.flush()
    seen = []

    def before(conn, cursor, statement, params, context, executemany):
        seen.append(statement)
    event.listen(db.engine(), "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(db.engine(), "before_cursor_execute", before)
    # SAVEPOINT statements belong to the test's rollback isolation, not to the query.
    return len([s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))])


def test_candidate_facts_take_few_statements_whatever_the_number_of_operators(request_, operator):
    facts = queries.request_facts(request_)
    few = count_statements(lambda: queries.candidate_facts(facts))
    few_explained = count_statements(lambda: queries.candidate_facts(facts, explain=True))
    for i in range(15):
        org = operator_org()
        item = LicenceItemFactory(licence__org=org)
        StorefrontOfferFactory(operator=org)
        reservation(item, 100)
    db.session.flush()
    many = count_statements(lambda: queries.candidate_facts(facts))
    many_explained = count_statements(lambda: queries.candidate_facts(facts, explain=True))
    # qualifying items with their best offers and track records (reviews and on-time manifests;
    # blacklists in force left out in SQL); explaining: every item with its blacklist flag and
    # best offer, then track records
    assert few == many == 1
    assert few_explained == many_explained == 2
    # a page of explanations needs neither prices nor track records: one statement
    ids = [c.operator_id for c in queries.candidate_facts(facts, explain=True)]
    assert count_statements(lambda: queries.candidate_facts(
        facts, operator_ids=ids, exclusions_only=True)) == 1
    assert ({c.operator_id: c.items for c in queries.candidate_facts(
                facts, operator_ids=ids, exclusions_only=True)}
            == {c.operator_id: c.items for c in queries.candidate_facts(facts, operator_ids=ids)})
    assert len(queries.candidate_facts(facts)) == 16


def test_open_requests_for_operator(generator, operator):
    other = operator_org()
    LicenceItemFactory(licence__org=other, category_code="HW17", method_codes=["R4"])
    req = create_request(generator, **request_data())
    draft = create_request(generator, publish=False, **request_data())
    assert [r.id for r, _m in queries.open_requests_for_operator(operator.org_id)] == [req.id]
    assert queries.open_requests_for_operator(other.id) == []
    assert draft.id not in [r.id for r, _m in queries.open_requests_for_operator(operator.org_id)]


def test_ranking_query_agrees_with_the_pure_rules_on_a_varied_market(generator):
    """The ranking path filters in SQL; the explain path filters nothing. Same outcome, always."""
    rng = random.Random(20260601)
    regions = ["440306", "440305", "440605", "441900", "441302", "110101", "320102"]
    for n in range(40):
        org = operator_org(region=rng.choice(regions),
                           status=rng.choice(["verified"] * 6 + ["pending", "suspended"]),
                           latitude=rng.choice([None, 22.5 + rng.random()]), longitude=113.5)
        if org.latitude is None:
            org.longitude = None
        for _ in range(rng.randint(0, 3)):
            item = LicenceItemFactory(
                licence__org=org, licence__status=rng.choice(["verified"] * 5 + ["pending"]),
                licence__valid_from=date(2020, 1, 1),
                licence__valid_to=rng.choice([today() + timedelta(days=400), today() + timedelta(days=10),
                                              today() - timedelta(days=1)]),
                category_code=rng.choice(["HW08", "HW08", "HW17"]),
                codes=rng.choice([[], [], ["900-249-08"], ["900-214-08", "900-249-08"]]),
                operations=rng.choice([["收集", "贮存", "利用"], ["处置"], ["收集", "贮存"], ["贮存"]]),
                method_codes=["R9"], approved_kg_per_year=rng.choice([2_000, 8_000, 1_000_000]))
            if rng.random() < 0.4:
                reservation(item, rng.choice([1_000, 5_000]), year=today().year + (rng.random() < 0.2))
        if rng.random() < 0.5:
            for prefix in rng.sample(["44", "4403", "440605", "11", "4419"], rng.randint(1, 2)):
                db.session.add(ServiceArea(org_id=org.id, region_prefix=prefix))
        if rng.random() < 0.3:
            StorefrontOfferFactory(operator=org, unit_price_fen_per_t=rng.randint(-100_000, 400_000))
    db.session.flush()
    checked = 0
    for _ in range(25):
        facts = RequestFacts(category=rng.choice(["HW08", "HW17"]),
                             code=rng.choice([None, "900-214-08", "900-249-08"]),
                             quantity_kg=rng.choice([500, 1_000, 3_000, 7_000]),
                             region_code=rng.choice(regions),
                             wanted_on=today() + timedelta(days=rng.choice([1, 30])),
                             coordinates=rng.choice([None, (22.6, 113.9)]))
        facts = replace(facts, small_lot=facts.quantity_kg <= 1_000)
        if facts.category == "HW17" and facts.code:
            continue
        ranked, _ = queries.matches(facts)
        explained, _excluded = queries.matches(facts, explain=True)
        assert [(m.operator_id, m.licence_item_id, m.score) for m in ranked] == \
            [(m.operator_id, m.licence_item_id, m.score) for m in explained], facts
        checked += bool(ranked)
    assert checked >= 5  # the market is varied enough that many requests do match


def test_a_match_prices_the_operators_cheapest_offer_that_serves_the_request(request_):
    """5,000 kg from 440306 of 900-214-08: total = unit price × 5 t + transport fee."""
    org = operator_org()
    LicenceItemFactory(licence__org=org)

    def offer(price, fee=0, **kw):
        StorefrontOfferFactory(operator=org, unit_price_fen_per_t=price, transport_fee_fen=fee, **kw)

    offer(100_000, 600_000)                                      # 1,100,000: the transport dearer
    offer(140_000, 50_000, waste_code="900-214-08")              # 750,000: for the request's code
    offer(120_000, 100_000, service_region_prefixes=["440306"])  # 700,000: the cheapest that serves
    # cheaper still, but none of these serves this request
    offer(10_000, service_region_prefixes=["4401"])              # another city
    offer(10_000, waste_code="900-249-08")                       # another code
    offer(10_000, active=False)
    offer(10_000, min_kg=10_000)                                 # not for a lot this small
    for explain_ in (False, True):
        [m] = [m for m in queries.matches(request_, explain=explain_)[0] if m.operator_id == org.id]
        assert m.storefront_total_fen == 700_000


_COPIES_ASTRAY = sql("""
    SELECT count(*) FROM licence_item i JOIN licence l ON l.id = i.licence_id
    WHERE (i.licence_org_id, i.licence_status, i.licence_valid_from, i.licence_valid_to,
           i.licence_number) IS DISTINCT FROM (l.org_id, l.status, l.valid_from, l.valid_to, l.number)""")


def test_a_change_to_a_licence_reaches_its_items_and_matching_at_once(request_):
    """Ranking reads the licence's holder and terms from copies on its items (migration 0025)."""
    org, other = operator_org(), operator_org()
    item = LicenceItemFactory(licence__org=org)
    licence = item.licence

    def ranked() -> list[int]:
        db.session.flush()
        assert db.session.scalar(_COPIES_ASTRAY) == 0
        ranking = [m.operator_id for m in queries.matches(request_)[0]]
        assert ranking == [m.operator_id for m in queries.matches(request_, explain=True)[0]]
        return ranking

    assert ranked() == [org.id]
    licence.status = "rejected"
    assert ranked() == []
    licence.status, licence.valid_to = "verified", today()  # expires before the wanted date
    assert ranked() == []
    licence.valid_to = today() + timedelta(days=365)
    licence.number = "粤危废换证00001"
    assert ranked() == [org.id]
    [m] = queries.matches(request_)[0]
    assert m.reasons[1].params["licence"] == "粤危废换证00001"
    licence.org_id = other.id  # the licence recorded against the wrong holder, corrected
    assert ranked() == [other.id]
    LicenceItemFactory(licence=licence, category_code="HW17")  # a new item copies its licence
    assert ranked() == [other.id]
    # the copies follow the licence whatever is written to them
    db.session.execute(update(LicenceItem).where(LicenceItem.id == item.id)
                       .values(licence_org_id=org.id, licence_status="pending"))
    assert ranked() == [other.id]

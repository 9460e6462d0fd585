"""The pure matcher: one test per rule, the first-failing-rule report, and the documented score."""
from __future__ import annotations

from datetime import date

import pytest

from market.listings import matching as m
from market.listings.matching import CandidateFacts, ItemFacts, RequestFacts

WANTED = date(2026, 6, 1)
SHENZHEN = (22.6734, 113.8170)


def req(**kw) -> RequestFacts:
    base = dict(category="HW08", code=None, quantity_kg=5_000, region_code="440306",
                wanted_on=WANTED, small_lot=False, coordinates=None, method_group=None)
    return RequestFacts(**(base | kw))


def item(item_id: int = 1, **kw) -> ItemFacts:
    base = dict(item_id=item_id, licence_id=10, licence_number="粤危废-1", licence_status="verified",
                valid_from=date(2025, 1, 1), valid_to=date(2027, 12, 31), category="HW08", codes=(),
                operations=("收集", "贮存", "利用"), methods=("R9",), approved_kg=1_000_000,
                reserved_kg=0, received_kg=0)
    return ItemFacts(**(base | kw))


def cand(operator_id: int = 1, **kw) -> CandidateFacts:
    base = dict(operator_id=operator_id, name=f"op{operator_id}", verified=True, suspended=False,
                coordinates=None, items=(item(),), service_prefixes=("44",))
    return CandidateFacts(**(base | kw))


def only_rule(r: RequestFacts, c: CandidateFacts) -> str | None:
    qualified, excluded = m.match(r, [c])
    if qualified:
        assert not excluded
        return None
    assert len(excluded) == 1 and excluded[0].operator_id == c.operator_id
    return excluded[0].rule


# --- qualifying ----------------------------------------------------------------------------------

def test_a_qualified_candidate_carries_a_reason_for_every_rule():
    qualified, excluded = m.match(req(code="900-214-08"), [cand()])
    assert excluded == []
    (hit,) = qualified
    assert hit.licence_item_id == 1 and hit.remaining_kg == 1_000_000
    assert [r.rule for r in hit.reasons] == ["org_verified", "licence_valid", "category_covered",
                                            "code_covered", "operation_allowed",
                                            "capacity_available", "region_served"]
    params = {r.rule: r.params for r in hit.reasons}
    assert params["operation_allowed"] == {"operations": ["利用"]}
    assert params["region_served"] == {"prefix": "44"}
    assert params["licence_valid"]["licence"] == "粤危废-1"


# --- rule 1: organisation ------------------------------------------------------------------------

def test_org_not_verified():
    assert only_rule(req(), cand(verified=False)) == "org_not_verified"


def test_org_suspended_is_reported_before_anything_else():
    expired = item(valid_to=date(2025, 12, 31))
    assert only_rule(req(), cand(verified=False, suspended=True, items=(expired,))) == "org_suspended"


# --- rule 2: licence validity --------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    dict(valid_to=date(2026, 5, 31)),            # expired the day before the wanted date
    dict(valid_from=date(2026, 6, 2)),           # not yet valid
    dict(licence_status="pending"),              # not verified by the platform
    dict(licence_status="rejected"),
])
def test_licence_not_valid_on_the_wanted_date(change):
    assert only_rule(req(), cand(items=(item(**change),))) == "licence_not_valid"


def test_licence_valid_on_its_first_and_last_day():
    assert only_rule(req(), cand(items=(item(valid_from=WANTED),))) is None
    assert only_rule(req(), cand(items=(item(valid_to=WANTED),))) is None


def test_operator_without_any_licence_fails_the_licence_rule():
    assert only_rule(req(), cand(items=())) == "licence_not_valid"


# --- rules 3 and 4: category and code ------------------------------------------------------------

def test_category_not_covered():
    assert only_rule(req(category="HW17"), cand()) == "category_not_covered"


def test_code_not_covered_when_the_item_lists_other_codes():
    listed = item(codes=("900-249-08",))
    assert only_rule(req(code="900-214-08"), cand(items=(listed,))) == "code_not_covered"


def test_code_listed_on_the_item_is_covered():
    listed = item(codes=("900-249-08", "900-214-08"))
    qualified, _ = m.match(req(code="900-214-08"), [cand(items=(listed,))])
    assert {r.rule: r.params for r in qualified[0].reasons}["code_covered"] == \
        {"code": "900-214-08", "listed": True}


def test_item_without_code_list_covers_every_code_of_its_category():
    assert only_rule(req(code="900-214-08"), cand(items=(item(codes=()),))) is None


def test_request_without_code_matches_a_code_list_item_at_category_level():
    assert only_rule(req(code=None), cand(items=(item(codes=("900-249-08",)),))) is None


# --- rule 5: operations --------------------------------------------------------------------------

def test_operation_not_allowed_for_collection_only_item():
    collector = item(operations=("收集", "贮存"))
    assert only_rule(req(), cand(items=(collector,))) == "operation_not_allowed"


def test_small_lot_lets_a_collector_match():
    collector = item(operations=("收集", "贮存"))
    qualified, _ = m.match(req(quantity_kg=800, small_lot=True), [cand(items=(collector,))])
    assert {r.rule: r.params for r in qualified[0].reasons}["operation_allowed"] == \
        {"operations": ["收集"]}


def test_storage_alone_never_qualifies_even_for_small_lots():
    store = item(operations=("贮存",))
    assert only_rule(req(quantity_kg=800, small_lot=True), cand(items=(store,))) == \
        "operation_not_allowed"


def test_disposal_operation_qualifies():
    assert only_rule(req(), cand(items=(item(operations=("处置",)),))) is None


# --- rule 6: capacity ----------------------------------------------------------------------------

def test_capacity_exhausted_counts_reservations_and_receipts():
    tight = item(approved_kg=10_000, reserved_kg=4_000, received_kg=1_001)
    _, excluded = m.match(req(quantity_kg=5_000), [cand(items=(tight,))])
    assert excluded[0].rule == "capacity_exhausted"
    assert excluded[0].params == {"quantity_kg": 5_000, "remaining_kg": 4_999}


def test_capacity_exactly_equal_to_the_quantity_is_enough():
    exact = item(approved_kg=10_000, reserved_kg=5_000)
    assert only_rule(req(quantity_kg=5_000), cand(items=(exact,))) is None


# --- rule 7: region ------------------------------------------------------------------------------

def test_region_not_served():
    assert only_rule(req(region_code="440306"), cand(service_prefixes=("4419", "4413"))) == \
        "region_not_served"


def test_region_served_by_prefix_reports_the_most_specific_prefix():
    qualified, _ = m.match(req(region_code="440306"), [cand(service_prefixes=("44", "4403"))])
    assert {r.rule: r.params for r in qualified[0].reasons}["region_served"] == {"prefix": "4403"}


def test_no_service_region_serves_nowhere():
    assert only_rule(req(), cand(service_prefixes=())) == "region_not_served"


# --- first failing rule across items -------------------------------------------------------------

def test_excluded_with_the_rule_where_its_furthest_item_failed():
    expired_right_category = item(1, valid_to=date(2025, 1, 2))
    valid_wrong_category = item(2, category="HW17")
    collector_right_category = item(3, operations=("收集",))
    c = cand(items=(expired_right_category, valid_wrong_category))
    assert only_rule(req(), c) == "category_not_covered"
    c = cand(items=(expired_right_category, valid_wrong_category, collector_right_category))
    assert only_rule(req(), c) == "operation_not_allowed"


def test_item_rules_come_before_the_region_rule():
    c = cand(items=(item(approved_kg=100),), service_prefixes=("11",))
    assert only_rule(req(), c) == "capacity_exhausted"


def test_best_item_prefers_the_method_group_then_the_most_capacity():
    small_r = item(1, methods=("R9",), approved_kg=20_000)
    big_d = item(2, methods=("D10",), approved_kg=900_000, operations=("处置",))
    big_r = item(3, methods=("R9",), approved_kg=500_000)
    c = cand(items=(small_r, big_d, big_r))
    assert m.match(req(), [c])[0][0].licence_item_id == 2
    assert m.match(req(method_group="R"), [c])[0][0].licence_item_id == 3
    reasons = [r.rule for r in m.match(req(method_group="R"), [c])[0][0].reasons]
    assert reasons[-1] == "method_group_offered"


def test_excluded_list_is_sorted_and_qualified_are_not_in_it():
    cands = [cand(3, verified=False), cand(1), cand(2, items=())]
    qualified, excluded = m.match(req(), cands)
    assert [q.operator_id for q in qualified] == [1]
    assert [(e.operator_id, e.rule) for e in excluded] == [(2, "licence_not_valid"),
                                                           (3, "org_not_verified")]


# --- score ---------------------------------------------------------------------------------------

def test_weights_sum_to_one_and_a_perfect_candidate_scores_100():
    assert m.W_DISTANCE + m.W_PRICE + m.W_ON_TIME + m.W_CREDIT == pytest.approx(1.0)
    assert m.combine(1, 1, 1, 1) == 100.0
    assert m.combine(m.NEUTRAL, m.NEUTRAL, m.NEUTRAL, m.NEUTRAL) == 50.0


def test_haversine_one_degree_of_longitude_at_the_equator():
    assert m.haversine_km((0, 0), (0, 1)) == pytest.approx(111.195, abs=0.01)
    assert m.haversine_km(SHENZHEN, SHENZHEN) == 0


def test_distance_component_halves_at_100_km():
    assert m.distance_component(0) == 1.0
    assert m.distance_component(100) == pytest.approx(0.5)
    assert m.distance_component(300) == pytest.approx(0.25)


def test_unknown_distance_is_neutral_not_zero_km():
    assert m.distance_component(None) == m.NEUTRAL == 0.5
    assert m.distance_component(None) < m.distance_component(0)
    near = cand(1, coordinates=(22.70, 113.80))             # ~3 km away
    unknown = cand(2, coordinates=None)
    far = cand(3, coordinates=(25.0, 117.0))                 # ~400 km away
    qualified, _ = m.match(req(coordinates=SHENZHEN), [far, unknown, near])
    assert [q.operator_id for q in qualified] == [1, 2, 3]
    by_id = {q.operator_id: q for q in qualified}
    assert by_id[2].distance_km is None and by_id[2].components["distance"] == 0.5
    assert by_id[1].distance_km == pytest.approx(3.3, abs=0.5)


def test_unknown_pickup_point_makes_every_distance_neutral():
    qualified, _ = m.match(req(coordinates=None), [cand(1, coordinates=SHENZHEN)])
    assert qualified[0].components["distance"] == m.NEUTRAL


def test_price_is_judged_against_the_best_candidate_total():
    cheap = cand(1, storefront_price_fen_per_t=200_000)               # ¥1,000 for 5 t
    double = cand(2, storefront_price_fen_per_t=400_000)              # ¥2,000 for 5 t
    no_offer = cand(3)
    qualified, _ = m.match(req(), [no_offer, double, cheap])
    by_id = {q.operator_id: q for q in qualified}
    assert by_id[1].storefront_total_fen == 1_000_000 and by_id[1].components["price"] == 1.0
    assert by_id[2].components["price"] == pytest.approx(0.5)
    assert by_id[3].components["price"] == m.NEUTRAL and by_id[3].storefront_total_fen is None
    triple = cand(4, storefront_price_fen_per_t=600_000)
    qualified, _ = m.match(req(), [no_offer, triple, cheap])
    assert [q.operator_id for q in qualified] == [1, 3, 4]  # no offer (neutral) beats 3× the best


def test_transport_fee_counts_in_the_price_total():
    with_fee = cand(1, storefront_price_fen_per_t=200_000, storefront_transport_fen=50_000)
    assert m.storefront_total_fen(req(), with_fee) == 1_050_000


def test_negative_prices_rank_the_operator_that_pays_most_first():
    pays = cand(1, storefront_price_fen_per_t=-300_000)               # operator pays ¥1,500
    charges = cand(2, storefront_price_fen_per_t=100_000)
    qualified, _ = m.match(req(), [charges, pays])
    assert [q.operator_id for q in qualified] == [1, 2]
    assert qualified[0].components["price"] == 1.0
    # gap ¥2,000 against the scale max(|−¥1,500|, ¥1,000) = ¥1,500
    assert qualified[1].components["price"] == pytest.approx(1 / (1 + 2_000_00 / 1_500_00))


def test_price_scale_has_a_floor_near_zero_best():
    assert m.price_component(100_000, 0) == pytest.approx(0.5)


def test_on_time_record_and_credit_raise_the_score():
    good = cand(1, on_time_rate=1.0, credit_score=100)
    unknown = cand(2)
    poor = cand(3, on_time_rate=0.2, credit_score=40)
    qualified, _ = m.match(req(), [poor, unknown, good])
    assert [q.operator_id for q in qualified] == [1, 2, 3]
    assert qualified[1].components["on_time"] == m.NEUTRAL
    assert qualified[0].score == m.combine(m.NEUTRAL, m.NEUTRAL, 1.0, 1.0)


def test_ties_broken_by_remaining_capacity_then_operator_id():
    a = cand(5, items=(item(approved_kg=50_000),))
    b = cand(4, items=(item(approved_kg=90_000),))
    c = cand(3, items=(item(approved_kg=50_000),))
    assert [q.operator_id for q in m.match(req(), [a, b, c])[0]] == [4, 3, 5]


def test_method_groups():
    assert [m.method_group_of(c) for c in ("R9", "R15", "D10", "D1", "D9", "C1", "D16", "C2")] == \
        ["R", "R", "D10", "D1", "D9", "C1", "other", "other"]


def test_item_problem_names_the_first_failing_item_rule():
    assert m.item_problem(req(), item()) is None
    assert m.item_problem(req(), item(category="HW09", approved_kg=1)) == "category_not_covered"
    assert m.item_problem(req(), item()._replace(reserved_kg=999_999)) == "capacity_exhausted"


def test_module_is_pure():
    import ast
    tree = ast.parse(open(m.__file__, encoding="utf-8").read())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "math", "dataclasses", "datetime", "typing", "market.money"}

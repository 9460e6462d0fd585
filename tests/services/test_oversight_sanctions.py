"""Sanctions and credit: a blacklisted operator drops out of matching with the rule shown in
explain, a blacklisted generator cannot post, and the credit score's components."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market import db
from market.errors import NotFound, PermissionDenied
from market.listings.explain import rule_message
from market.listings.models import DisposalRequest
from market.listings.queries import matches
from market.listings.services import create_request, publish_request
from market.oversight import credit
from market.oversight.credit import CreditFacts, score_of
from market.oversight.models import CreditScore
from market.oversight.services import impose_sanction, recompute_credit
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.fixtures import login
from tests.listing_factories import request_data
from tests.settlement_factories import add_manifest, open_discrepancy
from tests.escrow_factories import make_order

TODAY = date.today()


def blacklist(regulator, org, days: int = 30, start: date = TODAY):
    return impose_sanction(regulator, org.id, "blacklist", "非法转移", start.isoformat(),
                           (start + timedelta(days=days)).isoformat())


def test_a_blacklisted_operator_drops_out_of_matching_with_the_rule_in_explain(generator, regulator):
    op = OrganisationFactory(types=["operator"], region_code="440307")
    LicenceItemFactory(licence__org=op)
    req = create_request(generator, **request_data())
    assert [m.operator_id for m in matches(req)[0]] == [op.id]
    blacklist(regulator, op)
    assert matches(req)[0] == []  # the ranking statement leaves it out in SQL
    qualified, excluded = matches(req, explain=True)
    assert qualified == []
    assert [(e.operator_id, e.rule) for e in excluded] == [(op.id, "org_blacklisted")]
    assert rule_message("org_blacklisted") in ("A regulator has blacklisted the operator's organisation.",
                                               "该经营单位已被监管部门列入黑名单。")


def test_a_blacklist_that_has_not_started_does_not_bar_today(generator, regulator):
    op = OrganisationFactory(types=["operator"], region_code="440307")
    LicenceItemFactory(licence__org=op)
    blacklist(regulator, op, start=TODAY + timedelta(days=200))
    req = create_request(generator, **request_data())
    assert [m.operator_id for m in matches(req)[0]] == [op.id]


def test_a_blacklisted_generator_cannot_post(generator, regulator):
    draft = create_request(generator, publish=False, **request_data())
    blacklist(regulator, generator.org)
    before = db.session.scalar(select(func.count()).select_from(DisposalRequest))
    with pytest.raises(PermissionDenied) as exc:
        create_request(generator, **request_data())
    assert exc.value.code == "org_blacklisted"
    with pytest.raises(PermissionDenied):
        publish_request(generator, draft.id)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(DisposalRequest)) == before
    assert db.session.get(DisposalRequest, draft.id).status == "draft"


def test_a_regulator_sanctions_only_its_own_region(regulator):
    foshan = OrganisationFactory(types=["generator"], region_code="440605")
    with pytest.raises(NotFound):
        blacklist(regulator, foshan)
    with pytest.raises(PermissionDenied):
        impose_sanction(UserFactory(org=foshan), foshan.id, "blacklist", "x",
                        TODAY.isoformat(), TODAY.isoformat())


@pytest.mark.parametrize("facts, score, lost", [
    (CreditFacts(), 100, {}),
    (CreditFacts(shipped=4, late_pickups=1), 95, {"late_pickups": 5}),
    (CreditFacts(discrepancies=7), 85, {"discrepancies": 15}),           # capped at 15
    (CreditFacts(disputes_lost=2, late_payments=1), 86, {"disputes_lost": 10, "late_payments": 4}),
    (CreditFacts(sanctions_in_force=1, sanctions_ended=1), 40, {"sanctions": 60}),
    (CreditFacts(sanctions_in_force=3), 0, {"sanctions": 150}),          # floored at 0
])
def test_credit_components(facts, score, lost):
    got, components = score_of(facts)
    assert got == score
    assert {k: v for k, v in components.items() if v} == lost
    assert set(components) == set(credit.COMPONENTS)


def test_credit_reads_platform_behaviour_and_is_stored_with_its_components(regulator):
    gen = OrganisationFactory(types=["generator"], region_code="440306")
    order = make_order(gen, status="in_transfer")
    late = add_manifest(order, 1_000, 900)
    late.shipped_at = late.planned_pickup_at + timedelta(days=3)
    add_manifest(order, 1_000, 1_000)
    open_discrepancy(late)
    db.session.commit()
    row = recompute_credit(gen.id)
    assert row.components["facts"]["shipped"] == 2
    assert row.components["lost"] == {"late_pickups": 10, "discrepancies": 3, "disputes_lost": 0,
                                      "late_payments": 0, "sanctions": 0}
    assert row.score == 87 and db.session.get(CreditScore, gen.id).score == 87
    blacklist(regulator, gen)
    db.session.expire_all()
    assert gen.credit_score == 37


def test_the_shop_shows_the_credit_score_and_a_blacklist_in_force(client, generator, regulator):
    op = OrganisationFactory(types=["operator"], region_code="440307")
    LicenceItemFactory(licence__org=op)
    blacklist(regulator, op)
    login(client, generator)
    page = client.get(f"/shops/{op.id}").get_data(as_text=True)
    assert 'data-testid="shop-blacklisted"' in page
    assert 'data-testid="credit-score"' in page and ">50<" in page

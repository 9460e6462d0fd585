"""Pure escrow rules: fee split, who pays, references with check digits, release and split plans."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.escrow.policies import (SplitError, fee_bps_for, funding_plan, line_terms,
                                    make_reference, normalise_reference, plan_release, plan_split,
                                    reference_status)
from market.money import fee_fen, fee_increment, split_fee

GEN, OP, LAB = 1, 2, 3


def disposal(amount, bps=100, line_id=10):
    return line_terms(line_id=line_id, kind="disposal", amount_fen=amount, payee_org_id=OP,
                      generator_id=GEN, operator_id=OP, fee_bps=bps)


@given(st.integers(0, 10**13), st.integers(0, 10_000))
def test_split_fee_adds_up_exactly(amount, bps):
    payee, fee = split_fee(amount, bps)
    assert payee + fee == amount and fee == fee_fen(amount, bps) and 0 <= fee <= amount


@pytest.mark.parametrize("amount, bps, expected", [(150, 100, (148, 2)),   # 1.5 → 2 (even)
                                                   (250, 100, (248, 2)),   # 2.5 → 2 (even)
                                                   (350, 100, (346, 4)),   # 3.5 → 4
                                                   (0, 100, (0, 0))])
def test_split_fee_rounds_half_even(amount, bps, expected):
    assert split_fee(amount, bps) == expected


@pytest.mark.parametrize("bad", [(1.5, 100), (100, 1.0), (-1, 100), (100, 10_001), (True, 1)])
def test_split_fee_refuses_non_integers_and_out_of_range(bad):
    with pytest.raises((TypeError, ValueError)):
        split_fee(*bad)


@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=8), st.integers(0, 10_000))
def test_partial_fees_add_up_to_the_fee_of_the_whole(parts, bps):
    done, fees = 0, 0
    for part in parts:
        fees += fee_increment(done, done + part, bps)
        done += part
    assert fees == fee_fen(done, bps)


def test_positive_line_generator_pays_operator_is_paid_fee_inside():
    t = disposal(300_000)
    assert (t.payer_org_id, t.payee_org_id, t.value_fen, t.fee_fen, t.funded_fen) == \
        (GEN, OP, 300_000, 3_000, 300_000)


def test_negative_line_operator_pays_generator_is_paid_fee_on_top():
    t = disposal(-300_000)
    assert (t.payer_org_id, t.payee_org_id, t.value_fen, t.fee_fen, t.funded_fen) == \
        (OP, GEN, 300_000, 3_000, 303_000)


def test_only_the_disposal_line_carries_the_fee_and_plans_group_by_payer():
    lines = [disposal(-100_000), line_terms(line_id=11, kind="transport", amount_fen=20_000,
                                            payee_org_id=OP, generator_id=GEN, operator_id=OP,
                                            fee_bps=100),
             line_terms(line_id=12, kind="sampling", amount_fen=5_000, payee_org_id=LAB,
                        generator_id=GEN, operator_id=OP, fee_bps=100)]
    assert [t.fee_fen for t in lines] == [1_000, 0, 0]
    assert funding_plan(lines) == {OP: 101_000, GEN: 25_000}
    assert funding_plan([disposal(0)]) == {}


def test_fee_rate_per_category_override():
    assert fee_bps_for("HW08", 100, {"HW49": 150}) == 100
    assert fee_bps_for("HW49", 100, {"HW49": 150}) == 150


def test_release_plans_and_refusals():
    pos, neg = disposal(10_000), disposal(-10_000)
    r = plan_release(pos, 0, 4_000)
    assert (r.out_fen, r.fee_fen, r.payee_fen) == (4_000, 40, 3_960)
    r = plan_release(neg, 0, 4_000)
    assert (r.out_fen, r.fee_fen, r.payee_fen) == (4_040, 40, 4_000)
    for bad in (0, -5, 1.5, "10", 6_001):
        with pytest.raises(ValueError):
            plan_release(pos, 4_000, bad)


def test_references_carry_check_digits_that_catch_typos():
    ref = make_reference("HX2026000123")
    assert ref.startswith("HX2026000123") and len(ref) == 14
    assert make_reference("HX2026000123", operator_pays=True).startswith("HX2026000123O")
    assert reference_status(ref) == "ok"
    assert reference_status(" " + ref.lower()[:6] + "-" + ref[6:] + " ") == "ok"
    assert normalise_reference("hx 2026-000123") == "HX2026000123"
    # every single-character substitution and every adjacent swap is caught
    for i, ch in enumerate(ref):
        for other in "0123456789":
            if other != ch and i >= 2:
                assert reference_status(ref[:i] + other + ref[i + 1:]) == "bad_check"
        if i + 1 < len(ref) and ref[i] != ref[i + 1] and i >= 2:
            swapped = ref[:i] + ref[i + 1] + ref[i] + ref[i + 2:]
            assert reference_status(swapped) == "bad_check"
    assert reference_status("货款 张三") == "foreign"
    assert reference_status("INV-2026-7") == "foreign"


def test_split_plans_releases_then_refunds_and_always_empties_escrow():
    terms = [disposal(10_000)]
    releases, refunds = plan_split(terms, {}, {GEN: 10_000}, {OP: 6_000, GEN: 4_000})
    assert [(r.payee_org_id, r.out_fen, r.fee_fen) for r in releases] == [(OP, 6_000, 60)]
    assert refunds == {GEN: 4_000}


def test_split_on_a_negative_line_takes_the_fee_from_the_operator_share():
    terms = [disposal(-10_000)]  # operator paid 10 100
    releases, refunds = plan_split(terms, {}, {OP: 10_100}, {GEN: 10_000, OP: 100})
    assert [(r.payee_org_id, r.out_fen, r.fee_fen, r.payee_fen) for r in releases] == \
        [(GEN, 10_100, 100, 10_000)]
    assert refunds == {}
    with pytest.raises(SplitError):  # the operator's share cannot cover the fee
        plan_split(terms, {}, {OP: 10_100}, {GEN: 10_100, OP: 0})


@pytest.mark.parametrize("awards", [{OP: 6_000, GEN: 3_999},   # does not add up
                                    {OP: 10_001, GEN: -1},      # negative hidden in the sum
                                    {OP: 0, GEN: 0},
                                    {LAB: 10_000}])             # not owed anything, paid nothing
def test_splits_that_cannot_be_posted_are_refused(awards):
    with pytest.raises(SplitError):
        plan_split([disposal(10_000)], {}, {GEN: 10_000}, awards)


def test_a_split_pays_each_line_only_from_its_own_payers_money():
    # Found by the property test: the generator (payer of transport) had 381 fen refunded, so the
    # transport line can take only what the generator still holds, never the operator's money.
    terms = [disposal(-400_000), line_terms(line_id=11, kind="transport", amount_fen=30_000,
                                            payee_org_id=OP, generator_id=GEN, operator_id=OP,
                                            fee_bps=100)]
    held = {OP: 404_000, GEN: 29_619}
    total = sum(held.values())
    releases, refunds = plan_split(terms, {}, held, {OP: total * 77 // 100,
                                                     GEN: total - total * 77 // 100})
    out_by_payer = {OP: 0, GEN: 0}
    for r in releases:
        out_by_payer[OP if r.line_id == 10 else GEN] += r.out_fen
    assert out_by_payer[GEN] <= 29_619
    for org in (OP, GEN):
        assert out_by_payer[org] + refunds.get(org, 0) == held[org]

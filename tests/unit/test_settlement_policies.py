"""Pure settlement plans: accepted kg × unit price with rounding, the exact fee split, top-ups,
negative prices, retention; and a property test over random weights, prices and manifest splits
that escrow ends at zero and released + refunded + fees = funded."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.escrow.policies import funding_plan, line_terms
from market.money import line_amount_fen
from market.settlement.policies import (amount_matches, plan_retention, plan_settlement,
                                        settled_amount_fen, settled_terms)

GEN, OP, CARRIER, LAB = 1, 2, 3, 4


def contract(price, kg, *, transport=0, sampling=0, bps=100):
    lines = [line_terms(line_id=10, kind="disposal", amount_fen=line_amount_fen(price, kg),
                        payee_org_id=OP, generator_id=GEN, operator_id=OP, fee_bps=bps)]
    if transport:
        lines.append(line_terms(line_id=11, kind="transport", amount_fen=transport,
                                payee_org_id=CARRIER, generator_id=GEN, operator_id=OP, fee_bps=bps))
    if sampling:
        lines.append(line_terms(line_id=12, kind="sampling", amount_fen=sampling,
                                payee_org_id=LAB, generator_id=GEN, operator_id=OP, fee_bps=bps))
    return lines


def at_accepted(lines, price, accepted_kg):
    out = []
    for t in lines:
        agreed = t.value_fen
        amount = settled_amount_fen(t.kind, agreed, price, accepted_kg)
        out.append(settled_terms(t, abs(amount)))
    return out


def test_disposal_line_is_accepted_kg_times_unit_price_rounded_half_even():
    # ¥1 234.5/t: 1 kg → 123.45 fen → 123; 3 kg → 370.35 → 370; 2 kg → 246.9 → 247
    assert settled_amount_fen("disposal", 0, 123_450, 1) == 123
    assert settled_amount_fen("disposal", 0, 100_100, 5) == 500   # 500.5 → 500 (even)
    assert settled_amount_fen("disposal", 0, 100_300, 5) == 502   # 501.5 → 502 (even)
    assert settled_amount_fen("transport", 40_000, None, 1) == 40_000
    with pytest.raises(ValueError):
        settled_amount_fen("disposal", 0, 100, -1)


def test_less_accepted_than_contracted_releases_the_line_with_its_fee_and_refunds_the_rest():
    price, kg = 150_000, 2_000                       # ¥1 500/t × 2 t = ¥3 000
    lines = contract(price, kg, transport=40_000)
    held = funding_plan(lines)                       # generator paid ¥3 400
    plan = plan_settlement(at_accepted(lines, price, 1_870), {}, held)
    disposal, transport = plan.lines
    assert disposal.release.value_fen == 280_500     # 1.87 t × ¥1 500
    assert disposal.release.fee_fen == 2_805          # 1 % of it, exactly
    assert disposal.release.payee_fen + disposal.release.fee_fen == disposal.release.out_fen
    assert transport.release.value_fen == 40_000 and transport.release.fee_fen == 0
    assert plan.refunds == {GEN: 340_000 - 280_500 - 40_000}
    assert plan.ready and plan.retained_out == 0


def test_more_accepted_than_funded_asks_for_a_top_up_and_releases_nothing():
    price, kg = 150_000, 2_000
    lines = contract(price, kg)
    plan = plan_settlement(at_accepted(lines, price, 2_100), {}, funding_plan(lines))
    assert not plan.ready and plan.topups == {GEN: 15_000}
    assert all(lp.release is None for lp in plan.lines) and plan.refunds == {}
    topped = {GEN: 300_000 + 15_000}
    plan = plan_settlement(at_accepted(lines, price, 2_100), {}, topped)
    assert plan.ready and plan.lines[0].release.value_fen == 315_000 and plan.refunds == {}


def test_negative_price_the_operator_pays_the_generator_and_the_fee_on_top():
    price, kg = -80_000, 5_000                       # waste oil: operator pays ¥800/t
    lines = contract(price, kg, transport=30_000)
    held = funding_plan(lines)
    assert held == {OP: 404_000, GEN: 30_000}
    plan = plan_settlement(at_accepted(lines, price, 4_600), {}, held)
    disposal, transport = plan.lines
    assert (disposal.terms.payer_org_id, disposal.terms.payee_org_id) == (OP, GEN)
    assert disposal.release.value_fen == 368_000 and disposal.release.fee_fen == 3_680
    assert disposal.release.out_fen == 371_680 and disposal.release.payee_fen == 368_000
    assert plan.refunds == {OP: 404_000 - 371_680}
    # more oil than contracted: the operator tops up
    short = plan_settlement(at_accepted(lines, price, 5_500), {}, held)
    assert short.topups == {OP: 440_000 + 4_400 - 404_000}


def test_retention_keeps_a_share_of_the_disposal_line_until_the_certificate():
    price, kg = 150_000, 2_000
    lines = contract(price, kg)
    plan = plan_settlement(at_accepted(lines, price, 2_000), {}, funding_plan(lines),
                           retention_bps=1_000)
    disposal = plan.lines[0]
    assert disposal.retained_value == 30_000
    assert disposal.release.value_fen == 270_000 and plan.retained_out == 30_000
    assert plan.refunds == {}
    later = plan_retention(disposal.terms, disposal.released_value)
    assert later.value_fen == 30_000
    # the two parts' fees add up to exactly the fee of the whole line
    assert disposal.release.fee_fen + later.fee_fen == 3_000


def test_nothing_accepted_pays_transport_and_refunds_the_disposal_money():
    lines = contract(150_000, 2_000, transport=40_000)
    plan = plan_settlement(at_accepted(lines, 150_000, 0), {}, funding_plan(lines))
    assert plan.lines[0].release is None and plan.lines[1].release.value_fen == 40_000
    assert plan.refunds == {GEN: 300_000}


def test_a_line_released_beyond_its_settled_value_is_refused():
    lines = contract(150_000, 2_000)
    with pytest.raises(ValueError):
        plan_settlement(at_accepted(lines, 150_000, 1_000), {10: 200_000}, {GEN: 100_000})


def test_the_independent_amount_check():
    assert amount_matches(280_500, 150_000, 1_870)
    assert not amount_matches(280_501, 150_000, 1_870)


@settings(max_examples=300, deadline=None)
@given(price=st.integers(-500_000, 2_000_000), kg=st.integers(1, 60_000),
       splits=st.lists(st.tuples(st.integers(0, 30_000), st.integers(0, 2_000)), min_size=1,
                       max_size=4),
       transport=st.integers(0, 200_000), sampling=st.integers(0, 50_000),
       bps=st.integers(0, 2_000), retention=st.integers(0, 3_000))
def test_property_escrow_ends_at_zero_and_everything_adds_up(price, kg, splits, transport,
                                                             sampling, bps, retention):
    lines = contract(price, kg, transport=transport, sampling=sampling, bps=bps)
    funded = funding_plan(lines)
    # manifests: each (received, refused ≤ received); the accepted kg summed, rounded once
    accepted = sum(max(r - min(f, r), 0) for r, f in splits)
    settled = at_accepted(lines, price, accepted)
    held = dict(funded)
    plan = plan_settlement(settled, {}, held, retention)
    if not plan.ready:
        assert all(lp.release is None for lp in plan.lines) and not plan.refunds
        for org, fen in plan.topups.items():
            held[org] = held.get(org, 0) + fen
        funded = dict(held)
        plan = plan_settlement(settled, {}, held, retention)
    assert plan.ready
    released_out = sum(lp.release.out_fen for lp in plan.lines if lp.release)
    fees = sum(lp.release.fee_fen for lp in plan.lines if lp.release)
    paid = sum(lp.release.payee_fen for lp in plan.lines if lp.release)
    refunded = sum(plan.refunds.values())
    # the retention comes out on the certificate
    for lp in plan.lines:
        extra = plan_retention(lp.terms, lp.released_value) if lp.retained_value else None
        if extra is not None:
            released_out, fees, paid = (released_out + extra.out_fen, fees + extra.fee_fen,
                                        paid + extra.payee_fen)
    total_funded = sum(funded.values())
    assert released_out + refunded == total_funded          # escrow ends at zero
    assert paid + fees + refunded == total_funded            # released + refunded + fees = funded
    assert fees == sum(lp.terms.fee_fen for lp in plan.lines)
    disposal = plan.lines[0]
    assert disposal.terms.value_fen == abs(line_amount_fen(price, accepted))
    assert all(fen > 0 for fen in plan.refunds.values())

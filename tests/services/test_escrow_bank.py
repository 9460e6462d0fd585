"""Funding by bank transfer: instructions, exact / under / over / unmatched receipts, typos,
suspense."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from market.escrow import funding, receipts
from market.escrow.errors import BadReference, NothingToPay, NotAwaitingFunding
from market.escrow.models import Receipt
from market.escrow.policies import make_reference
from market.ledger.models import Entry
from market.listings.validation import today
from market.notifications.models import Notification
from market.orders import lifecycle
from tests.escrow_factories import make_order
from tests.factories import UserFactory

TODAY = today()


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(Entry))


def receipt(finance, reference, amount, bank_ref, **kw):
    return lifecycle.confirm_receipt(finance, reference=reference, amount_fen=amount,
                                    received_on=kw.get("received_on", TODAY),
                                    payer_name=kw.get("payer_name", "深圳华芯"), bank_ref=bank_ref)


@pytest.fixture
def order(generator, operator):
    # 2 t at ¥1 500/t + ¥400 transport = ¥3 400
    return make_order(generator.org, operator.org, price=150_000, kg=2_000, transport_fen=40_000)


def test_funding_opens_with_the_custody_account_and_a_checked_reference(generator, order):
    out = lifecycle.request_funding(generator, order.id)
    assert out["gateway"] == "bank" and out["amount_fen"] == 340_000
    assert out["reference"] == make_reference(order.number)
    assert set(out["account"]) == {"name", "number", "bank"}
    db.session.refresh(order)
    assert order.status == "funding"
    # asking again gives the same instructions and opens nothing new
    assert lifecycle.request_funding(generator, order.id)["reference"] == out["reference"]
    assert len(funding.requests_of(order.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "escrow.funding_requested")) >= 1


def test_who_may_ask_and_when(generator, operator, other_generator, order):
    with pytest.raises(NothingToPay):  # the operator pays nothing on a positive-price order
        lifecycle.request_funding(operator, order.id)
    with pytest.raises(NotFound):
        lifecycle.request_funding(other_generator, order.id)
    early = make_order(generator.org, operator.org, status="contract_pending")
    before = entries()
    with pytest.raises(NotAwaitingFunding) as exc:
        lifecycle.request_funding(generator, early.id)
    assert exc.value.code == "not_awaiting_funding" and exc.value.status == 409
    assert entries() == before and funding.requests_of(early.id) == []


def test_exact_receipt_funds_the_order(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    r = receipt(finance, ref, 340_000, "B001")
    assert (r.status, r.applied_fen, r.suspense_fen) == ("funded", 340_000, 0)
    db.session.refresh(order)
    assert order.status == "funded"
    assert ledger.balance(f"escrow:{order.number}") == 340_000
    assert ledger.balance("clearing:bank") == 340_000
    assert ledger.trial_balance().total == 0


def test_less_than_due_stays_in_funding_with_the_remainder_shown(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    r = receipt(finance, ref, 100_000, "B002")
    assert r.status == "partial"
    db.session.refresh(order)
    assert order.status == "funding"
    assert lifecycle.request_funding(generator, order.id)["amount_fen"] == 240_000
    assert receipt(finance, ref, 240_000, "B003").status == "funded"
    db.session.refresh(order)
    assert order.status == "funded"


def test_more_than_due_puts_the_excess_in_suspense_for_finance_to_return(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    r = receipt(finance, ref, 350_000, "B004")
    assert (r.status, r.applied_fen, r.suspense_fen) == ("excess", 340_000, 10_000)
    db.session.refresh(order)
    assert order.status == "funded"
    assert ledger.balance("suspense:bank") == 10_000
    receipts.return_suspense(finance, r.id, 10_000, "RET-1", key="ret-1")
    receipts.return_suspense(finance, r.id, 10_000, "RET-1", key="ret-1")  # a replay
    assert ledger.balance("suspense:bank") == 0 and ledger.balance("clearing:bank") == 340_000
    with pytest.raises(ValidationFailed):  # nothing left to return
        receipts.return_suspense(finance, r.id, 1, "RET-2", key="ret-2")


def test_unknown_reference_goes_to_suspense_and_can_be_matched_later(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    r = receipt(finance, "货款 华芯电子", 340_000, "B005")
    assert (r.status, r.suspense_fen, r.funding_request_id) == ("unmatched", 340_000, None)
    # ours in form and check digits, but no such order: suspense too
    ghost = receipt(finance, make_reference("HX2099999999"), 500, "B006")
    assert ghost.status == "unmatched"
    assert ledger.balance("suspense:bank") == 340_500
    lifecycle.match_suspense(finance, r.id, ref, 340_000, key="match-1")
    db.session.refresh(order)
    assert order.status == "funded" and ledger.balance(f"escrow:{order.number}") == 340_000
    assert ledger.balance("suspense:bank") == 500


def test_a_mistyped_reference_is_refused_and_nothing_is_booked(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    typo = ref[:-3] + str((int(ref[-3]) + 1) % 10) + ref[-2:]
    before = entries()
    with pytest.raises(BadReference) as exc:
        receipt(finance, typo, 340_000, "B007")
    assert exc.value.status == 422 and exc.value.field == "reference"
    assert entries() == before
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0


def test_the_same_bank_transfer_is_booked_once(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    first = receipt(finance, ref, 100_000, "B008")
    assert receipt(finance, ref, 100_000, "B008").id == first.id
    with pytest.raises(Conflict):
        receipt(finance, ref, 90_000, "B008")
    assert ledger.balance(f"escrow:{order.number}") == 100_000


def test_money_for_an_order_no_longer_awaiting_it_goes_to_suspense(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    receipt(finance, ref, 100_000, "B009")
    lifecycle.cancel_order(generator, order.id, "计划变更")  # refunds the part payment
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert ledger.balance(f"payable:{generator.org_id}") == 100_000
    late = receipt(finance, ref, 240_000, "B010")
    assert (late.status, late.applied_fen, late.suspense_fen) == ("excess", 0, 240_000)


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
def test_bad_amounts_are_refused_with_the_field_named(generator, finance, order, amount):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    before = entries()
    with pytest.raises(ValidationFailed) as exc:
        receipt(finance, ref, amount, "B011")
    assert exc.value.field == "amount_fen"
    assert entries() == before


def test_only_finance_confirms_and_dates_are_checked(generator, admin, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    for user in (generator, admin, UserFactory(org=generator.org)):
        with pytest.raises(PermissionDenied):
            receipt(user, ref, 340_000, "B012")
    with pytest.raises(ValidationFailed) as exc:
        receipt(finance, ref, 340_000, "B013", received_on=TODAY + timedelta(days=3))
    assert exc.value.field == "received_on"


def test_matching_suspense_refuses_more_than_due_or_orders_not_awaiting(generator, finance, order):
    ref = lifecycle.request_funding(generator, order.id)["reference"]
    r = receipt(finance, "unknown", 500_000, "B014")
    with pytest.raises(ValidationFailed):  # more than the 340 000 due
        lifecycle.match_suspense(finance, r.id, ref, 400_000, key="m-1")
    lifecycle.match_suspense(finance, r.id, ref, 340_000, key="m-2")
    with pytest.raises(NotAwaitingFunding):
        lifecycle.match_suspense(finance, r.id, ref, 1_000, key="m-3")
    assert ledger.balance("suspense:bank") == 160_000

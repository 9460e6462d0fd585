"""Disputes: opened by a party with evidence, money frozen, split by an admin into releases and
refunds that empty the escrow; cancelling a funded order by agreement."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.audit.models import AuditEvent
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.escrow import disputes, services
from market.escrow.errors import EscrowNotFunded, SplitMismatch
from market.ledger.models import Entry
from market.notifications.models import Notification
from market.orders import lifecycle
from tests.escrow_factories import PDF, PNG, make_order, pay_in_full, set_status


def files(*blobs):
    return [(io.BytesIO(b), f"evidence{i}.pdf") for i, b in enumerate(blobs)]


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(Entry))


def audited(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == action))


def notes(user, kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind))


@pytest.fixture
def received(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org, transport_fen=40_000), finance)
    return set_status(order, "received")  # manifests arrive with a later issue


def test_a_party_opens_a_dispute_with_evidence_and_the_money_stays(received, generator,
                                                                    operator, finance, admin):
    d = disputes.open_dispute(generator, received.id, "实收重量比磅单少 12%", files(PDF, PNG))
    assert d.status == "open" and len(d.evidence) == 2
    assert {e.mime for e in d.evidence} == {"application/pdf", "image/png"}
    assert received.status == "disputed"
    assert notes(operator, "escrow.dispute_opened") == 1
    assert notes(admin, "escrow.dispute_opened") == 1  # an admin must decide
    assert audited("escrow.dispute_opened") == 1
    with pytest.raises(Exception):  # frozen: no release while disputed
        services.release(finance, received.id, received.line("disposal").id, 1, key="f")
    assert ledger.balance(f"escrow:{received.number}") == 340_000


def test_dispute_input_is_checked(received, generator, other_generator, operator):
    with pytest.raises(ValidationFailed):
        disputes.open_dispute(generator, received.id, "  ", files(PDF))
    with pytest.raises(ValidationFailed) as exc:
        disputes.open_dispute(generator, received.id, "重量不符", [])
    assert exc.value.field == "evidence"
    with pytest.raises(ValidationFailed):  # judged by content, not by the name
        disputes.open_dispute(generator, received.id, "重量不符", files(b"MZ\x90\x00 not a pdf"))
    with pytest.raises(ValidationFailed):
        disputes.open_dispute(generator, received.id, "重量不符", files(*[PDF] * 6))
    with pytest.raises(NotFound):
        disputes.open_dispute(other_generator, received.id, "重量不符", files(PDF))
    assert received.status == "received"
    disputes.open_dispute(operator, received.id, "对方拒绝确认", files(PDF))
    with pytest.raises(InvalidState):  # one open dispute at a time
        disputes.open_dispute(generator, received.id, "又一个", files(PDF))


def test_no_dispute_before_the_waste_is_received(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    with pytest.raises(InvalidState):
        disputes.open_dispute(generator, order.id, "想退款", files(PDF))


def test_admin_splits_what_is_held_into_releases_and_refunds(received, generator, operator,
                                                             admin):
    d = disputes.open_dispute(generator, received.id, "部分废物未处置", files(PDF))
    split = {str(operator.org_id): 200_000, str(generator.org_id): 140_000}
    lifecycle.resolve_dispute(admin, d.id, split, "按实际处置量结算")
    assert d.status == "resolved" and received.status == "resolved"
    assert ledger.balance(f"escrow:{received.number}") == 0
    # the operator's 200 000: the disposal line first (fee 1 % = 2 000)
    assert ledger.balance(f"payable:{operator.org_id}") == 198_000
    assert ledger.balance("revenue:fees") == 2_000
    assert ledger.balance(f"payable:{generator.org_id}") == 140_000
    assert notes(generator, "escrow.dispute_resolved") == 1
    assert notes(operator, "escrow.dispute_resolved") == 1
    assert audited("escrow.dispute_resolved") == 1 and audited("escrow.released") == 1
    assert audited("escrow.refunded") == 1
    before = entries()
    assert lifecycle.resolve_dispute(admin, d.id, split).id == d.id  # a repeat posts nothing
    assert entries() == before
    with pytest.raises(Conflict):
        lifecycle.resolve_dispute(admin, d.id, {str(operator.org_id): 340_000})
    lifecycle.close_order(admin, received.id)
    assert received.status == "closed"


@pytest.mark.parametrize("shares", [
    {"op": 200_000, "gen": 139_999},             # one fen short of what is held
    {"op": 340_001, "gen": 0},                    # more than held
    {"op": 200_000, "gen": "140000"},             # not an integer
    {"op": 400_000, "gen": -60_000},              # negative
    {"op": 100_000, "gen": 100_000, "other": 140_000},  # not a party
])
def test_a_split_that_does_not_add_up_is_refused_and_nothing_posts(received, generator,
                                                                   operator, other_generator,
                                                                   admin, shares):
    d = disputes.open_dispute(generator, received.id, "重量不符", files(PDF))
    ids = {"op": operator.org_id, "gen": generator.org_id, "other": other_generator.org_id}
    before = entries()
    with pytest.raises(ValidationFailed) as exc:
        lifecycle.resolve_dispute(admin, d.id, {str(ids[k]): v for k, v in shares.items()})
    assert exc.value.field == "split"
    assert entries() == before and d.status == "open"


def test_only_admins_resolve(received, generator, operator, finance):
    d = disputes.open_dispute(generator, received.id, "重量不符", files(PDF))
    for user in (generator, operator, finance):
        with pytest.raises(PermissionDenied):
            lifecycle.resolve_dispute(user, d.id, {str(generator.org_id): 340_000})


def test_negative_price_dispute_fee_comes_out_of_the_operator_share(generator, operator, admin,
                                                                     finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org, price=-80_000,
                                              kg=5_000), finance), "received")
    d = disputes.open_dispute(operator, order.id, "油品含水量超标", files(PDF))
    # held: 404 000 from the operator; the generator gets 200 000 for its waste
    with pytest.raises(SplitMismatch):
        lifecycle.resolve_dispute(admin, d.id, {str(generator.org_id): 404_000,
                                               str(operator.org_id): 0})
    lifecycle.resolve_dispute(admin, d.id, {str(generator.org_id): 200_000,
                                           str(operator.org_id): 204_000})
    assert ledger.balance(f"payable:{generator.org_id}") == 200_000
    assert ledger.balance("revenue:fees") == 2_000
    assert ledger.balance(f"payable:{operator.org_id}") == 202_000
    assert ledger.balance(f"escrow:{order.number}") == 0


def test_cancelling_a_funded_order_by_agreement_refunds_in_full(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    with pytest.raises(NotFound):
        lifecycle.answer_cancellation(operator, order.id, True)
    disputes.propose_cancellation(generator, order.id, "项目取消")
    with pytest.raises(Conflict):
        disputes.propose_cancellation(operator, order.id, "重复")
    with pytest.raises(PermissionDenied):  # the proposer cannot agree with itself
        lifecycle.answer_cancellation(generator, order.id, True)
    assert notes(operator, "escrow.cancellation_proposed") == 1
    lifecycle.answer_cancellation(operator, order.id, True)
    db.session.refresh(order)
    assert order.status == "cancelled"
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert ledger.balance(f"payable:{generator.org_id}") == 300_000
    assert audited("escrow.cancellation_agreed") == 1


def test_a_declined_proposal_changes_nothing(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    disputes.propose_cancellation(operator, order.id, "产能不足")
    lifecycle.answer_cancellation(generator, order.id, False)
    db.session.refresh(order)
    assert order.status == "funded" and ledger.balance(f"escrow:{order.number}") == 300_000
    unfunded = make_order(generator.org, operator.org)
    with pytest.raises(InvalidState):
        disputes.propose_cancellation(generator, unfunded.id, "不要了")


def test_dispute_needs_money_held(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    set_status(order, "received")
    services.release(finance, order.id, order.line("disposal").id, 300_000, key="all")
    with pytest.raises(EscrowNotFunded):
        disputes.open_dispute(generator, order.id, "晚了", files(PDF))

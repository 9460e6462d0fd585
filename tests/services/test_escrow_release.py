"""Money out of escrow: releases with the fee, refunds, cancellation, closing; negative prices;
bad input refused with nothing posted."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from market import db, ledger
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.escrow import services
from market.escrow.errors import EscrowNotEmpty, EscrowNotFunded, MoreThanHeld, NothingToPay
from market.ledger import IdempotencyConflict
from market.ledger.models import Entry
from market.orders import lifecycle
from market.orders.lifecycle import cancel_order
from tests.escrow_factories import make_order, pay_in_full, set_status


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(Entry))


@pytest.fixture
def funded(generator, operator, finance):
    # ¥1 500/t × 2 t = ¥3 000 disposal (fee 1 % = ¥30) + ¥400 transport
    # received: money leaves escrow for the disposal and transport lines only once it arrived
    return set_status(pay_in_full(make_order(generator.org, operator.org, transport_fen=40_000),
                                  finance), "received")


def test_release_of_a_line_pays_the_payee_net_of_the_fee(funded, finance, operator):
    disposal = funded.line("disposal")
    m = services.release(finance, funded.id, disposal.id, 300_000, key="rel-1")
    assert (m.amount_fen, m.fee_fen) == (300_000, 3_000)
    assert ledger.balance(f"payable:{operator.org_id}") == 297_000
    assert ledger.balance("revenue:fees") == 3_000
    assert ledger.balance(f"escrow:{funded.number}") == 40_000
    # the same key replays, a different request under it is a conflict
    assert services.release(finance, funded.id, disposal.id, 300_000, key="rel-1").id == m.id
    with pytest.raises(IdempotencyConflict):
        services.release(finance, funded.id, disposal.id, 1, key="rel-1")


def test_partial_releases_add_up_to_exactly_the_line_and_its_fee(generator, operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org, price=123_457,
                                              kg=1_000), finance), "received")
    line = order.line("disposal")  # 123 457 fen, fee round(1 234.57) = 1 235
    for i, part in enumerate((33_333, 33_333, 56_791)):
        services.release(finance, order.id, line.id, part, key=f"p{i}")
    assert ledger.balance("revenue:fees") == 1_235
    assert ledger.balance(f"payable:{operator.org_id}") == 123_457 - 1_235
    assert ledger.balance(f"escrow:{order.number}") == 0


def test_releasing_more_than_the_line_or_than_held_is_refused(funded, finance, generator):
    disposal, transport = funded.line("disposal"), funded.line("transport")
    before = entries()
    with pytest.raises(MoreThanHeld) as exc:
        services.release(finance, funded.id, disposal.id, 300_001, key="x1")
    assert exc.value.field == "value_fen" and exc.value.status == 422
    services.refund(finance, funded.id, generator.org_id, 100_000, key="r1")
    with pytest.raises(MoreThanHeld):  # the line is 300 000 but only 240 000 is still held
        services.release(finance, funded.id, disposal.id, 300_000, key="x2")
    with pytest.raises(MoreThanHeld):
        services.refund(finance, funded.id, generator.org_id, 240_001, key="x3")
    assert entries() == before + 1
    services.release(finance, funded.id, transport.id, 40_000, key="t1")
    assert ledger.balance(f"escrow:{funded.number}") == 200_000


@pytest.mark.parametrize("amount", [0, -1, 1.5, "10", True, None, 10**20])
def test_non_integer_or_negative_amounts_are_refused_before_anything(funded, finance, amount):
    before = entries()
    with pytest.raises(ValidationFailed):
        services.release(finance, funded.id, funded.line("disposal").id, amount, key="bad")
    with pytest.raises(ValidationFailed):
        services.refund(finance, funded.id, funded.generator_id, amount, key="bad2")
    assert entries() == before


def test_who_and_when(funded, generator, operator, finance, other_generator):
    disposal = funded.line("disposal")
    for user in (generator, operator, other_generator):
        with pytest.raises(PermissionDenied):
            services.release(user, funded.id, disposal.id, 1, key="w1")
    with pytest.raises(NotFound):
        services.release(finance, funded.id, 999_999, 1, key="w2")
    with pytest.raises(NotFound):
        services.release(finance, 999_999, disposal.id, 1, key="w3")
    unfunded = make_order(generator.org, operator.org)
    with pytest.raises(EscrowNotFunded):
        services.release(finance, unfunded.id, unfunded.line("disposal").id, 1, key="w4")
    for status in ("funded", "in_transfer"):  # nothing is paid for waste not yet received
        set_status(funded, status)
        with pytest.raises(EscrowNotFunded):
            services.release(finance, funded.id, disposal.id, 1, key=f"w-{status}")
    set_status(funded, "disputed")  # money is frozen while a dispute is open
    with pytest.raises(EscrowNotFunded):
        services.release(finance, funded.id, disposal.id, 1, key="w5")


def test_negative_price_the_operator_funds_the_generator_is_paid_the_fee_on_the_operator(
        generator, operator, finance):
    # waste oil bought at ¥800/t × 5 t = ¥4 000, plus ¥300 transport the generator pays
    order = make_order(generator.org, operator.org, price=-80_000, kg=5_000, transport_fen=30_000)
    with pytest.raises(NothingToPay):
        lifecycle.request_funding(finance, order.id)
    op_out = lifecycle.request_funding(operator, order.id)
    gen_out = lifecycle.request_funding(generator, order.id)
    assert op_out["amount_fen"] == 404_000     # ¥4 000 + 1 % fee on top
    assert gen_out["amount_fen"] == 30_000
    assert op_out["reference"] != gen_out["reference"]
    pay_in_full(order, finance)
    assert order.status == "funded"
    set_status(order, "received")
    services.release(finance, order.id, order.line("disposal").id, 400_000, key="neg")
    assert ledger.balance(f"payable:{generator.org_id}") == 400_000
    assert ledger.balance("revenue:fees") == 4_000
    assert ledger.balance(f"escrow:{order.number}") == 30_000
    services.release(finance, order.id, order.line("transport").id, 30_000, key="neg-t")
    assert ledger.balance(f"payable:{operator.org_id}") == 30_000
    assert ledger.balance(f"escrow:{order.number}") == 0


def test_admin_cancelling_a_funded_order_refunds_every_payer_in_full(
        generator, operator, admin, finance):
    order = pay_in_full(make_order(generator.org, operator.org, price=-80_000, kg=5_000,
                                   transport_fen=30_000), finance)
    with pytest.raises(PermissionDenied):  # a party alone may not cancel a funded order
        cancel_order(generator, order.id, "不要了")
    cancel_order(admin, order.id, "双方协商")
    assert order.status == "cancelled"
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert ledger.balance(f"payable:{operator.org_id}") == 404_000
    assert ledger.balance(f"payable:{generator.org_id}") == 30_000
    assert ledger.trial_balance().total == 0


def test_close_needs_an_empty_escrow(funded, finance):
    set_status(funded, "settled")
    with pytest.raises(EscrowNotEmpty):
        lifecycle.close_order(finance, funded.id)
    for line in funded.lines:
        services.release(finance, funded.id, line.id, line.amount_fen, key=f"c{line.id}")
    lifecycle.close_order(finance, funded.id)
    assert funded.status == "closed"


def test_the_database_refuses_closing_an_order_that_still_holds_money(funded):
    # Bypass the services: the deferred trigger of 0005_escrow has the last word at commit.
    db.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    with pytest.raises(Exception, match="still holds"):
        db.session.execute(text("UPDATE trade_order SET status = 'closed' WHERE id = :id"),
                           {"id": funded.id})
    db.session.rollback()

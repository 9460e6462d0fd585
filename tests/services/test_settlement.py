"""Settlement on real PostgreSQL: accepted kg × unit price, the exact fee split, the refund of the
difference, the top-up path, a negative-price order, retention released on the certificate, the
capacity trued up; payouts close the order; the database refuses a release for waste not yet
received even when called directly or inserted by raw SQL."""
from __future__ import annotations

import io
import os
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from market import db, ledger
from market.errors import InvalidState, PermissionDenied, ValidationFailed
from market.escrow.errors import NotAwaitingFunding
from market.escrow import services as escrow
from market.escrow.models import Movement, Payout
from market.listings.models import CapacityReservation
from market.manifests.models import Manifest
from market.orders import lifecycle, settling
from market.oversight.models import Alert
from market.settlement import checks, queries, services
from market.settlement.jobs import close_paid_orders, settle_order
from market.settlement.errors import CertificateAlreadyUploaded, NotReadyToSettle
from market.settlement.models import Settlement
from market.uow import transaction
from tests.escrow_factories import PDF, make_order, pay_in_full, set_status
from tests.settlement_factories import add_manifest, open_discrepancy, received_order


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def reserve(order, kg):
    with transaction():
        db.session.add(CapacityReservation(licence_item_id=order.licence_item_id, year=2026,
                                           order_id=order.id, kg=kg))


def test_settles_at_accepted_kg_with_the_exact_fee_and_refunds_the_difference(
        generator, operator, finance):
    # ¥1 500/t, 2 t contracted (¥3 000) + ¥400 transport; two trips: 1 000 kg sent, 970 in
    # (3 % below) and 1 000 sent, 920 in (8 % below): 1 890 kg accepted
    order = received_order(generator.org, operator.org, transport_fen=40_000,
                           weights=((1_000, 970), (1_000, 920)), finance=finance)
    reserve(order, 2_000)
    row = services.settle(order.id)
    assert row.status == "settled" and row.accepted_kg == 1_890
    assert row.disposal_fen == 283_500 and row.fee_fen == 2_835
    assert order.status == "settled"
    assert ledger.balance(f"payable:{operator.org_id}") == 283_500 - 2_835 + 40_000
    assert ledger.balance("revenue:fees") == 2_835
    assert ledger.balance(f"payable:{generator.org_id}") == 340_000 - 283_500 - 40_000
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert ledger.trial_balance().total == 0
    view = queries.settlement_view(order).as_json()
    assert view["funded_fen"] == 340_000 and view["refunded_fen"] == 16_500
    assert [(ln["kind"], ln["amount_fen"], ln["fee_fen"], ln["released_fen"])
            for ln in view["lines"]] == [("disposal", 283_500, 2_835, 283_500),
                                         ("transport", 40_000, 0, 40_000)]
    # the operator's capacity reservation is trued up to what was accepted
    assert db.session.scalar(select(CapacityReservation.kg).where(
        CapacityReservation.order_id == order.id)) == 1_890
    # the independent check agrees: no alert
    assert checks.check_settlement(order.id) == "ok"


def test_rounding_is_half_even_on_the_accepted_total(generator, operator, finance):
    # ¥1 001/t × 1 500.5 kg is not possible (kg are whole), so: 100 100 fen/t × 5 kg = 500.5 → 500
    order = received_order(generator.org, operator.org, price=100_100, kg=10,
                           weights=((5, 5),), finance=finance)
    row = services.settle(order.id)
    assert row.disposal_fen == 500 and row.fee_fen == 5
    assert ledger.balance(f"payable:{operator.org_id}") == 495


def test_settling_twice_posts_once(generator, operator, finance):
    order = received_order(generator.org, operator.org, finance=finance)
    first = services.settle(order.id)
    entries = count(Movement)
    assert services.settle(order.id).id == first.id
    assert count(Movement) == entries


def test_not_ready_is_refused_with_nothing_changed(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)  # funded
    with pytest.raises(NotReadyToSettle):
        services.settle(order.id)
    set_status(order, "in_transfer")
    add_manifest(order, 1_000, 990)
    add_manifest(order, 1_000)  # still on the road
    set_status(order, "received")
    with pytest.raises(NotReadyToSettle):
        services.settle(order.id)
    other = received_order(generator.org, operator.org, weights=((1_000, 900),), finance=finance)
    d = open_discrepancy(db.session.scalars(select(Manifest).where(
        Manifest.order_id == other.id)).one())
    with pytest.raises(NotReadyToSettle):
        services.settle(other.id)
    assert count(Settlement) == 0 and order.status == "received"
    with transaction():
        d.status = "confirmed"
    assert services.settle(other.id).status == "settled"


def test_more_accepted_than_funded_asks_for_a_top_up_and_its_receipt_settles(
        generator, operator, finance):
    order = received_order(generator.org, operator.org, weights=((2_100, 2_100),),
                           finance=finance)   # 100 kg more than the 2 t paid for
    movements = count(Movement)
    row = services.settle(order.id)
    assert row.status == "topup_due" and row.topup_fen == 15_000
    assert count(Movement) == movements and order.status == "received"   # nothing released
    assert queries.settlement_view(order).topup_fen == 15_000
    # asking again changes nothing; the payer gets instructions for the difference only
    services.settle(order.id)
    out = lifecycle.request_funding(generator, order.id)
    assert out["amount_fen"] == 15_000
    with pytest.raises(NotAwaitingFunding):   # the operator owes nothing more
        lifecycle.request_funding(operator, order.id)
    # its receipt settles the order at once (market.orders.lifecycle.funded_if_paid)
    lifecycle.confirm_receipt(finance, reference=out["reference"], amount_fen=15_000,
                              received_on=date.today(), payer_name="付款单位", bank_ref="TOPUP-1")
    assert order.status == "settled"
    assert settle_order(order.id) == "settled"   # the job, run again, changes nothing
    assert ledger.balance(f"payable:{operator.org_id}") == 315_000 - 3_150
    assert ledger.balance(f"escrow:{order.number}") == 0


def test_negative_price_settles_the_other_way_round(generator, operator, finance):
    # waste oil: the operator pays ¥800/t for 5 t (+1 % fee on top); 4.6 t accepted
    order = received_order(generator.org, operator.org, price=-80_000, kg=5_000,
                           transport_fen=30_000, weights=((5_000, 4_600),), finance=finance)
    row = services.settle(order.id)
    assert row.disposal_fen == -368_000 and row.fee_fen == 3_680
    assert ledger.balance(f"payable:{generator.org_id}") == 368_000
    assert ledger.balance(f"payable:{operator.org_id}") == 30_000 + (404_000 - 371_680)
    assert ledger.balance("revenue:fees") == 3_680
    assert ledger.balance(f"escrow:{order.number}") == 0


def test_refused_kg_are_not_paid(generator, operator, finance):
    order = received_order(generator.org, operator.org, weights=((2_000, 2_000),), refused=500,
                           finance=finance)
    assert services.settle(order.id).accepted_kg == 1_500


def test_retention_is_released_when_the_operator_uploads_the_certificate(
        app, generator, operator, finance):
    app.config["SETTLEMENT_RETENTION_BPS"] = 1_000
    try:
        order = received_order(generator.org, operator.org, finance=finance)
        row = services.settle(order.id)
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
    assert row.retained_fen == 30_000
    assert ledger.balance(f"escrow:{order.number}") == 30_000
    assert ledger.balance(f"payable:{operator.org_id}") == 270_000 - 2_700
    folder = app.config["UPLOAD_DIR"]
    files = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    # refused uploads leave nothing: not the operator, not a PDF/image
    with pytest.raises(PermissionDenied):
        services.upload_certificate(generator, order.id, io.BytesIO(PDF), "处置证明.pdf")
    with pytest.raises(ValidationFailed):
        services.upload_certificate(operator, order.id, io.BytesIO(b"hello"), "x.txt")
    assert (set(os.listdir(folder)) if os.path.isdir(folder) else set()) == files
    services.upload_certificate(operator, order.id, io.BytesIO(PDF), "处置证明.pdf")
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert ledger.balance(f"payable:{operator.org_id}") == 300_000 - 3_000
    assert ledger.balance("revenue:fees") == 3_000
    with pytest.raises(CertificateAlreadyUploaded):
        services.upload_certificate(operator, order.id, io.BytesIO(PDF), "again.pdf")
    assert len(set(os.listdir(folder)) - files) == 1


def test_a_certificate_before_settlement_is_refused(generator, operator, finance):
    order = received_order(generator.org, operator.org, finance=finance)
    with pytest.raises(InvalidState):
        services.upload_certificate(operator, order.id, io.BytesIO(PDF), "处置证明.pdf")


def test_payouts_close_the_order_once_every_line_is_paid_out(generator, operator, finance):
    order = received_order(generator.org, operator.org, transport_fen=40_000,
                           weights=((2_000, 1_900),), finance=finance)
    services.settle(order.id)
    op_owed = ledger.balance(f"payable:{operator.org_id}")
    gen_owed = ledger.balance(f"payable:{generator.org_id}")
    with pytest.raises(ValidationFailed):
        settling.record_bank_payout(finance, operator.org_id, op_owed + 1, "B-1")
    with pytest.raises(PermissionDenied):
        settling.record_bank_payout(operator, operator.org_id, 1, "B-1")
    settling.record_bank_payout(finance, operator.org_id, op_owed, "B-1")
    assert order.status == "settled"   # the generator's refund is not paid out yet
    p = settling.record_bank_payout(finance, generator.org_id, gen_owed, "B-2")
    assert settling.record_bank_payout(finance, generator.org_id, gen_owed, "B-2").id == p.id
    db.session.refresh(order)
    assert order.status == "closed"
    assert count(Payout) == 2 and ledger.trial_balance().total == 0


def test_the_independent_check_raises_an_alert_when_the_amount_is_wrong(
        generator, operator, finance):
    order = received_order(generator.org, operator.org, finance=finance, weights=((2_000, 1_000),))
    services.settle(order.id)
    with transaction():   # a weight corrected behind settlement's back
        db.session.execute(text("UPDATE manifest_line SET received_kg = 1100 WHERE manifest_id IN "
                                "(SELECT id FROM manifest WHERE order_id = :o)"), {"o": order.id})
    assert checks.check_settlement(order.id) == "alert"
    alert = db.session.scalar(select(Alert).where(Alert.rule_id == checks.SETTLED_AMOUNT_MISMATCH))
    assert alert.order_id == order.id and alert.data["expected_fen"] == 165_000


def test_the_database_refuses_a_release_for_waste_not_received(generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org, transport_fen=40_000), finance)
    line = order.line("disposal")
    before = count(Movement)
    # directly, past the service's own check: the trigger refuses the movement
    for status in ("funded", "in_transfer"):
        set_status(order, status)
        with pytest.raises(DBAPIError, match="before its waste is received"):
            with transaction():
                escrow.post_release(order, escrow.plan_release(escrow.book.terms_for(order)[0],
                                                               0, 1000), f"direct-{status}", None)
    # a received order with one manifest still on the road is refused too
    set_status(order, "in_transfer")
    add_manifest(order, 1_000, 1_000)
    add_manifest(order, 1_000)
    set_status(order, "received")
    with pytest.raises(DBAPIError, match="manifest not yet received"):
        with transaction():
            escrow.post_release(order, escrow.plan_release(escrow.book.terms_for(order)[1],
                                                           0, 1000), "direct-t", None)
    # raw SQL
    set_status(order, "funded")
    with pytest.raises(DBAPIError, match="before its waste is received"):
        with transaction():
            db.session.execute(text(
                "INSERT INTO escrow_movement (key, kind, order_id, line_id, org_id, amount_fen, "
                "value_fen, fee_fen, entry_id, memo, created_at) VALUES ('raw', 'release', :o, :l, "
                ":p, 100, 100, 0, 1, 'raw', now())"),
                {"o": order.id, "l": line.id, "p": operator.org_id})
    assert count(Movement) == before


def test_settling_through_the_order_life_closes_the_received_manifests(generator, operator,
                                                                       finance):
    order = received_order(generator.org, operator.org, weights=((1_000, 1_000), (1_000, 990)),
                           finance=finance)
    assert settling.settle_order(order.id).status == "settled"
    assert {m.status for m in db.session.scalars(select(Manifest).where(
        Manifest.order_id == order.id))} == {"closed"}
    assert services.settle(order.id).accepted_kg == 1_990   # closed manifests still count


def test_a_line_released_by_hand_beyond_what_it_settles_at_is_refused(generator, operator,
                                                                      finance):
    order = received_order(generator.org, operator.org, weights=((2_000, 1_000),),
                           finance=finance)
    escrow.release(finance, order.id, order.line("disposal").id, 200_000, key="by-hand")
    with pytest.raises(NotReadyToSettle) as exc:
        services.settle(order.id)
    assert exc.value.code == "released_beyond_settlement"
    assert count(Settlement) == 0 and order.status == "received"


def test_the_daily_sweep_closes_orders_paid_out_by_other_means(generator, operator, finance):
    order = received_order(generator.org, operator.org, finance=finance)
    services.settle(order.id)
    with transaction():   # as a Connect transfer's job would book it
        ledger.post([(f"payable:{operator.org_id}", 297_000), ("clearing:stripe", -297_000)],
                    "payout:test", "transfer")
    assert close_paid_orders("2026-12-06") == 1
    db.session.refresh(order)
    assert order.status == "closed" and close_paid_orders() == 0

"""Upload and data hygiene: a refused use case leaves no file behind; dates are plausible;
repeated codes are refused, not merged. Every refusal leaves rows and files as they were."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.accounts import licences
from market.accounts.models import LicenceItem
from market.errors import ValidationFailed
from market.escrow import disputes
from market.escrow.dispute_models import Dispute, DisputeEvidence
from market.escrow.models import Receipt
from market.listings import services as listings
from market.listings.models import DisposalRequest
from market.listings.validation import one_year_after, today
from market.orders import lifecycle
from market.uow import after_rollback, transaction
from tests.escrow_factories import PDF, make_order, pay_in_full, set_status
from tests.factories import LicenceFactory
from tests.listing_factories import request_data


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def stored_files() -> set[str]:
    folder = Path(current_app.config["UPLOAD_DIR"])
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} \
        if folder.exists() else set()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_refused_dispute_leaves_no_evidence_file_behind(generator, operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    db.session.commit()
    files_before, rows_before = stored_files(), (count(Dispute), count(DisputeEvidence))
    # the first file is a good PDF and gets stored; the second is refused by its content
    evidence = [(io.BytesIO(PDF), "ok.pdf"), (io.BytesIO(b"MZ\x90\x00 not a pdf"), "bad.pdf")]
    with pytest.raises(ValidationFailed) as info:
        disputes.open_dispute(generator, order.id, "重量不符", evidence)
    assert info.value.field == "evidence"
    assert stored_files() == files_before
    db.session.expire_all()
    assert (count(Dispute), count(DisputeEvidence)) == rows_before
    assert order.status == "received"


def test_a_file_written_in_a_transaction_that_rolls_back_is_removed(tmp_path):
    path = tmp_path / "written.bin"
    with pytest.raises(RuntimeError), transaction():
        path.write_bytes(b"x")
        after_rollback(lambda: path.unlink(missing_ok=True))
        raise RuntimeError("refused later in the use case")
    assert not path.exists()
    with transaction():  # committed: the file stays
        path.write_bytes(b"x")
        after_rollback(lambda: path.unlink(missing_ok=True))
    assert path.exists()


def test_a_pickup_window_is_at_most_a_year_long(generator):
    start = today() + timedelta(days=3)
    db.session.commit()
    before = count(DisposalRequest)
    with pytest.raises(ValidationFailed) as info:
        listings.create_request(generator, **request_data(
            window_start=start, window_end=one_year_after(start) + timedelta(days=1)))
    assert info.value.field == "window_end" and "at most a year" in info.value.message
    assert count(DisposalRequest) == before
    req = listings.create_request(generator, **request_data(window_start=start,
                                                             window_end=one_year_after(start)))
    assert req.window_end == one_year_after(start)


def test_one_year_after_the_29th_of_february():
    assert one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)


def test_a_receipt_is_not_before_its_order_nor_in_the_future(generator, operator, finance):
    order = make_order(generator.org, operator.org)
    (req,) = lifecycle.start_funding(order.id)
    db.session.commit()
    before = count(Receipt)
    for day, words in ((today() - timedelta(days=3), "before order"),
                       (today() + timedelta(days=1), "future")):
        with pytest.raises(ValidationFailed) as info:
            lifecycle.confirm_receipt(finance, reference=req.reference, amount_fen=1_000,
                                     received_on=day, payer_name="付款单位", bank_ref=f"R-{day}")
        assert info.value.field == "received_on" and words in info.value.message
    db.session.expire_all()
    assert count(Receipt) == before
    assert order.status == "funding"


def test_repeated_hazard_codes_are_refused_not_merged(generator):
    db.session.commit()
    before = count(DisposalRequest)
    with pytest.raises(ValidationFailed) as info:
        listings.create_request(generator, **request_data(hazards=["T", "I", "T"]))
    assert info.value.field == "hazards" and "T is listed twice" in info.value.message
    assert count(DisposalRequest) == before


def test_repeated_waste_codes_on_a_licence_item_are_refused_not_merged(operator):
    lic = LicenceFactory(org=operator.org, status="pending")
    db.session.commit()
    before = count(LicenceItem)
    with pytest.raises(ValidationFailed) as info:
        licences.add_licence_item(operator, lic.id, category_code="HW08",
                                  codes=["900-214-08", "900-214-08"], operations=["收集"],
                                  method_codes=[], approved_kg_per_year=1_000)
    assert info.value.field == "codes" and "900-214-08 is listed twice" in info.value.message
    assert count(LicenceItem) == before

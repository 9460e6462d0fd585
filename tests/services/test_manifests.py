"""Manifests: drafted for a funded order, signed at pickup in either order (the carrier by login
or the driver's one-time code), received with weights; every refusal changes nothing."""
from __future__ import annotations

import re

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from market import db
from market.manifests import policies
from market.manifests.errors import (CarrierNotAllowed, DriverCodeRefused, MethodNotLicensed,
                                     OrderNotFunded, PartLocked, ShippingLimitExceeded)
from market.manifests.models import (Discrepancy, DriverCode, Manifest, ManifestLine,
                                     ManifestSignature, ProvincialReport)
from market.errors import InvalidState, ValidationFailed
from market.notifications.models import EmailMessage
from market.orders import lifecycle
from market.oversight.models import Alert
from market.uow import transaction
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory, PermitFactory, UserFactory
from tests.manifest_factories import (carrier_user, draft, funded_order, manifest_data, received,
                                      shipped)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> tuple:
    return tuple(count(m) for m in (Manifest, ManifestLine, ManifestSignature, DriverCode,
                                    Discrepancy, ProvincialReport))


@pytest.fixture
def carrier():
    return carrier_user()


@pytest.fixture
def order(generator, operator, finance):
    return funded_order(generator.org, operator.org, finance)


def test_a_manifest_is_drafted_with_a_gapless_number_and_three_parts(generator, order, carrier):
    m = draft(generator, order, carrier)
    year = date.today().year
    assert m.number == f"{year}4403000001" and m.status == "draft"
    assert m.carrier_permit_number.startswith("粤交运") and m.licence_number
    assert m.receiver_org_id == order.operator_id and m.sent_kg == 1_000
    assert m.lines[0].form and m.lines[0].name
    second = draft(generator, order, carrier, 500)
    assert second.number == f"{year}4403000002"


def test_pickup_in_either_order_ships_and_moves_the_order(generator, order, carrier):
    m = draft(generator, order, carrier)
    lifecycle.sign_manifest(carrier, m.id, role="carrier")
    assert m.status == "draft" and order.status == "funded"
    lifecycle.sign_manifest(generator, m.id, role="generator")
    assert m.status == "shipped" and m.shipped_at is not None
    assert order.status == "in_transfer"
    report = db.session.scalar(select(ProvincialReport).where(ProvincialReport.manifest_id == m.id))
    assert report.event == "shipped"


def test_every_received_manifest_moves_the_order_to_received(generator, operator, order, carrier):
    first = received(generator, operator, order, carrier, 1_000, received_kg=970)
    # the only manifest, nothing holds it: received, then settled at once (market.orders.settling)
    # and the manifest closes with the settlement
    assert order.status == "settled" and first.status == "closed"
    assert first.lines[0].received_kg == 970 and first.lines[0].refused_kg == 0
    assert count(Discrepancy) == 0  # 3 % below: within the tolerance


def test_two_manifests_the_order_waits_for_both(generator, operator, order, carrier):
    a = shipped(generator, order, carrier, 1_000)
    b = shipped(generator, order, carrier, 1_000)
    lifecycle.receive_manifest(operator, a.id, "R9", [
        {"line_id": a.lines[0].id, "received_kg": 970, "refused_kg": 0}])
    assert order.status == "in_transfer"
    lifecycle.receive_manifest(operator, b.id, "R9", [
        {"line_id": b.lines[0].id, "received_kg": 920, "refused_kg": 0, "comment": "含水蒸发"}])
    assert order.status == "received"
    d = db.session.scalar(select(Discrepancy))
    assert d.kind == "weight" and d.status == "open" and d.receiver_comment == "含水蒸发"
    assert db.session.scalar(select(Alert.rule_id)) == "weight_discrepancy"
    lifecycle.decide_discrepancy(generator, b.id, b.lines[0].id, "confirm")
    assert d.status == "confirmed"
    assert order.status == "settled"  # the last discrepancy confirmed settles the order


def test_refused_unfunded_order_keeps_an_alert(generator, operator, carrier):
    order = make_order(generator.org, operator.org, status="contract_signed")
    before = snapshot()
    with pytest.raises(OrderNotFunded):
        lifecycle.create_manifest(generator, order.id, manifest_data(carrier.org))
    assert snapshot() == before
    alert = db.session.scalar(select(Alert))
    assert alert.rule_id == "manifest_unfunded_order" and alert.order_id == order.id
    assert alert.generator_region == generator.org.region_code


@pytest.mark.parametrize("permit", [None, "expired", "pending"])
def test_carrier_without_a_valid_permit_is_refused(generator, order, permit):
    carrier = UserFactory(org=OrganisationFactory(types=["carrier"]))
    if permit == "expired":
        PermitFactory(org=carrier.org, valid_from=date(2020, 1, 1),
                      valid_to=date.today() - timedelta(days=1))
    elif permit == "pending":
        PermitFactory(org=carrier.org, status="pending")
    before = snapshot()
    with pytest.raises(CarrierNotAllowed) as exc:
        lifecycle.create_manifest(generator, order.id, manifest_data(carrier.org))
    assert exc.value.field == "carrier_org_id"
    assert snapshot() == before
    assert db.session.scalar(select(Alert.rule_id)) == "carrier_permit_invalid"


@pytest.mark.parametrize("field,value", [
    ("vehicle_plate", "B12345"), ("vehicle_plate", "粤B1234"), ("driver_phone", "12345"),
    ("driver_name", " "), ("lines", []),
])
def test_bad_carrier_part_is_refused_naming_the_field(generator, order, carrier, field, value):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        lifecycle.create_manifest(generator, order.id, manifest_data(carrier.org, **{field: value}))
    assert exc.value.field == field
    assert snapshot() == before


def test_new_energy_and_trailer_plates_are_accepted():
    for plate in ("粤B12345", "粤BD12345", "粤B12345D", "粤BFA1234", "粤B1234挂", "粤b·12345"):
        assert policies.plate_ok(policies.normalise_plate(plate)), plate
    for plate in ("粤B1234", "粤BI2345", "XXB12345", "粤B123456"):
        assert not policies.plate_ok(plate), plate


def test_negative_kg_is_refused(generator, order, carrier):
    data = manifest_data(carrier.org)
    data["lines"][0]["quantity_kg"] = -5
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        lifecycle.create_manifest(generator, order.id, data)
    assert exc.value.field == "lines[0].quantity_kg" and snapshot() == before


def test_shipping_beyond_contract_quantity_plus_tolerance_is_refused(generator, order, carrier):
    draft(generator, order, carrier, 2_000)  # the whole 2 000 kg contract
    draft(generator, order, carrier, 100)  # 5 % tolerance: 2 100 kg in all
    before = snapshot()
    with pytest.raises(ShippingLimitExceeded) as exc:
        draft(generator, order, carrier, 1)
    assert exc.value.field == "lines" and snapshot() == before


def test_a_cancelled_manifest_frees_its_quantity(generator, order, carrier):
    m = draft(generator, order, carrier, 2_100)
    lifecycle.cancel_manifest(generator, m.id, "车辆故障")
    assert m.status == "cancelled"
    assert draft(generator, order, carrier, 2_100).status == "draft"


def test_signing_a_locked_part_is_refused(generator, order, carrier):
    m = shipped(generator, order, carrier)
    before = snapshot()
    for user, role in ((generator, "generator"), (carrier, "carrier")):
        with pytest.raises(PartLocked):
            lifecycle.sign_manifest(user, m.id, role=role)
    assert snapshot() == before
    m2 = draft(generator, order, carrier, 100)
    lifecycle.sign_manifest(generator, m2.id, role="generator")
    before = snapshot()
    with pytest.raises(PartLocked):
        lifecycle.sign_manifest(generator, m2.id, role="generator")
    assert snapshot() == before


def test_cancel_only_before_shipping(generator, order, carrier):
    m = shipped(generator, order, carrier)
    with pytest.raises(InvalidState) as exc:
        lifecycle.cancel_manifest(generator, m.id)
    assert exc.value.code == "invalid_transition" and m.status == "shipped"


def _code_from_outbox() -> str:
    body = db.session.scalar(select(EmailMessage.body).order_by(EmailMessage.id.desc()).limit(1))
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_the_driver_signs_with_a_one_time_code(generator, order, carrier):
    m = draft(generator, order, carrier)
    lifecycle.sign_manifest(generator, m.id, role="generator")
    from market.manifests import signing
    row = signing.request_driver_code(carrier, m.id)
    assert row.sent_to == "driver@example.cn" and len(row.code_hash) == 64
    code = _code_from_outbox()
    assert code not in row.code_hash
    lifecycle.sign_manifest(None, m.id, driver_code=code)
    assert m.status == "shipped"
    sig = m.signature("carrier")
    assert sig.method == "driver_code" and sig.user_id is None and sig.signer_name == "王师傅"


def test_a_used_code_is_refused(generator, order, carrier):
    from market.manifests import signing
    m = draft(generator, order, carrier)
    signing.request_driver_code(carrier, m.id)
    code = _code_from_outbox()
    lifecycle.sign_manifest(None, m.id, driver_code=code)
    before = snapshot()
    with pytest.raises(PartLocked):  # the carrier part is signed: the code cannot sign again
        lifecycle.sign_manifest(None, m.id, driver_code=code)
    with pytest.raises(DriverCodeRefused):
        with transaction():
            from market.manifests import codes
            codes.redeem(m, code)
    assert snapshot() == before


def test_an_expired_code_is_refused(generator, order, carrier):
    from market.manifests import signing
    m = draft(generator, order, carrier)
    row = signing.request_driver_code(carrier, m.id)
    code = _code_from_outbox()
    with transaction():
        row.expires_at = row.created_at - timedelta(seconds=1)
    before = snapshot()
    with pytest.raises(DriverCodeRefused) as exc:
        lifecycle.sign_manifest(None, m.id, driver_code=code)
    assert exc.value.code == "driver_code_expired" and snapshot() == before


def test_wrong_codes_are_counted_and_the_sixth_try_is_refused(generator, order, carrier):
    from market.manifests import signing
    m = draft(generator, order, carrier)
    row = signing.request_driver_code(carrier, m.id)
    code = _code_from_outbox()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for i in range(5):
        with pytest.raises(DriverCodeRefused):
            lifecycle.sign_manifest(None, m.id, driver_code=wrong)
        db.session.refresh(row)
        assert row.failed_attempts == i + 1
    before = snapshot()
    with pytest.raises(DriverCodeRefused) as exc:  # the sixth try, even with the right code
        lifecycle.sign_manifest(None, m.id, driver_code=code)
    assert exc.value.code == "driver_code_locked"
    assert snapshot() == before and m.signature("carrier") is None


def test_received_above_sent_plus_20_percent_is_refused(generator, operator, order, carrier):
    m = shipped(generator, order, carrier, 1_000)
    before = snapshot()
    for received_kg, refused_kg, field in ((1_201, 0, "received_kg"), (-1, 0, "received_kg"),
                                           (900, -1, "refused_kg"), (900, None, "refused_kg")):
        with pytest.raises(ValidationFailed) as exc:
            lifecycle.receive_manifest(operator, m.id, "R9", [
                {"line_id": m.lines[0].id, "received_kg": received_kg, "refused_kg": refused_kg,
                 "comment": "x"}])
        assert exc.value.field == f"lines[0].{field}"
    assert snapshot() == before and m.status == "shipped" and m.lines[0].received_kg is None


def test_a_method_the_licence_item_does_not_allow_is_refused(generator, operator, order, carrier):
    m = shipped(generator, order, carrier, 1_000)
    before = snapshot()
    with pytest.raises(MethodNotLicensed) as exc:
        lifecycle.receive_manifest(operator, m.id, "D10", [
            {"line_id": m.lines[0].id, "received_kg": 1_000, "refused_kg": 0}])
    assert exc.value.field == "method_code" and snapshot() == before


def test_a_discrepancy_needs_the_receivers_comment(generator, operator, order, carrier):
    m = shipped(generator, order, carrier, 1_000)
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        lifecycle.receive_manifest(operator, m.id, "R9", [
            {"line_id": m.lines[0].id, "received_kg": 1_000, "refused_kg": 10}])
    assert exc.value.field == "lines[0].comment" and snapshot() == before


def test_receiving_beyond_the_licence_capacity_raises_an_alert(generator, operator, carrier,
                                                                finance):
    from market.accounts.models import LicenceItem
    order = funded_order(generator.org, operator.org, finance, kg=2_000)
    with transaction():
        db.session.get(LicenceItem, order.licence_item_id).approved_kg_per_year = 500
    received(generator, operator, order, carrier, 1_000)
    alert = db.session.scalar(select(Alert).where(Alert.rule_id == "received_beyond_capacity"))
    assert alert is not None and alert.data["received_kg"] == 1_000


def test_carrier_permit_expired_on_the_shipping_date_refuses_the_signature(generator, order):
    carrier = carrier_user()
    m = draft(generator, order, carrier)
    from market.accounts.models import Permit
    with transaction():
        for p in db.session.scalars(select(Permit).where(Permit.org_id == carrier.org_id)):
            p.valid_to = date.today() - timedelta(days=1)
    before = snapshot()
    with pytest.raises(CarrierNotAllowed):
        lifecycle.sign_manifest(carrier, m.id, role="carrier")
    assert snapshot() == before
    assert db.session.scalar(select(Alert.rule_id)) == "carrier_permit_invalid"


def test_signatures_are_append_only(generator, order, carrier):
    m = shipped(generator, order, carrier)
    with pytest.raises(DBAPIError) as exc:
        with transaction():
            db.session.execute(ManifestSignature.__table__.delete()
                               .where(ManifestSignature.manifest_id == m.id))
    assert "append-only" in str(exc.value)


def test_a_disputed_discrepancy_goes_to_the_dispute_desk_and_is_resolved_there(
        generator, operator, order, carrier, admin):
    import io
    from market.escrow.dispute_models import Dispute
    from tests.escrow_factories import PDF
    m = received(generator, operator, order, carrier, 1_000, received_kg=900, comment="漏液")
    line = m.lines[0]
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:  # a dispute needs a reason
        lifecycle.decide_discrepancy(generator, m.id, line.id, "dispute", "")
    assert exc.value.field == "comment" and snapshot() == before
    d = lifecycle.decide_discrepancy(generator, m.id, line.id, "dispute", "磅单显示 1000 千克",
                                     [(io.BytesIO(PDF), "磅单.pdf")])
    dispute = db.session.get(Dispute, d.dispute_id)
    assert d.status == "disputed" and dispute.status == "open" and order.status == "disputed"
    from market.manifests.queries import open_discrepancies
    assert [x.id for x in open_discrepancies(order.id)] == [d.id]  # settlement waits
    held = {str(order.generator_id): 150_000, str(order.operator_id): 150_000}
    lifecycle.resolve_dispute(admin, dispute.id, held, "各担一半")
    assert d.status == "resolved" and open_discrepancies(order.id) == []


def test_a_dispute_waits_until_every_manifest_is_received(generator, operator, order, carrier):
    shipped(generator, order, carrier, 500)
    m = received(generator, operator, order, carrier, 1_000, received_kg=900, comment="漏液")
    assert order.status == "in_transfer"
    with pytest.raises(InvalidState) as exc:
        lifecycle.decide_discrepancy(generator, m.id, m.lines[0].id, "dispute", "不同意")
    assert exc.value.code == "not_received" and m.lines[0].discrepancy.status == "open"


def test_refused_waste_needs_a_recorded_destination(generator, operator, order, carrier):
    from market.manifests import receiving
    from market.manifests.queries import actions_for
    m = received(generator, operator, order, carrier, 1_000, refused_kg=100, comment="包装破损")
    d = m.lines[0].discrepancy
    assert d.kind == "refusal" and "record_refusal" in actions_for(m, generator)
    with pytest.raises(ValidationFailed) as exc:
        receiving.record_refusal(generator, m.id, m.lines[0].id, "new_destination",
                                 destination_org_id=generator.org_id)
    assert exc.value.field == "destination_org_id" and d.refusal_disposition is None
    receiving.record_refusal(operator, m.id, m.lines[0].id, "return", note="退回产废单位")
    assert d.refusal_disposition == "return" and "record_refusal" not in actions_for(m, generator)


def test_settlement_closes_the_received_manifests(generator, operator, order, carrier):
    from market.manifests import services
    m = received(generator, operator, order, carrier, 1_000)
    # the only manifest: the order settles at once (market.orders.settling), which closes it
    assert m.status == "closed" and m.closed_at is not None
    with transaction():
        assert services.close_received(order.id) == 0  # nothing left to close

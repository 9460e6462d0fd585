"""Sampling orders on the real database: labs, the lab's steps, results, refusals, the gate."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.contracts.models import Contract
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings.models import CapacityReservation
from market.listings.validation import today
from market.notifications.models import Notification
from market.orders import lifecycle
from market.orders.models import OrderLine
from market.sampling import gate, reporting, services as svc
from market.sampling.models import SamplingOrder, SamplingResult
from market.sampling.queries import accredited_labs, result_flags, sampling_role
from tests.factories import OrganisationFactory, PermitFactory, UserFactory
from tests.sampling_factories import PDF, accredited_lab, order_for, run_lab

COUNTED = (SamplingOrder, SamplingResult, OrderLine, Contract, AuditEvent, Notification)


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def snapshot() -> dict:
    db.session.expire_all()
    out = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    out["statuses"] = db.session.execute(select(SamplingOrder.id, SamplingOrder.status,
                                                SamplingOrder.fee_status)
                                         .order_by(SamplingOrder.id)).all()
    return out


def refused(exc_type, fn, *args, code=None, field=None, **kwargs):
    """fn raises exc_type with a message (and code/field), and nothing in the database changed."""
    db.session.commit()
    before = snapshot()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert snapshot() == before
    assert info.value.message
    if code is not None:
        assert info.value.code == code, info.value.code
    if field is not None:
        assert info.value.field == field, info.value.field
    return info.value


@pytest.fixture
def lab():
    return accredited_lab()


@pytest.fixture
def order(generator, operator):
    return order_for(generator, operator)


def active_reservation(order):
    return db.session.scalar(select(CapacityReservation).where(
        CapacityReservation.order_id == order.id, CapacityReservation.released_at.is_(None)))


# --- routing and requesting ----------------------------------------------------------------------

def test_orders_subject_to_sampling_wait_in_sampling_the_others_go_to_the_contract(generator, operator):
    with_test = order_for(generator, operator)
    without = order_for(generator, operator, sampling=False)
    assert with_test.status == "sampling"
    assert without.status == "contract_pending"
    assert db.session.scalar(select(Contract).where(Contract.order_id == without.id)) is not None
    assert db.session.scalar(select(Contract).where(Contract.order_id == with_test.id)) is None


def test_a_party_sends_the_order_to_an_accredited_lab(order, generator, operator, lab):
    so = svc.request_sampling(operator, order.id, lab_org_id=lab.org_id,
                              analytes=["Pb", "ph", "halogens", "ph"])
    assert (so.status, so.requested_by_role, so.analytes) == ("requested", "operator", ["ph", "halogens", "Pb"])
    assert so.number == f"{order.number}-S1" and so.quoted_price_fen_per_t == 180_000
    assert any(so.number in n.title for n in db.session.scalars(
        select(Notification).where(Notification.user_id == lab.id)))
    refused(Conflict, svc.request_sampling, generator, order.id, lab_org_id=lab.org_id,
            analytes=["ph"], code="sampling_exists")


def test_a_lab_without_valid_accreditation_is_refused(order, generator):
    expired = UserFactory(org=OrganisationFactory(types=["lab"]))
    PermitFactory(org=expired.org, kind="cma", valid_from=today() - timedelta(days=800),
                  valid_to=today() - timedelta(days=1))
    unverified = UserFactory(org=OrganisationFactory(types=["lab"]))
    PermitFactory(org=unverified.org, kind="cma", status="pending")
    transport_only = UserFactory(org=OrganisationFactory(types=["lab"]))
    PermitFactory(org=transport_only.org, kind="transport")
    for lab_user in (expired, unverified, transport_only):
        err = refused(PermissionDenied, svc.request_sampling, generator, order.id,
                      lab_org_id=lab_user.org_id, analytes=["ph"], code="lab_not_accredited",
                      field="lab_org_id")
        assert "CMA accreditation valid today" in err.message and lab_user.org.name in err.message
    assert {o.id for o, _p in accredited_labs()}.isdisjoint({expired.org_id, unverified.org_id,
                                                             transport_only.org_id})


def test_other_lab_choices_are_refused(order, generator, operator):
    not_a_lab = OrganisationFactory(types=["generator"])
    refused(ValidationFailed, svc.request_sampling, generator, order.id, lab_org_id=not_a_lab.id,
            analytes=["ph"], code="no_such_lab")
    suspended = accredited_lab()
    suspended.org.status = "suspended"
    refused(PermissionDenied, svc.request_sampling, generator, order.id, lab_org_id=suspended.org_id,
            analytes=["ph"], code="lab_not_verified")
    # the operator's own lab is not independent
    operator.org.types = ["operator", "lab"]
    PermitFactory(org=operator.org, kind="cma")
    refused(ValidationFailed, svc.request_sampling, generator, order.id, lab_org_id=operator.org_id,
            analytes=["ph"], code="lab_not_independent")


def test_analytes_come_from_the_list(order, generator, lab):
    err = refused(ValidationFailed, svc.request_sampling, generator, order.id, lab_org_id=lab.org_id,
                  analytes=["ph", "gold"], field="analytes")
    assert "gold" in err.message
    refused(ValidationFailed, svc.request_sampling, generator, order.id, lab_org_id=lab.org_id,
            analytes=[], field="analytes")
    refused(ValidationFailed, svc.request_sampling, generator, order.id, lab_org_id=lab.org_id,
            analytes="ph", field="analytes")


def test_only_the_parties_of_an_order_in_sampling_request(order, other_generator, lab, generator, operator):
    refused(NotFound, svc.request_sampling, other_generator, order.id, lab_org_id=lab.org_id, analytes=["ph"])
    plain = order_for(generator, operator, sampling=False)
    refused(InvalidState, svc.request_sampling, generator, plain.id, lab_org_id=lab.org_id,
            analytes=["ph"], code="order_not_sampling")


# --- the lab's steps -----------------------------------------------------------------------------

def test_the_lab_accepts_and_its_fee_becomes_a_line_due_to_it(order, generator, lab):
    so = run_lab(order, generator, lab, fee_fen=80_000, until="accepted")
    line = db.session.get(OrderLine, so.fee_line_id)
    assert (line.kind, line.payee_org_id, line.amount_fen, line.unit_price_fen_per_t) == (
        "sampling", lab.org_id, 80_000, None)
    assert (so.status, so.fee_status) == ("accepted", "due")
    assert order.total_fen == 900_000 + 50_000 + 80_000


def test_only_the_chosen_lab_works_the_order(order, generator, operator, lab):
    so = run_lab(order, generator, lab, until="requested")
    other_lab = accredited_lab()
    for outsider in (other_lab, generator, operator):
        refused(NotFound, svc.lab_accept, outsider, so.id, fee_fen=1)
    refused(ValidationFailed, svc.lab_accept, lab, so.id, fee_fen=-5, field="fee_fen")
    refused(InvalidState, svc.lab_collect, lab, so.id, collected_on=today(), sampler="x",
            custody_number="y", code="invalid_transition")


def test_accepting_rechecks_the_accreditation(order, generator, lab):
    so = run_lab(order, generator, lab, until="requested")
    permit = lab.org.permits[0]
    permit.valid_to = today() - timedelta(days=1)
    permit.valid_from = today() - timedelta(days=30)
    refused(PermissionDenied, svc.lab_accept, lab, so.id, fee_fen=100, code="lab_not_accredited")


def test_sampling_needs_date_sampler_and_custody_number(order, generator, lab):
    so = run_lab(order, generator, lab, until="accepted")
    refused(ValidationFailed, svc.lab_collect, lab, so.id, collected_on=today() + timedelta(days=2),
            sampler="王", custody_number="C1", field="collected_on")
    refused(ValidationFailed, svc.lab_collect, lab, so.id, collected_on=today(), sampler=" ",
            custody_number="C1", field="sampler")
    refused(ValidationFailed, svc.lab_collect, lab, so.id, collected_on=today(), sampler="王",
            custody_number="", field="custody_number")


def test_the_lab_reports_results_and_the_signed_pdf(order, generator, lab):
    so = run_lab(order, generator, lab)
    assert so.status == "reported" and so.reported_at and so.report_file
    assert reporting.report_path(so.report_file).read_bytes() == PDF
    values = {r.analyte: (str(r.value.normalize()), r.unit, r.method) for r in so.results}
    assert values == {"ph": ("7.2", "pH", "GB/T 15555.12"), "halogens": ("3.5", "%", "HJ 1082"),
                      "Pb": ("1.2E+2", "mg/kg", "HJ 781")}
    # halogens 3.5 % > 2 %: flagged against the declared profile (liquid, T + I)
    assert [(f.analyte, f.rule) for f in result_flags(so)] == [("halogens", "halogen_high")]


@pytest.mark.parametrize("analyte, value, words", [
    ("ph", "15", "between 0 and 14 pH"),
    ("ph", "-1", "between 0 and 14 pH"),
    ("halogens", "100.1", "between 0 and 100 %"),
    ("Pb", "-0.5", "between 0 and 1,000,000 mg/kg"),
    ("flash_point", "-60", "between -50 and 400 °C"),
    ("calorific_value", "61", "between 0 and 60 MJ/kg"),
])
def test_results_out_of_physical_range_are_refused(order, generator, lab, analyte, value, words):
    results = {analyte: {"value": value, "method": "GB/T x"}}
    so = run_lab(order, generator, lab, results=results, until="sample_collected")
    err = refused(ValidationFailed, reporting.report_results, lab, so.id, results=results, report=PDF,
                  code="out_of_range", field=f"results.{analyte}")
    assert "physically impossible" in err.message and words in err.message
    assert so.status == "sample_collected" and so.results == [] and so.report_file is None


def test_results_must_cover_the_request_with_numbers_and_methods(order, generator, lab):
    results = {"ph": {"value": "7", "method": "GB/T 15555.12"}, "water": {"value": "20", "method": "GB/T 2"}}
    so = run_lab(order, generator, lab, results=results, until="sample_collected")
    refused(ValidationFailed, reporting.report_results, lab, so.id, report=PDF,
            results={"ph": results["ph"]}, field="results.water")
    refused(ValidationFailed, reporting.report_results, lab, so.id, report=PDF,
            results={**results, "Hg": {"value": "1", "method": "x"}}, field="results")
    refused(ValidationFailed, reporting.report_results, lab, so.id, report=PDF,
            results={**results, "water": {"value": "lots", "method": "x"}}, field="results.water")
    refused(ValidationFailed, reporting.report_results, lab, so.id, report=PDF,
            results={**results, "water": {"value": "20", "method": " "}}, field="results.water.method")
    refused(ValidationFailed, reporting.report_results, lab, so.id, report=PDF,
            results={**results, "water": {"value": "20", "unit": "g/L", "method": "x"}},
            field="results.water")


@pytest.mark.parametrize("payload", [
    b"\x89PNG\r\n\x1a\n" + b"0" * 100,       # an image renamed to .pdf
    b"Hello, this is not a PDF %%EOF",        # text
    b"%PDF-1.4 truncated, no end marker",
    b"",
])
def test_a_non_pdf_report_is_refused(order, generator, lab, payload):
    so = run_lab(order, generator, lab, until="sample_collected")
    folder = reporting.report_path("x").parent
    files_before = set(folder.iterdir()) if folder.exists() else set()
    err = refused(ValidationFailed, reporting.report_results, lab, so.id,
                  results={"ph": {"value": "7", "method": "m"}, "halogens": {"value": "1", "method": "m"},
                           "Pb": {"value": "1", "method": "m"}}, report=payload, field="report")
    assert "PDF" in err.message
    assert (set(folder.iterdir()) if folder.exists() else set()) == files_before


def test_withdrawing_before_the_sample_voids_the_fee(order, generator, operator, lab):
    so = run_lab(order, generator, lab, until="accepted")
    svc.cancel_sampling(operator, so.id, "换一家检测机构")
    assert (so.status, so.fee_status, so.fee_line_id) == ("cancelled", "void", None)
    assert order.line("sampling") is None and order.status == "sampling"
    again = svc.request_sampling(generator, order.id, lab_org_id=lab.org_id, analytes=["ph"])
    assert again.number.endswith("-S2")
    svc.cancel_sampling(lab, again.id, "设备检修")
    assert again.status == "cancelled"


def test_once_the_sample_is_taken_it_cannot_be_withdrawn(order, generator, lab):
    so = run_lab(order, generator, lab, until="sample_collected")
    refused(InvalidState, svc.cancel_sampling, generator, so.id, "x", code="invalid_transition")


def test_cancelling_the_order_withdraws_a_test_not_yet_sampled(order, generator, lab):
    so = run_lab(order, generator, lab, until="accepted")
    lifecycle.cancel_order(generator, order.id, reason="项目取消")
    assert order.status == "cancelled"
    assert (so.status, so.fee_status, so.fee_line_id) == ("cancelled", "void", None)
    assert order.number in so.cancel_reason
    # the lab hears of it, and can no longer collect a sample for a dead order
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == lab.id, Notification.kind == "sampling.cancelled")) == 1
    refused(InvalidState, svc.lab_collect, lab, so.id, collected_on=today(), sampler="王",
            custody_number="COC-1", code="invalid_transition")


def test_cancelling_the_order_keeps_a_test_whose_sample_was_taken(order, generator, lab):
    so = run_lab(order, generator, lab, until="sample_collected")
    lifecycle.cancel_order(generator, order.id, reason="项目取消")
    assert (order.status, so.status, so.fee_status) == ("cancelled", "sample_collected", "due")


# --- the result gate -----------------------------------------------------------------------------

def test_an_unchanged_price_goes_straight_to_the_contract(order, generator, operator, lab):
    so = run_lab(order, generator, lab)
    lifecycle.confirm_price(operator, order.id, 180_000)
    assert order.status == "contract_pending"
    assert (so.status, so.price_decision, so.confirmed_price_fen_per_t) == ("closed", "confirmed", 180_000)
    assert db.session.scalar(select(Contract).where(Contract.order_id == order.id)) is not None


def test_a_changed_price_recomputes_the_lines_and_waits_for_the_generator(order, generator, operator, lab):
    so = run_lab(order, generator, lab)
    lifecycle.confirm_price(operator, order.id, 212_345)
    disposal = order.line("disposal")
    assert (disposal.unit_price_fen_per_t, disposal.amount_fen) == (212_345, 1_061_725)
    assert order.status == "price_confirmed" and so.price_decision == "changed"
    refused(PermissionDenied, lifecycle.respond_to_price, operator, order.id, accept=True)
    lifecycle.respond_to_price(generator, order.id, accept=True)
    assert order.status == "contract_pending" and so.generator_response == "accepted"
    refused(InvalidState, lifecycle.respond_to_price, generator, order.id, accept=False, code="no_price_change")


def test_the_generator_rejects_a_changed_price_and_the_order_is_cancelled(order, generator, operator, lab):
    so = run_lab(order, generator, lab, fee_fen=66_600)
    lifecycle.confirm_price(operator, order.id, 250_000)
    lifecycle.respond_to_price(generator, order.id, accept=False, reason="太贵")
    assert order.status == "cancelled" and active_reservation(order) is None
    assert (so.fee_status, order.line("sampling").amount_fen) == ("due", 66_600)


def test_declining_after_the_results_cancels_releases_capacity_and_keeps_the_lab_fee(order, generator, operator, lab):
    so = run_lab(order, generator, lab, fee_fen=80_000)
    assert active_reservation(order) is not None
    refused(ValidationFailed, lifecycle.decline_price, operator, order.id, " ", field="decline")
    lifecycle.decline_price(operator, order.id, "卤素超标，无法焚烧")
    assert order.status == "cancelled" and order.cancel_reason == "卤素超标，无法焚烧"
    assert active_reservation(order) is None
    assert (so.status, so.price_decision, so.fee_status) == ("closed", "declined", "due")
    line = order.line("sampling")
    assert (line.payee_org_id, line.amount_fen) == (lab.org_id, 80_000)
    assert any("remains payable" in n.shown_title for n in db.session.scalars(
        select(Notification).where(Notification.user_id == lab.id)))


def test_the_gate_opens_only_after_the_report_and_only_for_the_operator(order, generator, operator, lab):
    so = run_lab(order, generator, lab, until="sample_collected")
    refused(InvalidState, lifecycle.confirm_price, operator, order.id, 100, code="not_reported")
    refused(InvalidState, lifecycle.decline_price, operator, order.id, "x", code="not_reported")
    reporting.report_results(lab, so.id, results={"ph": {"value": "7", "method": "m"},
                                                 "halogens": {"value": "1", "method": "m"},
                                                 "Pb": {"value": "1", "method": "m"}}, report=PDF)
    refused(PermissionDenied, lifecycle.confirm_price, generator, order.id, 100, code="actor_not_allowed")
    refused(PermissionDenied, lifecycle.decline_price, generator, order.id, "x")
    refused(NotFound, lifecycle.confirm_price, lab, order.id, 100)
    refused(ValidationFailed, lifecycle.confirm_price, operator, order.id, "100", field="unit_price_fen_per_t")


def test_who_sees_a_sampling_order(order, generator, operator, lab, regulator, other_generator, admin):
    so = run_lab(order, generator, lab, until="requested")
    assert {sampling_role(u, so) for u in (generator, operator, lab, admin)} == {
        "generator", "operator", "lab", "admin"}
    assert sampling_role(regulator, so) == "regulator"  # the generator is in Shenzhen (4403)
    assert sampling_role(other_generator, so) is None
    assert sampling_role(accredited_lab(), so) is None

"""The sampling API: a test through the lab, results with the PDF, the price decision."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from market import db
from market.listings.models import CapacityReservation
from market.listings.validation import today
from market.sampling.models import SamplingOrder, SamplingResult
from tests.api.conftest import bearer, error_of
from tests.factories import OrganisationFactory, PermitFactory, UserFactory
from tests.sampling_factories import PDF, accredited_lab, order_for, run_lab


@pytest.fixture(autouse=True)
def english(client):
    """These tests read English messages; the default locale is Chinese."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


RESULTS = [{"analyte": "ph", "value": 6.5, "method": "GB/T 15555.12"},
           {"analyte": "water", "value": "35.5", "unit": "%", "method": "GB/T 2"}]


@pytest.fixture
def lab():
    return accredited_lab()


@pytest.fixture
def order(generator, operator):
    return order_for(generator, operator)


def results_body(pdf: bytes = PDF, results=None) -> dict:
    return {"results": results or RESULTS, "report_pdf_base64": base64.b64encode(pdf).decode()}


def test_the_whole_test_through_the_api(client, order, generator, operator, lab):
    resp = client.post(f"/api/v1/orders/{order.id}/sampling", headers=bearer(generator),
                       json={"lab_org_id": lab.org_id, "analytes": ["ph", "water"]})
    assert resp.status_code == 201, resp.get_json()
    sampling_id = resp.get_json()["id"]
    assert resp.get_json()["status"] == "requested"
    lab_h = bearer(lab)
    assert client.post(f"/api/v1/sampling/{sampling_id}/accept", headers=lab_h,
                       json={"fee_fen": 50_000}).get_json()["fee_status"] == "due"
    client.post(f"/api/v1/sampling/{sampling_id}/collect", headers=lab_h,
                json={"collected_on": today().isoformat(), "sampler": "李", "custody_number": "C-1"})
    resp = client.post(f"/api/v1/sampling/{sampling_id}/results", headers=lab_h, json=results_body())
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "reported"
    assert [(r["analyte"], r["value"], r["unit"]) for r in body["results"]] == [
        ("ph", "6.5", "pH"), ("water", "35.5", "%")]
    resp = client.post(f"/api/v1/orders/{order.id}/price", headers=bearer(operator),
                       json={"unit_price_fen_per_t": 190_000}, )
    assert resp.get_json()["status"] == "price_confirmed"
    resp = client.post(f"/api/v1/orders/{order.id}/price/answer", headers=bearer(generator),
                       json={"accept": True})
    assert resp.get_json()["status"] == "contract_pending"
    # the lab, a party and nobody else reads it
    assert client.get(f"/api/v1/sampling/{sampling_id}", headers=lab_h).status_code == 200
    assert client.get(f"/api/v1/sampling/{sampling_id}", headers=bearer(accredited_lab())).status_code == 404


def test_results_out_of_range_and_non_pdf_reports_are_422(client, order, generator, lab):
    so = run_lab(order, generator, lab, results={"ph": {}, "water": {}}, until="sample_collected")
    before = db.session.scalar(select(func.count()).select_from(SamplingResult))
    bad = [{"analyte": "ph", "value": 14.5, "method": "m"}, RESULTS[1]]
    resp = client.post(f"/api/v1/sampling/{so.id}/results", headers=bearer(lab), json=results_body(results=bad))
    assert resp.status_code == 422
    err = error_of(resp)
    assert (err["code"], err["field"]) == ("out_of_range", "results.ph") and "between 0 and 14" in err["message"]
    resp = client.post(f"/api/v1/sampling/{so.id}/results", headers=bearer(lab),
                       json=results_body(pdf=b"GIF89a not a pdf"))
    assert resp.status_code == 422 and error_of(resp)["code"] == "not_a_pdf"
    db.session.expire_all()
    assert so.status == "sample_collected"
    assert db.session.scalar(select(func.count()).select_from(SamplingResult)) == before


def test_an_unaccredited_lab_is_403_and_nothing_is_created(client, order, generator):
    unaccredited = UserFactory(org=OrganisationFactory(types=["lab"]))
    PermitFactory(org=unaccredited.org, kind="cma", status="pending")
    resp = client.post(f"/api/v1/orders/{order.id}/sampling", headers=bearer(generator),
                       json={"lab_org_id": unaccredited.org_id, "analytes": ["ph"]})
    assert resp.status_code == 403 and error_of(resp)["code"] == "lab_not_accredited"
    assert db.session.scalar(select(func.count()).select_from(SamplingOrder)) == 0


def test_declining_through_the_api(client, order, generator, operator, lab):
    so = run_lab(order, generator, lab, fee_fen=30_000)
    resp = client.post(f"/api/v1/orders/{order.id}/price", headers=bearer(operator),
                       json={"unit_price_fen_per_t": 1, "decline": "x"})
    assert resp.status_code == 422
    resp = client.post(f"/api/v1/orders/{order.id}/price", headers={**bearer(operator), "Idempotency-Key": "d1"},
                       json={"decline": "含汞过高"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    replay = client.post(f"/api/v1/orders/{order.id}/price", headers={**bearer(operator), "Idempotency-Key": "d1"},
                         json={"decline": "含汞过高"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json()["status"] == "cancelled"
    db.session.expire_all()
    assert db.session.scalar(select(CapacityReservation.released_at).where(
        CapacityReservation.order_id == order.id)) is not None
    assert (so.fee_status, order.line("sampling").amount_fen) == ("due", 30_000)


def test_the_generator_may_not_set_the_price(client, order, generator, lab):
    run_lab(order, generator, lab)
    resp = client.post(f"/api/v1/orders/{order.id}/price", headers=bearer(generator),
                       json={"unit_price_fen_per_t": 1})
    assert resp.status_code == 403 and error_of(resp)["code"] == "actor_not_allowed"


def test_an_analyte_reported_twice_is_refused_not_merged(client, order, generator, lab):
    so = run_lab(order, generator, lab, results={"ph": {}, "water": {}}, until="sample_collected")
    twice = [RESULTS[0], {**RESULTS[0], "value": 9.5}, RESULTS[1]]
    resp = client.post(f"/api/v1/sampling/{so.id}/results", headers=bearer(lab),
                       json=results_body(results=twice))
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["field"] == "results.ph" and "listed twice" in err["message"]
    db.session.expire_all()
    assert so.status == "sample_collected" and so.report_file is None
    assert db.session.scalar(select(func.count()).select_from(SamplingResult)) == 0

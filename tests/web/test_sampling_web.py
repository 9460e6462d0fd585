"""Sampling through the web: the parties' panel, the lab's pages, uploads, the gate, who sees what."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.listings.validation import today
from market.orders.models import OrderLine
from market.sampling.models import SamplingOrder, SamplingResult
from tests.factories import PASSWORD, OrganisationFactory, PermitFactory, UserFactory
from tests.sampling_factories import PDF, accredited_lab, order_for, run_lab


def as_user(client, user):
    """Log in through the form, in English."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    return client


def text(resp) -> str:
    body = re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))
    body = body.replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')
    return re.sub(r"\s+", " ", body)


def rows() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (SamplingOrder, SamplingResult, OrderLine, AuditEvent))


@pytest.fixture
def lab():
    return accredited_lab()


@pytest.fixture
def order(generator, operator):
    return order_for(generator, operator)


def test_a_party_chooses_an_accredited_lab_and_the_analytes(client, order, generator, lab):
    lapsed = UserFactory(org=OrganisationFactory(types=["lab"], name="过期检测有限公司"))
    PermitFactory(org=lapsed.org, kind="cma", status="rejected")
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}/sampling")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert lab.org.name in html and "过期检测有限公司" not in html
    assert "Lead (Pb) (mg/kg)" in html
    zh = client.get(f"/orders/{order.id}/sampling", headers={"Accept-Language": "zh-CN"})
    assert "铅（Pb） (mg/kg)" in zh.get_data(as_text=True)  # the analyte names follow the language
    resp = client.post(f"/orders/{order.id}/sampling",
                       data={"lab_org_id": lab.org_id, "analytes": ["ph", "halogens"]},
                       follow_redirects=True)
    assert "The sampling order was sent to the laboratory." in text(resp)
    so = db.session.scalars(select(SamplingOrder)).one()
    assert (so.lab_id, so.analytes, so.status) == (lab.org_id, ["ph", "halogens"], "requested")


def test_an_unaccredited_lab_is_refused_with_a_clear_message(client, order, generator):
    lapsed = UserFactory(org=OrganisationFactory(types=["lab"], name="过期检测有限公司"))
    PermitFactory(org=lapsed.org, kind="cma", valid_from=date(2020, 1, 1), valid_to=date(2021, 1, 1))
    as_user(client, generator)
    before = rows()
    resp = client.post(f"/orders/{order.id}/sampling", data={"lab_org_id": lapsed.org_id,
                                                             "analytes": ["ph"]}, follow_redirects=True)
    assert "过期检测有限公司 holds no verified CMA accreditation valid today" in text(resp)
    assert rows() == before


def test_the_lab_accepts_samples_and_reports_with_its_pdf(client, order, generator, operator, lab):
    so = run_lab(order, generator, lab, until="requested")
    as_user(client, lab)
    assert so.number in client.get("/sampling").get_data(as_text=True)
    assert 'data-testid="accept-form"' in client.get(f"/sampling/{so.id}").get_data(as_text=True)
    resp = client.post(f"/sampling/{so.id}/accept", data={"fee": "1,200.50".replace(",", "")},
                       follow_redirects=True)
    assert "Accepted" in text(resp)
    db.session.expire_all()
    assert (order.line("sampling").amount_fen, order.line("sampling").payee_org_id) == (120_050, lab.org_id)
    client.post(f"/sampling/{so.id}/collect", data={"collected_on": today().isoformat(),
                                                    "sampler": "王采样", "custody_number": "COC-9"})
    form = {"value_ph": "7.2", "method_ph": "GB/T 15555.12", "value_halogens": "3.5",
            "method_halogens": "HJ 1082", "value_Pb": "120", "method_Pb": "HJ 781",
            "report": (io.BytesIO(PDF), "report.pdf")}
    resp = client.post(f"/sampling/{so.id}/results", data=form, content_type="multipart/form-data",
                       follow_redirects=True)
    assert "Results reported" in text(resp)
    db.session.expire_all()
    assert so.status == "reported"
    assert client.get(f"/sampling/{so.id}/report.pdf").data == PDF
    # the parties see the results against the declared profile, the halogens flagged
    client.post("/logout")
    as_user(client, operator)
    page = client.get(f"/orders/{order.id}/sampling")
    assert "Halogens 3.5 % exceed 2 %" in text(page)
    assert "Declared profile liquid · toxicity (T), ignitability (I)" in text(page)
    assert 'data-testid="price-gate"' in page.get_data(as_text=True)


@pytest.mark.parametrize("upload, message", [
    ((io.BytesIO(b"\x89PNG\r\n\x1a\n0000"), "report.pdf"), "The report must be a PDF file"),
    (None, "Attach the signed report as a PDF file."),
])
def test_a_non_pdf_report_is_refused_and_the_typed_values_stay(client, order, generator, lab, upload, message):
    so = run_lab(order, generator, lab, until="sample_collected")
    as_user(client, lab)
    before = rows()
    form = {"value_ph": "7.2", "method_ph": "GB/T 15555.12", "value_halogens": "1", "method_halogens": "m",
            "value_Pb": "1", "method_Pb": "m"}
    if upload:
        form["report"] = upload
    resp = client.post(f"/sampling/{so.id}/results", data=form, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert message in text(resp) and 'value="GB/T 15555.12"' in resp.get_data(as_text=True)
    assert rows() == before


def test_an_impossible_value_is_shown_next_to_its_field(client, order, generator, lab):
    so = run_lab(order, generator, lab, until="sample_collected")
    as_user(client, lab)
    before = rows()
    resp = client.post(f"/sampling/{so.id}/results", content_type="multipart/form-data", data={
        "value_ph": "15", "method_ph": "m", "value_halogens": "1", "method_halogens": "m",
        "value_Pb": "1", "method_Pb": "m", "report": (io.BytesIO(PDF), "r.pdf")})
    assert resp.status_code == 422
    assert re.search(r'data-field="value_ph">[^<]*ph 15 pH is physically impossible: it must be between 0 and 14 pH',
                     resp.get_data(as_text=True))
    assert rows() == before


def test_price_gate_through_the_forms(client, order, generator, operator, lab):
    run_lab(order, generator, lab)
    as_user(client, operator)
    resp = client.post(f"/orders/{order.id}/price", data={"action": "confirm", "unit_price": "2100.00"},
                       follow_redirects=True)
    assert "Price confirmed." in text(resp)
    client.post("/logout")
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}/sampling")
    assert "From ¥1,800.00 to ¥2,100.00 per tonne." in text(page)
    resp = client.post(f"/orders/{order.id}/price/answer", data={"answer": "accept"}, follow_redirects=True)
    assert "You accepted the new price" in text(resp)
    db.session.expire_all()
    assert order.status == "contract_pending"


def test_declining_through_the_form_needs_a_reason(client, order, generator, operator, lab):
    run_lab(order, generator, lab)
    as_user(client, operator)
    before = rows()
    resp = client.post(f"/orders/{order.id}/price", data={"action": "decline", "decline": ""},
                       follow_redirects=True)
    assert "This field is required." in text(resp) and rows() == before
    resp = client.post(f"/orders/{order.id}/price", data={"action": "decline", "decline": "卤素过高"},
                       follow_redirects=True)
    assert "the lab's fee remains payable" in text(resp)
    db.session.expire_all()
    assert order.status == "cancelled"


def test_who_sees_the_sampling_pages(client, order, generator, lab, regulator, other_generator):
    so = run_lab(order, generator, lab, until="accepted")
    other_lab = accredited_lab()
    for outsider in (other_lab, other_generator):
        as_user(client, outsider)
        assert client.get(f"/sampling/{so.id}").status_code == 404
        assert client.get(f"/orders/{order.id}/sampling").status_code == 404
        assert so.number not in client.get("/sampling").get_data(as_text=True)
        client.post("/logout")
    # the lab sees its sampling order, never the order's own pages
    as_user(client, lab)
    assert client.get(f"/sampling/{so.id}").status_code == 200
    assert client.get(f"/orders/{order.id}/sampling").status_code == 404
    assert client.get(f"/orders/{order.id}/contract").status_code == 404
    client.post("/logout")
    # a regulator of the generator's region reads, without a single form, and cannot write
    as_user(client, regulator)
    for url in (f"/sampling/{so.id}", f"/orders/{order.id}/sampling"):
        resp = client.get(url)
        assert resp.status_code == 200 and "Read-only view for oversight." in text(resp)
        assert "<form method=\"post\" action=\"/sampling" not in resp.get_data(as_text=True)
    before = rows()
    assert client.post(f"/sampling/{so.id}/cancel", data={"reason": "x"}).status_code == 403
    assert rows() == before


def test_a_party_cannot_do_the_labs_work(client, order, generator, lab):
    so = run_lab(order, generator, lab, until="requested")
    as_user(client, generator)
    before = rows()
    resp = client.post(f"/sampling/{so.id}/accept", data={"fee": "1"}, follow_redirects=True)
    assert "Only the laboratory of this sampling order may do this." in text(resp)
    assert rows() == before

"""Sampling and signing in a real browser (issue 4's acceptance).

The demo market: 深圳市华芯电子制造有限公司 (gen1) awarded a quote subject to sampling to
东莞市绿源再生资源有限公司 (op1); 深圳市谱测检测技术有限公司 (lab) tests the waste. Documents jobs
run with an rq SimpleWorker on the real Redis, as the documents worker would.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.contracts.models import Contract, ContractDocument, Signature
from market.demo import DEMO_PASSWORD, seed
from market.jobs.core import redis_connection
from market.listings.models import CapacityReservation
from market.listings.quotes import submit_quote
from market.orders.lifecycle import accept_quote
from market.listings.services import create_request
from market.listings.validation import today
from market.orders.models import Order
from market.sampling.models import SamplingOrder
from tests.sampling_factories import PDF
from tests.e2e.conftest import confirm

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def user(login: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{login}@demo.hazex.cn"))


def order_subject_to_sampling() -> Order:
    """gen1 asks for disposal of waste mineral oil; op1 quotes ¥1,800/t subject to sampling; awarded."""
    gen, op = user("gen1"), user("op1")
    req = create_request(gen, category="HW08", waste_code="900-214-08", description="废矿物油，200 L 铁桶装",
                         form="liquid", packaging="200 L 铁桶", hazards=["T", "I"], quantity_kg=8_000,
                         region_code=gen.org.region_code, address=gen.org.address,
                         window_start=today() + timedelta(days=7), window_end=today() + timedelta(days=37))
    quote = submit_quote(op, req.id, unit_price_fen_per_t=180_000, transport_fee_fen=60_000,
                         valid_until=today() + timedelta(days=14), subject_to_sampling=True, note="")
    return accept_quote(gen, quote.id)


def log_in(page_for, locale: str, login: str):
    page = page_for(locale)
    page.goto("/login")
    page.fill("input[name=email]", f"{login}@demo.hazex.cn")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page


def run_documents_jobs() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("documents", connection=conn)], connection=conn).work(burst=True)
    db.session.remove()


def request_and_report(page_for, locale: str, order: Order) -> None:
    """The generator sends the waste to the lab; the lab accepts, samples and reports with its PDF."""
    generator = log_in(page_for, locale, "gen1")
    generator.goto(f"/orders/{order.id}/sampling")
    lab_org = user("lab").org
    generator.select_option("select[name=lab_org_id]", str(lab_org.id))
    for analyte in ("ph", "halogens", "Pb"):
        generator.check(f"input[name=analytes][value={analyte}]")
    generator.get_by_test_id("request-sampling-button").click()
    assert generator.get_by_test_id("sampling-order").get_attribute("data-status") == "requested"
    generator.context.close()

    lab = log_in(page_for, locale, "lab")
    lab.goto("/sampling")
    lab.locator("[data-testid=sampling-row] a").first.click()
    lab.wait_for_url(re.compile(r".*/sampling/\d+$"))
    lab.fill("input[name=fee]", "800")
    lab.get_by_test_id("accept-button").click()
    assert lab.get_by_test_id("sampling-detail").get_attribute("data-status") == "accepted"
    lab.fill("input[name=collected_on]", today().isoformat())
    lab.fill("input[name=sampler]", "吴静怡")
    lab.fill("input[name=custody_number]", "COC-SZ-0001")
    lab.get_by_test_id("collect-button").click()
    assert lab.get_by_test_id("sampling-detail").get_attribute("data-status") == "sample_collected"
    for analyte, value, method in (("ph", "6.8", "GB/T 15555.12"), ("halogens", "3.1", "HJ 1082"),
                                   ("Pb", "85", "HJ 781")):
        lab.fill(f"input[name=value_{analyte}]", value)
        lab.fill(f"input[name=method_{analyte}]", method)
    lab.set_input_files("input[name=report]", files=[
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    lab.get_by_test_id("results-button").click()
    assert lab.get_by_test_id("sampling-detail").get_attribute("data-status") == "reported"
    assert lab.get_by_test_id("result").count() == 3
    lab.context.close()


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "contract.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(out.split())


def sign(page_for, locale: str, login: str, order: Order):
    page = log_in(page_for, locale, login)
    page.goto(f"/orders/{order.id}/contract")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_test_id("sign-button").click()
    confirm(page)
    page.wait_for_url(f"**/orders/{order.id}/contract")
    return page


def test_sampling_price_change_contract_and_both_signatures(csrf_app, page_for, tmp_path):
    seed()
    order = order_subject_to_sampling()
    assert order.status == "sampling"
    request_and_report(page_for, "zh-CN", order)

    # the operator sees the halogens flagged against the declared profile and raises the price
    operator = log_in(page_for, "zh-CN", "op1")
    operator.goto(f"/orders/{order.id}/sampling")
    assert operator.get_by_test_id("result-flag").count() == 1
    operator.fill("input[name=unit_price]", "2100")
    operator.get_by_test_id("confirm-price-button").click()
    assert operator.get_by_test_id("order-status").get_attribute("data-status") == "price_confirmed"
    operator.context.close()

    # the generator accepts the new price: the contract is produced by the documents worker
    generator = log_in(page_for, "zh-CN", "gen1")
    generator.goto(f"/orders/{order.id}/sampling")
    assert "¥2,100.00" in generator.get_by_test_id("price-change").inner_text()
    generator.get_by_test_id("accept-price-button").click()
    generator.get_by_test_id("contract-link").click()
    generator.wait_for_url(f"**/orders/{order.id}/contract")
    assert generator.get_by_test_id("document-pending").is_visible()
    run_documents_jobs()
    # the page refreshes by itself and offers the PDF
    generator.get_by_test_id("document-link").wait_for(timeout=15_000)
    pdf = generator.request.get(generator.get_by_test_id("document-link").get_attribute("href")).body()
    text = pdf_text(pdf, tmp_path)
    gen_name, op_name = user("gen1").org.name, user("op1").org.name
    # 8 t × ¥2,100 + ¥600 transport + ¥800 sampling = ¥18,200.00
    assert gen_name in text and op_name in text and "人民币壹万捌仟贰佰元整" in text
    generator.context.close()

    sign(page_for, "zh-CN", "gen1", order).context.close()
    operator = sign(page_for, "zh-CN", "op1", order)
    assert operator.get_by_test_id("order-status").get_attribute("data-status") == "contract_signed"
    assert operator.get_by_test_id("signature").count() == 2

    db.session.remove()
    signed = db.session.get(Order, order.id)
    assert signed.status == "contract_signed"
    sha = {s.sha256 for s in db.session.scalars(select(Signature))}
    assert sha == {hashlib.sha256(pdf).hexdigest()}

    # the signed copy with its signature page, then verification by upload
    run_documents_jobs()
    operator.reload()
    final = operator.locator("[data-testid=document][data-kind=final] [data-testid=document-link]")
    final.wait_for()
    final_pdf = operator.request.get(final.get_attribute("href")).body()
    assert "电子签署页" in pdf_text(final_pdf, tmp_path)
    operator.goto("/contracts/verify")
    operator.set_input_files("input[name=pdf]", files=[
        {"name": "c.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    operator.get_by_test_id("verify-button").click()
    assert operator.get_by_test_id("verify-signature").count() == 2
    tampered = bytearray(pdf)
    tampered[100] ^= 1
    operator.set_input_files("input[name=pdf]", files=[
        {"name": "c.pdf", "mimeType": "application/pdf", "buffer": bytes(tampered)}])
    operator.get_by_test_id("verify-button").click()
    assert operator.get_by_test_id("verify-no-match").is_visible()


def test_declining_after_sampling_releases_capacity_and_the_lab_is_still_owed(csrf_app, page_for):
    seed()
    order = order_subject_to_sampling()
    request_and_report(page_for, "en", order)

    operator = log_in(page_for, "en", "op1")
    operator.goto(f"/orders/{order.id}/sampling")
    operator.fill("textarea[name=decline]", "Halogens above our incinerator's limit")
    operator.get_by_test_id("decline-button").click()
    assert operator.get_by_test_id("order-status").get_attribute("data-status") == "cancelled"
    assert operator.get_by_test_id("price-decision").inner_text() == "declined by the operator"
    operator.context.close()

    lab = log_in(page_for, "en", "lab")
    lab.goto("/sampling")
    lab.locator("[data-testid=sampling-row] a").first.click()
    assert "remains payable" in lab.get_by_test_id("sampling-detail").inner_text()
    assert lab.get_by_test_id("fee-status").get_attribute("data-status") == "due"

    db.session.remove()
    cancelled = db.session.get(Order, order.id)
    assert cancelled.status == "cancelled"
    reservation = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert reservation.released_at is not None
    line = cancelled.line("sampling")
    so = db.session.scalar(select(SamplingOrder).where(SamplingOrder.order_id == order.id))
    assert (line.payee_org_id, line.amount_fen, so.fee_status) == (user("lab").org_id, 80_000, "due")
    assert db.session.scalar(select(Contract).where(Contract.order_id == order.id)) is None
    assert db.session.scalar(select(ContractDocument)) is None

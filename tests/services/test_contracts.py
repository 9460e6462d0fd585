"""Contracts on the real database: PDFs with Chinese text, signatures over their SHA-256,
verification, refusals, revisions, and the documents job with its retries."""
from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta

import pytest
from flask_babel import force_locale
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from market import db
from market.audit.models import AuditEvent
from market.contracts import jobs as contract_jobs
from market.contracts import revisions, services as svc
from market.contracts.capital import amount_in_capitals
from market.contracts.models import (Contract, ContractDocument, ContractRevision, ContractVersion,
                                     Signature)
from market.contracts.queries import unsigned_version, verify
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.jobs.core import redis_connection
from market.jobs.models import OutboxJob
from market.listings.models import CapacityReservation
from market.notifications.models import Notification
from market.listings.validation import today
from market.orders import lifecycle
from market.orders.models import Order
from tests.factories import PASSWORD
from tests.sampling_factories import accredited_lab, order_for, render_all, run_lab

COUNTED = (Contract, ContractVersion, ContractDocument, Signature, ContractRevision, AuditEvent, OutboxJob)


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def snapshot() -> dict:
    db.session.expire_all()
    out = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    out["orders"] = db.session.execute(select(Order.id, Order.status, Order.quantity_kg).order_by(Order.id)).all()
    out["versions"] = db.session.execute(select(ContractVersion.id, ContractVersion.status)
                                         .order_by(ContractVersion.id)).all()
    return out


def refused(exc_type, fn, *args, code=None, **kwargs):
    db.session.commit()
    before = snapshot()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert snapshot() == before
    assert info.value.message
    if code is not None:
        assert info.value.code == code, info.value.code
    return info.value


def contract(order) -> Contract:
    db.session.expire_all()
    return svc.contract_of(order.id)


def pdf_of(order, kind="draft", version=None) -> bytes:
    c = contract(order)
    v = c.current if version is None else c.versions[version - 1]
    doc = db.session.scalar(select(ContractDocument).where(ContractDocument.version_id == v.id,
                                                           ContractDocument.kind == kind))
    assert doc is not None and doc.status == "ready", doc and doc.error
    return doc.pdf


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdffonts(data: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


@pytest.fixture
def plain(generator, operator):
    """An order without sampling: contract_pending, its PDF rendered."""
    order = order_for(generator, operator, sampling=False, quantity_kg=5_000, price=123_457,
                      transport=50_000)
    render_all()
    return order


@pytest.fixture
def signed(plain, generator, operator):
    lifecycle.sign_contract(generator, plain.id, PASSWORD, ip="10.0.0.1")
    lifecycle.sign_contract(operator, plain.id, PASSWORD, ip="10.0.0.2")
    render_all()
    return plain


# --- the PDF -------------------------------------------------------------------------------------

def test_the_pdf_has_the_chinese_parties_the_capital_amount_and_an_embedded_cjk_font(plain, tmp_path):
    data = pdf_of(plain)
    assert data.startswith(b"%PDF-")
    words = pdftotext(data, tmp_path)
    flat = "".join(words.split())
    total = 617_285 + 50_000  # 123,457 fen/t × 5,000 kg, round half even; transport 500 yuan
    assert plain.generator.name in flat and plain.operator.name in flat
    assert amount_in_capitals(total) == "陆仟陆佰柒拾贰元捌角伍分"
    assert "人民币陆仟陆佰柒拾贰元捌角伍分" in flat
    assert "¥6,672.85" in flat and "¥1,234.57" in flat
    for needle in (plain.generator.credit_code, plain.operator.credit_code, "粤危废测试",
                   "±5%", "资金托管", "退还付款方", "争议", "危险废物委托处置合同"):
        assert needle in flat, needle
    fonts = pdffonts(data, tmp_path)
    cjk = [f for f in fonts if "CJK" in f[0]]
    assert cjk and all(f[-5] == "yes" for f in cjk), fonts  # the "emb" column
    assert all(f[-5] == "yes" for f in fonts)


def test_the_contract_terms_are_frozen_in_the_version(plain):
    v = contract(plain).current
    assert (v.version, v.status, v.terms["quantity_kg"], v.terms["total_fen"]) == (
        1, "pending_signatures", 5_000, 667_285)
    assert v.terms["window_start"] == (today() + timedelta(days=7)).isoformat()
    assert v.terms["sampling"] is None


def test_a_sampling_summary_is_in_the_contract(generator, operator, tmp_path):
    lab = accredited_lab()
    order = order_for(generator, operator)
    run_lab(order, generator, lab)
    lifecycle.confirm_price(operator, order.id, 200_000)
    lifecycle.respond_to_price(generator, order.id, accept=True)
    render_all()
    flat = "".join(pdftotext(pdf_of(order), tmp_path).split())
    for needle in ("检测结果摘要", lab.org.name, "COC-2026-0001", "卤素含量", "HJ1082", "超出申报特性",
                   "¥1,800.00/吨调整为¥2,000.00/吨", "检测费"):
        assert needle in flat, needle


# --- signing -------------------------------------------------------------------------------------

def test_both_parties_sign_the_same_bytes_and_the_order_is_contract_signed(plain, generator, operator, tmp_path):
    data = pdf_of(plain)
    digest = hashlib.sha256(data).hexdigest()
    lifecycle.sign_contract(generator, plain.id, PASSWORD, ip="10.0.0.1", sha256=digest)
    assert plain.status == "contract_pending"
    lifecycle.sign_contract(operator, plain.id, PASSWORD, ip="10.0.0.2")
    assert plain.status == "contract_signed"
    sigs = contract(plain).current.signatures
    assert [(s.party, s.org_id, s.user_id, s.ip, s.sha256) for s in sigs] == [
        ("generator", generator.org_id, generator.id, "10.0.0.1", digest),
        ("operator", operator.org_id, operator.id, "10.0.0.2", digest)]
    assert all(s.signed_at for s in sigs) and contract(plain).current.status == "signed"
    render_all()
    final = pdf_of(plain, "final")
    assert final != data
    flat = "".join(pdftotext(final, tmp_path).split())
    assert "电子签署页" in flat and digest in flat and "10.0.0.2" in flat and generator.name in flat


def test_after_both_signatures_the_payer_is_asked_to_pay_with_a_link(plain, generator, operator):
    lifecycle.sign_contract(generator, plain.id, PASSWORD)
    assert not db.session.scalars(select(Notification).where(
        Notification.kind == "escrow.payment_due")).all()
    lifecycle.sign_contract(operator, plain.id, PASSWORD)
    due = db.session.scalars(select(Notification).where(Notification.kind == "escrow.payment_due")).all()
    assert {n.user_id for n in due} == {generator.id}  # the generator pays the disposal fee
    assert due[0].link == f"/orders/{plain.id}/payment" and plain.number in due[0].title


def test_signing_twice_is_refused(plain, generator):
    lifecycle.sign_contract(generator, plain.id, PASSWORD)
    err = refused(Conflict, lifecycle.sign_contract, generator, plain.id, PASSWORD, code="already_signed")
    assert "already signed" in err.message


def test_signing_someone_elses_contract_is_refused(plain, other_generator, lab_user_of_nothing,
                                                   regulator, admin):
    refused(NotFound, lifecycle.sign_contract, other_generator, plain.id, PASSWORD)
    refused(NotFound, lifecycle.sign_contract, lab_user_of_nothing, plain.id, PASSWORD)
    refused(PermissionDenied, lifecycle.sign_contract, regulator, plain.id, PASSWORD, code="not_a_party")
    refused(PermissionDenied, lifecycle.sign_contract, admin, plain.id, PASSWORD, code="not_a_party")


@pytest.fixture
def lab_user_of_nothing():
    return accredited_lab()


def test_a_wrong_password_or_a_changed_pdf_signs_nothing(plain, generator):
    err = refused(PermissionDenied, lifecycle.sign_contract, generator, plain.id, "wrong-password",
                  code="wrong_password")
    assert err.field == "password"
    refused(ValidationFailed, lifecycle.sign_contract, generator, plain.id, "")
    refused(Conflict, lifecycle.sign_contract, generator, plain.id, PASSWORD, sha256="0" * 64,
            code="document_changed")


def test_nothing_is_signed_before_the_pdf_exists(generator, operator):
    order = order_for(generator, operator, sampling=False)
    refused(InvalidState, lifecycle.sign_contract, generator, order.id, PASSWORD, code="document_not_ready")
    sampling_order = order_for(generator, operator)
    refused(InvalidState, lifecycle.sign_contract, generator, sampling_order.id, PASSWORD, code="no_contract")


def test_a_signed_contract_cannot_be_signed_again(signed, operator):
    refused(InvalidState, lifecycle.sign_contract, operator, signed.id, PASSWORD, code="contract_signed")


# --- verification --------------------------------------------------------------------------------

def test_verification_names_the_contract_version_and_signatures_and_one_byte_breaks_it(signed):
    draft, final = pdf_of(signed), pdf_of(signed, "final")
    number = contract(signed).number
    [m] = verify(hashlib.sha256(draft).hexdigest())
    assert (m.contract_number, m.version, m.kind, m.version_status) == (number, 1, "draft", "signed")
    assert {s.party for s in m.signatures} == {"generator", "operator"}
    [f] = verify(hashlib.sha256(final).hexdigest())
    assert (f.kind, len(f.signatures)) == ("final", 2)
    for position in (0, len(draft) // 2, len(draft) - 1):
        tampered = bytearray(draft)
        tampered[position] ^= 0x01
        assert verify(hashlib.sha256(bytes(tampered)).hexdigest()) == []


def test_signed_documents_and_signatures_cannot_be_altered_in_the_database(signed):
    doc_id = db.session.scalar(select(ContractDocument.id).where(ContractDocument.kind == "draft"))
    sig_id = db.session.scalar(select(Signature.id).limit(1))
    version_id = contract(signed).current.id
    for statement in (f"UPDATE contract_document SET pdf = 'x' WHERE id = {doc_id}",
                      f"UPDATE contract_document SET sha256 = repeat('0', 64) WHERE id = {doc_id}",
                      f"DELETE FROM contract_document WHERE id = {doc_id}",
                      f"UPDATE contract_signature SET sha256 = repeat('0', 64) WHERE id = {sig_id}",
                      f"DELETE FROM contract_signature WHERE id = {sig_id}",
                      f"UPDATE contract_version SET terms = '{{}}' WHERE id = {version_id}"):
        with pytest.raises(DBAPIError, match="append-only|immutable|never deleted|frozen"):
            with db.session.begin_nested():
                db.session.execute(text(statement))


# --- revisions -----------------------------------------------------------------------------------

def test_proposing_a_revision_on_an_unsigned_contract_is_refused(plain, generator, operator):
    err = refused(InvalidState, revisions.propose_revision, generator, plain.id, quantity_kg=6_000,
                  code="contract_unsigned")
    assert "Only a signed contract can be revised" in err.message
    lifecycle.sign_contract(generator, plain.id, PASSWORD)
    refused(InvalidState, revisions.propose_revision, operator, plain.id, quantity_kg=6_000,
            code="contract_unsigned")


def test_an_accepted_revision_is_a_new_version_both_sign_again(signed, generator, operator, tmp_path):
    v1_final = pdf_of(signed, "final")
    rev = revisions.propose_revision(operator, signed.id, quantity_kg=6_000,
                                     window_end=today() + timedelta(days=60), reason="产量增加")
    refused(PermissionDenied, revisions.accept_revision, operator, rev.id, code="own_revision")
    refused(Conflict, revisions.propose_revision, generator, signed.id, quantity_kg=7_000,
            code="revision_open")
    v2 = revisions.accept_revision(generator, rev.id)
    assert (v2.version, v2.status, v2.terms["quantity_kg"]) == (2, "pending_signatures", 6_000)
    assert v2.terms["window_end"] == (today() + timedelta(days=60)).isoformat()
    assert v2.terms["lines"][0]["amount_fen"] == 740_742  # 123,457 × 6 t, half-even
    # the order keeps its signed terms until both sign version 2 (funding should wait for it)
    assert (signed.status, signed.quantity_kg) == ("contract_signed", 5_000)
    assert unsigned_version(signed.id).id == v2.id
    render_all()
    assert "".join(pdftotext(pdf_of(signed), tmp_path).split()).count("第2版") >= 1
    lifecycle.sign_contract(operator, signed.id, PASSWORD)
    lifecycle.sign_contract(generator, signed.id, PASSWORD)
    c = contract(signed)
    assert [v.status for v in c.versions] == ["superseded", "signed"]
    assert unsigned_version(signed.id) is None
    order = db.session.get(Order, signed.id)
    assert (order.status, order.quantity_kg, order.line("disposal").amount_fen) == (
        "contract_signed", 6_000, 740_742)
    res = db.session.scalar(select(CapacityReservation).where(CapacityReservation.order_id == order.id))
    assert res.kg == 6_000
    assert pdf_of(order, "final", version=1) == v1_final  # the signed version never changes
    render_all()
    assert [r.status for r in c.revisions] == ["accepted"]


def test_a_rejected_revision_leaves_the_signed_version_in_force(signed, generator, operator):
    rev = revisions.propose_revision(generator, signed.id, window_start=today() + timedelta(days=10),
                                     window_end=today() + timedelta(days=20))
    revisions.reject_revision(operator, rev.id, "不同意")
    assert rev.status == "rejected" and len(contract(signed).versions) == 1
    refused(InvalidState, revisions.accept_revision, operator, rev.id, code="revision_rejected")


def test_a_revision_must_change_something_and_fit_the_licence(signed, generator):
    refused(ValidationFailed, revisions.propose_revision, generator, signed.id, quantity_kg=5_000,
            code="no_change")
    refused(ValidationFailed, revisions.propose_revision, generator, signed.id, quantity_kg=0)
    refused(Conflict, revisions.propose_revision, generator, signed.id, quantity_kg=2_000_000,
            code="capacity_exhausted")


# --- the documents job ---------------------------------------------------------------------------

def test_the_render_job_runs_on_the_documents_queue_after_commit(generator, operator, redis_conn):
    order = order_for(generator, operator, sampling=False)
    doc = contract(order).current.document("draft")
    queue = Queue("documents", connection=redis_conn)
    assert doc.status == "pending" and queue.count == 1
    rq_job = Job.fetch(queue.job_ids[0], connection=redis_conn)
    assert rq_job.args == ("market.contracts.jobs.render_contract_document", doc.id)
    assert rq_job.retries_left == 3
    SimpleWorker([queue], connection=redis_connection()).work(burst=True)
    db.session.expire_all()
    doc = db.session.get(ContractDocument, doc.id)
    assert doc.status == "ready" and doc.sha256 == hashlib.sha256(doc.pdf).hexdigest()
    assert contract_jobs.render_contract_document(doc.id) == "skipped"  # idempotent


def test_a_failing_render_is_retried_then_failed_with_an_error_the_parties_can_act_on(
        generator, operator, other_generator, redis_conn, monkeypatch):
    order = order_for(generator, operator, sampling=False)
    doc_id = contract(order).current.document("draft").id

    def broken(doc):
        raise OSError("font cache unavailable")
    monkeypatch.setattr(contract_jobs, "render_pdf", broken)
    queue = Queue("documents", connection=redis_conn)
    SimpleWorker([queue], connection=redis_connection()).work(burst=True)
    db.session.expire_all()
    doc = db.session.get(ContractDocument, doc_id)
    # rq scheduled a retry: still pending, the attempt and its error recorded
    assert (doc.status, doc.attempts, doc.error) == ("pending", 1, "OSError: font cache unavailable")
    with pytest.raises(RuntimeError):
        contract_jobs.render_contract_document(doc_id)  # outside rq: the last attempt
    db.session.expire_all()
    doc = db.session.get(ContractDocument, doc_id)
    assert (doc.status, doc.attempts) == ("failed", 2)
    told = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "contract.render_failed")).all()
    assert set(told) == {generator.id, operator.id}
    monkeypatch.undo()
    refused(NotFound, svc.retry_render, other_generator, doc_id)
    svc.retry_render(generator, doc_id)
    assert db.session.get(ContractDocument, doc_id).status == "pending"
    refused(InvalidState, svc.retry_render, operator, doc_id, code="not_failed")
    render_all()
    assert db.session.get(ContractDocument, doc_id).status == "ready"


# --- concurrency (real commits, one connection per thread) ---------------------------------------

def _sign_in_threads(app, user_ids: list[int], order_id: int) -> list[str]:
    """Sign from several threads released at the same instant; each outcome's class name."""
    import threading
    from market.accounts.models import User
    barrier, outcomes = threading.Barrier(len(user_ids)), []

    def sign(user_id):
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                barrier.wait()
                lifecycle.sign_contract(user, order_id, PASSWORD)
                outcomes.append("signed")
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test compares
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()
    threads = [threading.Thread(target=sign, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


@pytest.mark.committed
def test_both_parties_signing_at_once_complete_the_contract_exactly_once(app, generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    assert _sign_in_threads(app, [generator.id, operator.id], order.id) == ["signed", "signed"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "contract_signed"
    assert db.session.scalar(select(func.count()).select_from(ContractDocument)
                             .where(ContractDocument.kind == "final")) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "contract.completed")) == 1


@pytest.mark.committed
def test_one_party_signing_twice_at_once_signs_once(app, generator, operator):
    order = order_for(generator, operator, sampling=False)
    render_all()
    assert _sign_in_threads(app, [generator.id, generator.id], order.id) == ["Conflict", "signed"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_a_storefront_order_goes_straight_to_its_contract(generator, operator, tmp_path):
    from market.orders.lifecycle import order_from_offer
    from tests.listing_factories import StorefrontOfferFactory
    offer = StorefrontOfferFactory(operator=operator.org, unit_price_fen_per_t=-80_000,
                                   lead_time_days=5, description="废机油，回收利用")
    order = order_from_offer(generator, offer.id, quantity_kg=2_000)
    assert order.status == "contract_pending"
    terms = contract(order).current.terms
    start = order.created_at.date() + timedelta(days=5)
    assert (terms["window_start"], terms["window_end"]) == (start.isoformat(),
                                                            (start + timedelta(days=30)).isoformat())
    render_all()
    flat = "".join(pdftotext(pdf_of(order), tmp_path).split())
    # the operator pays for valuable waste: a negative total, in capitals with 负
    assert "-¥1,600.00" in flat and "人民币负壹仟陆佰元整" in flat and "废机油，回收利用" in flat

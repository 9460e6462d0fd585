"""Contracts through the web: progress, download, signing, revisions, verification, who sees what."""
from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from market import db
from market.contracts import services as contracts
from market.contracts.models import ContractDocument, ContractRevision, Signature
from market.orders import lifecycle
from tests.factories import PASSWORD
from tests.sampling_factories import accredited_lab, order_for, render_all
from tests.web.test_sampling_web import as_user, text


@pytest.fixture(autouse=True)
def english(client):
    """These tests read English messages; the default locale is Chinese."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"



def signatures() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.fixture
def order(generator, operator):
    return order_for(generator, operator, sampling=False)


def draft(order) -> ContractDocument:
    db.session.expire_all()
    return contracts.contract_of(order.id).current.document("draft")


def test_the_page_shows_progress_then_the_pdf(client, order, generator):
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}/contract")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="document-pending"' in html and "location.reload" in html
    assert 'data-testid="sign-form"' not in html
    render_all()
    html = client.get(f"/orders/{order.id}/contract").get_data(as_text=True)
    doc = draft(order)
    assert f"/contracts/documents/{doc.id}.pdf" in html and doc.sha256 in html
    assert 'data-testid="sign-form"' in html and "location.reload" not in html
    resp = client.get(f"/contracts/documents/{doc.id}.pdf")
    assert resp.mimetype == "application/pdf" and resp.data == doc.pdf


def test_a_failed_render_shows_the_error_and_a_retry(client, order, generator, monkeypatch):
    from market.contracts import jobs
    monkeypatch.setattr(jobs, "render_pdf", lambda doc: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(RuntimeError):
        jobs.render_contract_document(draft(order).id)
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}/contract")
    assert "The PDF could not be produced after 1 attempts." in text(page) and "OSError: disk full" in text(page)
    monkeypatch.undo()
    resp = client.post(f"/contracts/documents/{draft(order).id}/retry", follow_redirects=True)
    assert "The PDF is being produced again." in text(resp)
    render_all()
    assert draft(order).status == "ready"


def test_signing_through_the_form(client, order, generator, operator):
    render_all()
    as_user(client, generator)
    resp = client.post(f"/orders/{order.id}/contract/sign", data={"password": "nope-nope-nope"},
                       follow_redirects=True)
    assert "The password is wrong; the contract was not signed." in text(resp) and signatures() == 0
    resp = client.post(f"/orders/{order.id}/contract/sign",
                       data={"password": PASSWORD, "sha256": draft(order).sha256}, follow_redirects=True)
    assert "Signed." in text(resp) and signatures() == 1
    assert "the other party’s signature is awaited" in text(resp)
    resp = client.post(f"/orders/{order.id}/contract/sign", data={"password": PASSWORD},
                       follow_redirects=True)
    assert "already signed version 1" in text(resp) and signatures() == 1
    client.post("/logout")
    as_user(client, operator)
    client.post(f"/orders/{order.id}/contract/sign", data={"password": PASSWORD})
    db.session.expire_all()
    assert order.status == "contract_signed"
    page = client.get(f"/orders/{order.id}/contract").get_data(as_text=True)
    assert 'data-testid="propose-revision"' in page


def test_revisions_through_the_forms(client, order, generator, operator):
    render_all()
    lifecycle.sign_contract(generator, order.id, PASSWORD)
    lifecycle.sign_contract(operator, order.id, PASSWORD)
    as_user(client, operator)
    resp = client.post(f"/orders/{order.id}/contract/revisions", data={"quantity_kg": "4000", "reason": "减少"},
                       follow_redirects=True)
    assert "Revision proposed" in text(resp)
    client.post("/logout")
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}/contract")
    assert "operator proposes: quantity 4,000 kg." in text(page)
    rev = db.session.scalars(select(ContractRevision)).one()
    resp = client.post(f"/contracts/revisions/{rev.id}/accept", follow_redirects=True)
    assert "the new version awaits both signatures" in text(resp)
    assert 'data-version="2"' in resp.get_data(as_text=True)


def test_a_revision_of_an_unsigned_contract_is_refused_on_the_page(client, order, generator):
    render_all()
    as_user(client, generator)
    resp = client.post(f"/orders/{order.id}/contract/revisions", data={"quantity_kg": "4000"},
                       follow_redirects=True)
    assert "Only a signed contract can be revised" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(ContractRevision)) == 0


def test_verification_is_public_and_one_byte_changes_everything(client, order, generator, operator):
    render_all()
    lifecycle.sign_contract(generator, order.id, PASSWORD)
    data = draft(order).pdf
    number = contracts.contract_of(order.id).number
    resp = client.post("/contracts/verify", data={"pdf": (io.BytesIO(data), "c.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    page = text(resp)
    assert f"This is contract {number}, version 1" in page and generator.name in page
    assert 'data-matches="1"' in resp.get_data(as_text=True)
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0xFF
    resp = client.post("/contracts/verify", data={"pdf": (io.BytesIO(bytes(tampered)), "c.pdf")},
                       content_type="multipart/form-data")
    assert "This file matches no contract on Hazex." in text(resp)
    digest = hashlib.sha256(data).hexdigest()
    assert f"This is contract {number}" in text(client.get(f"/contracts/verify?sha256={digest.upper()}"))
    resp = client.get("/contracts/verify?sha256=abc")
    assert resp.status_code == 422 and "A SHA-256 hash is 64 hexadecimal characters." in text(resp)


def test_who_sees_the_contract(client, order, generator, other_generator, regulator):
    render_all()
    doc = draft(order)
    lab = accredited_lab()
    for outsider in (other_generator, lab):
        as_user(client, outsider)
        assert client.get(f"/orders/{order.id}/contract").status_code == 404
        assert client.get(f"/contracts/documents/{doc.id}.pdf").status_code == 404
        assert order.number not in client.get("/contracts").get_data(as_text=True)
        client.post("/logout")
    as_user(client, regulator)
    page = client.get(f"/orders/{order.id}/contract")
    assert page.status_code == 200 and "Read-only view for oversight." in text(page)
    assert 'data-testid="sign-form"' not in page.get_data(as_text=True)
    assert client.get(f"/contracts/documents/{doc.id}.pdf").data == doc.pdf
    assert client.post(f"/orders/{order.id}/contract/sign", data={"password": PASSWORD}).status_code == 403
    assert signatures() == 0

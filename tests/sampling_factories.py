"""Helpers of the sampling and contract tests: accredited labs, orders routed to sampling,
a lab's full run, contract rows for the route-enumerating tests, and documents rendered."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

from flask import current_app

from market import db
from market.contracts.models import Contract, ContractDocument, ContractRevision
from market.contracts.terms import build_terms
from market.listings.quotes import submit_quote
from market.orders.lifecycle import accept_quote
from market.listings.services import create_request
from market.sampling import reporting, services as sampling
from market.sampling.models import SamplingOrder, SamplingResult
from tests.factories import OrganisationFactory, PermitFactory, UserFactory
from tests.listing_factories import quote_data, request_data

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def accredited_lab(region_code: str = "440305", **permit):
    """A user of a verified lab holding a CMA accreditation valid today."""
    org = OrganisationFactory(types=["lab"], region_code=region_code, name=f"深圳谱测检测{region_code}有限公司")
    PermitFactory(org=org, kind="cma", **permit)
    return UserFactory(org=org)


def order_for(generator, operator, *, sampling: bool = True, quantity_kg: int = 5_000,
              price: int = 180_000, transport: int = 50_000, **request_overrides):
    """An order from a real request, quote and award; routed to sampling or to the contract."""
    req = create_request(generator, **request_data(quantity_kg=quantity_kg, **request_overrides))
    quote = submit_quote(operator, req.id, **quote_data(unit_price_fen_per_t=price,
                                                        transport_fee_fen=transport,
                                                        subject_to_sampling=sampling))
    return accept_quote(generator, quote.id)


GOOD_RESULTS = {"ph": {"value": "7.2", "method": "GB/T 15555.12"},
                "halogens": {"value": "3.5", "method": "HJ 1082"},
                "Pb": {"value": "120", "method": "HJ 781"}}


def run_lab(order, requester, lab, *, fee_fen: int = 80_000, results=None, report: bytes = PDF,
            until: str = "reported") -> SamplingOrder:
    """Request a test and take the lab as far as `until` (accepted, sample_collected, reported)."""
    codes = list((results or GOOD_RESULTS).keys())
    so = sampling.request_sampling(requester, order.id, lab_org_id=lab.org_id, analytes=codes)
    if until == "requested":
        return so
    sampling.lab_accept(lab, so.id, fee_fen=fee_fen)
    if until == "accepted":
        return so
    sampling.lab_collect(lab, so.id, collected_on=_today(),
                         sampler="王采样", custody_number="COC-2026-0001")
    if until == "sample_collected":
        return so
    reporting.report_results(lab, so.id, results=results or GOOD_RESULTS, report=report)
    return so


def _today() -> date:
    from market.listings.validation import today
    return today()


def render_all() -> None:
    """Run every pending contract document's job now, as the documents worker would."""
    from market.contracts.jobs import render_contract_document
    from sqlalchemy import select
    for doc_id in db.session.scalars(select(ContractDocument.id).where(ContractDocument.status == "pending")
                                     .order_by(ContractDocument.id)).all():
        render_contract_document(doc_id)


def contract_objects(org, order) -> dict[str, int]:
    """Rows for the route-enumerating tests: a reported sampling order of `order` (its lab in
    org's region), a contract with a ready draft, and a revision proposed by the operator."""
    lab = OrganisationFactory(types=["lab"], region_code=org.region_code)
    permit = PermitFactory(org=lab, kind="cma")
    name = f"authz-{order.id}.pdf"
    path = reporting.report_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    so = SamplingOrder(number=f"{order.number}-S1", order_id=order.id, lab_id=lab.id,
                       permit_id=permit.id, requested_by_id=_any_user(org).id,
                       requested_by_role="generator", analytes=["ph"], status="reported",
                       collected_on=_today(), sampler="x", custody_number="c", report_file=name,
                       report_sha256=hashlib.sha256(PDF).hexdigest())
    so.results.append(SamplingResult(analyte="ph", value=7, unit="pH", method="GB/T 15555.12"))
    db.session.add(so)
    contract = Contract(order_id=order.id, number="HT" + order.number)
    db.session.add(contract)
    db.session.flush()
    from market.contracts.models import ContractVersion
    version = ContractVersion(contract=contract, version=1, status="signed",
                              terms=build_terms(order, contract.number, 1))
    db.session.add(version)
    db.session.flush()
    doc = ContractDocument(version_id=version.id, kind="draft", status="ready", attempts=1, pdf=PDF,
                           sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF))
    revision = ContractRevision(contract_id=contract.id, base_version_id=version.id,
                                proposed_by_id=_any_user(org).id, proposer_party="operator",
                                changes={"quantity_kg": order.quantity_kg + 1}, reason="authz")
    db.session.add_all([doc, revision])
    db.session.commit()
    return {"sampling_id": so.id, "document_id": doc.id, "revision_id": revision.id}


def _any_user(org):
    from market.accounts.models import User
    from sqlalchemy import select
    return db.session.scalar(select(User).where(User.org_id == org.id).limit(1)) or UserFactory(org=org)


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def days(n: int) -> date:
    return _today() + timedelta(days=n)

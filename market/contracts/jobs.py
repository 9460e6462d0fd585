"""Rendering contract PDFs on the `documents` queue, after the use case that asked has committed.

Idempotent: a document already rendered is left alone. A failure is recorded on the document and
re-raised so rq retries it; the last attempt marks it failed, which the contract page shows with
a button to try again, and the parties are told.
"""
from __future__ import annotations

import hashlib
import logging

from rq import get_current_job
from sqlalchemy import select

from market import db
from market.audit.services import record
from market.contracts.models import ContractDocument, ContractVersion
from market.contracts.rendering import contract_html, html_to_pdf
from market.db import utcnow
from market.jobs import job
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.uow import transaction

log = logging.getLogger(__name__)


def _locked(document_id: int) -> ContractDocument | None:
    return db.session.scalar(select(ContractDocument).where(ContractDocument.id == document_id)
                             .with_for_update().execution_options(populate_existing=True))


def _last_attempt() -> bool:
    """True when rq will not retry this run (or when called directly, outside a worker)."""
    current = get_current_job()
    return current is None or not current.retries_left


def signature_rows(version: ContractVersion) -> list[dict]:
    """The version's signatures as the final copy's signature page shows them."""
    return [{"party": s.party, "org": s.org.name, "signer": s.user.name, "signed_at": s.signed_at,
             "ip": s.ip, "sha256": s.sha256} for s in version.signatures]


def render_pdf(doc: ContractDocument) -> bytes:
    """The document's PDF: the version's terms, plus the signature page for the final copy."""
    signatures = signature_rows(doc.version) if doc.kind == "final" else None
    return html_to_pdf(contract_html(doc.version.terms, signatures))


def _parties(doc: ContractDocument) -> tuple[int, int, str, int]:
    order = doc.version.contract.order
    return order.generator_id, order.operator_id, order.number, order.id


@job(queue="documents", retries=3, intervals=(10, 60, 300))
def render_contract_document(document_id: int) -> str:
    """Render one contract document to PDF and store its bytes and SHA-256."""
    with transaction():
        doc = _locked(document_id)
        if doc is None or doc.status != "pending":
            return "skipped"
        doc.attempts += 1
        try:
            pdf = render_pdf(doc)
        except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for rq to retry
            failure = f"{type(exc).__name__}: {exc}"[:1000]
        else:
            doc.pdf, doc.sha256, doc.size = pdf, hashlib.sha256(pdf).hexdigest(), len(pdf)
            doc.status, doc.rendered_at, doc.error = "ready", utcnow(), None
            record("contract.document_rendered", doc, changes={
                "kind": doc.kind, "version": doc.version.version, "sha256": doc.sha256,
                "size": doc.size})
            _announce(doc)
            return doc.sha256
        doc.error = failure
        last = _last_attempt()
        if last:
            doc.status = "failed"
            record("contract.document_failed", doc, changes={"kind": doc.kind, "error": failure,
                                                             "attempts": doc.attempts})
            generator_id, operator_id, number, order_id = _parties(doc)
            title = message("The contract PDF of order %(number)s could not be produced; open the "
                            "contract page to try again.", number=number)
            for org_id in (generator_id, operator_id):
                notify_org(org_id, "contract.render_failed", title, verbatim(failure),
                           link=f"/orders/{order_id}/contract")
    log.error("contract document %s failed to render (last attempt: %s): %s", document_id, last, failure)
    raise RuntimeError(f"contract document {document_id} failed to render: {failure}")


def _announce(doc: ContractDocument) -> None:
    generator_id, operator_id, number, order_id = _parties(doc)
    if doc.kind == "draft":
        title = message("The contract of order %(number)s (version %(v)d) is ready to sign.",
                        number=number, v=doc.version.version)
    else:
        title = message("The signed contract of order %(number)s (version %(v)d) is available.",
                        number=number, v=doc.version.version)
    for org_id in (generator_id, operator_id):
        notify_org(org_id, f"contract.{doc.kind}_ready", title, link=f"/orders/{order_id}/contract")

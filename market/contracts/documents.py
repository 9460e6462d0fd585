"""Creating versions and their PDF documents; helpers inside the caller's transaction."""
from __future__ import annotations

from market import db
from market.contracts.jobs import render_contract_document
from market.contracts.models import Contract, ContractDocument, ContractVersion
from market.jobs import enqueue_after_commit


def new_document(version: ContractVersion, kind: str) -> ContractDocument:
    """A pending document of the version, rendered by a documents job once this commits."""
    doc = ContractDocument(version=version, kind=kind, status="pending", attempts=0)
    db.session.add(doc)
    db.session.flush()
    enqueue_after_commit(render_contract_document, doc.id)
    return doc


def new_version(contract: Contract, terms: dict) -> ContractVersion:
    """The contract's next version with the given terms, and its draft PDF queued."""
    number = (contract.versions[-1].version + 1) if contract.versions else 1
    version = ContractVersion(contract=contract, version=number, terms={**terms, "version": number},
                              status="pending_signatures")
    db.session.add(version)
    db.session.flush()
    new_document(version, "draft")
    return version

"""Read side of contracts: the contract page, document downloads and public verification."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import undefer

from market import db
from market.accounts.models import User
from market.contracts.access import order_for_viewer
from market.contracts.models import Contract, ContractDocument, ContractVersion, Signature
from market.contracts.services import contract_of
from market.errors import NotFound, ValidationFailed
from market.orders.models import Order
from market.orders.queries import visible_orders

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def contract_for_viewer(user: User, order_id: int) -> tuple[Order, str, Contract | None]:
    """The order, the viewer's role and the order's contract (None before contract_pending)."""
    order, role = order_for_viewer(user, order_id)
    return order, role, contract_of(order.id)


def document_for_viewer(user: User, document_id: int) -> tuple[ContractDocument, Order]:
    """A rendered document of an order the user may see, with its bytes; 404 otherwise."""
    row = db.session.execute(
        select(ContractDocument, Contract.order_id).options(undefer(ContractDocument.pdf))
        .join(ContractVersion, ContractVersion.id == ContractDocument.version_id)
        .join(Contract, Contract.id == ContractVersion.contract_id)
        .where(ContractDocument.id == document_id)).first()
    if row is None:
        raise NotFound(_("No such document."))
    doc, order_id = row
    order, _role = order_for_viewer(user, order_id)
    if doc.status != "ready":
        raise NotFound(_("This document is not rendered yet."))
    return doc, order


def latest_pdf(user: User, order_id: int) -> ContractDocument:
    """The PDF that governs the order now: the newest signed copy, else the newest ready draft."""
    order, _role = order_for_viewer(user, order_id)
    doc = db.session.scalar(
        select(ContractDocument).options(undefer(ContractDocument.pdf))
        .join(ContractVersion, ContractVersion.id == ContractDocument.version_id)
        .join(Contract, Contract.id == ContractVersion.contract_id)
        .where(Contract.order_id == order.id, ContractDocument.status == "ready")
        # 'final' sorts after 'draft': any signed copy first, then the newest version.
        .order_by(ContractDocument.kind.desc(), ContractVersion.version.desc()).limit(1))
    if doc is None:
        raise NotFound(_("This order has no contract PDF yet."))
    return doc


def contracts_for(user: User, limit: int = 300) -> list[Contract]:
    """Contracts of the user's orders (a regulator's region, or all for platform staff)."""
    stmt = visible_orders(select(Contract).join(Order, Order.id == Contract.order_id), user)
    return list(db.session.scalars(stmt.order_by(Contract.id.desc()).limit(limit)))


@dataclass
class Match:
    """What a hash matched: the contract, version, which copy, and the signatures on it."""
    contract_number: str
    order_number: str
    version: int
    kind: str
    version_status: str
    signatures: list[Signature]
    sha256: str
    party_names: dict[str, str]  # party → organisation name as the version states it


def normalise_hash(value: str | None) -> str:
    digest = (value or "").strip().lower()
    if not SHA256.fullmatch(digest):
        raise ValidationFailed(_("A SHA-256 hash is 64 hexadecimal characters."), field="sha256")
    return digest


def verify(sha256: str) -> list[Match]:
    """Every rendered contract document with exactly this SHA-256 (empty: it matches nothing)."""
    rows = db.session.execute(
        select(ContractDocument, ContractVersion, Contract, Order)
        .join(ContractVersion, ContractVersion.id == ContractDocument.version_id)
        .join(Contract, Contract.id == ContractVersion.contract_id)
        .join(Order, Order.id == Contract.order_id)
        .where(ContractDocument.sha256 == sha256, ContractDocument.status == "ready")
        .order_by(ContractDocument.id)).all()
    out = []
    for doc, version, contract, order in rows:
        # A draft carries the signatures made over its bytes; the final copy those of its version.
        signatures = [s for s in version.signatures if doc.kind == "final" or s.sha256 == sha256]
        names = {p: (version.terms or {}).get(p, {}).get("name", "") for p in ("generator", "operator")}
        out.append(Match(contract.number, order.number, version.version, doc.kind, version.status,
                         signatures, sha256, names))
    return out


def hash_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unsigned_version(order_id: int) -> ContractVersion | None:
    """The order's contract version still awaiting signatures (e.g. an accepted revision), if any.

    Funding should wait for it: the order takes a revised quantity only once both have signed.
    """
    return db.session.scalar(
        select(ContractVersion).join(Contract, Contract.id == ContractVersion.contract_id)
        .where(Contract.order_id == order_id, ContractVersion.status == "pending_signatures"))


def party_names(order: Order) -> dict[str, str]:
    """The parties' names as the contract states them: the latest signed version's terms (else
    the current version's), so a later change of registered name never rewrites what was signed;
    the organisations' names before there is a contract."""
    contract = contract_of(order.id)
    names = {"generator": order.generator.name, "operator": order.operator.name}
    if contract is None or not contract.versions:
        return names
    signed = [v for v in contract.versions if v.status == "signed"]
    terms = (signed[-1] if signed else contract.current).terms or {}
    for party in names:
        names[party] = (terms.get(party) or {}).get("name") or names[party]
    return names

"""Steps of contracts: start one for an order, sign it, complete it; render a failed PDF again.

Signing runs inside market.orders.lifecycle.sign_contract, which locks the order row first, so the
two parties' signatures are serialised and exactly one of them sees the contract complete and
moves the order on.
"""
from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import undefer

from market import db
from market.accounts.models import User
from market.accounts.passwords import check_password
from market.audit.services import record
from market.contracts.access import order_for_viewer
from market.contracts.documents import new_document, new_version
from market.contracts.jobs import render_contract_document
from market.contracts.models import Contract, ContractDocument, ContractVersion, Signature
from market.contracts.terms import build_terms
from market.db import utcnow
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.jobs import enqueue_after_commit
from market.notifications.messages import message
from market.notifications.services import notify_org
from market.orders.models import Order
from market.uow import transaction


def contract_number(order: Order) -> str:
    """HT + the order number's year and serial: order HX2026000123 → contract HT2026000123."""
    return "HT" + order.number[2:]


def start_contract(order: Order, actor: User | None = None) -> Contract:
    """Create the order's contract with version 1 and queue its PDF; inside the caller's transaction."""
    contract = Contract(order_id=order.id, number=contract_number(order))
    db.session.add(contract)
    db.session.flush()
    version = new_version(contract, build_terms(order, contract.number, 1))
    record("contract.created", contract, actor=actor, changes={
        "order": order.number, "version": version.version, "total_fen": version.terms["total_fen"]})
    return contract


def contract_of(order_id: int) -> Contract | None:
    """The order's contract, or None before the order reached contract_pending."""
    return db.session.scalar(select(Contract).where(Contract.order_id == order_id))


def _signable(order: Order, contract: Contract | None) -> ContractVersion:
    if contract is None:
        raise InvalidState(_("This order has no contract yet."), code="no_contract")
    version = contract.current
    if version.status != "pending_signatures":
        raise InvalidState(_("Version %(v)d of this contract is already signed by both parties.",
                             v=version.version), code="contract_signed")
    # Version 1 is signed while the order awaits it; a revised version while the order is signed.
    if order.status != ("contract_pending" if version.version == 1 else "contract_signed"):
        raise InvalidState(_("Order %(number)s can no longer be signed.", number=order.number),
                           code="order_not_signable")
    return version


def sign(order: Order, role: str, actor: User, password: str, *, ip: str | None = None,
         sha256: str | None = None) -> ContractVersion:
    """A party signs the current version's PDF after re-entering its password (order locked,
    inside the caller's transaction). When this is the last signature the version is frozen
    (`signed`); market.orders.lifecycle.sign_contract then moves the order and calls complete()."""
    version = _signable(order, contract_of(order.id))
    earlier = version.signature(role)
    if earlier is not None:
        raise Conflict(_("%(org)s already signed version %(v)d (%(who)s).", org=earlier.org.name,
                         v=version.version, who=earlier.user.name), code="already_signed")
    doc = db.session.scalar(select(ContractDocument).options(undefer(ContractDocument.pdf))
                            .where(ContractDocument.version_id == version.id,
                                   ContractDocument.kind == "draft"))
    if doc is None or doc.status != "ready":
        raise InvalidState(_("The contract PDF is not ready yet; sign once it is shown."),
                           code="document_not_ready")
    digest = hashlib.sha256(doc.pdf).hexdigest()
    if sha256 and sha256.strip().lower() != digest:
        raise Conflict(_("The contract changed since you opened it; review the current PDF and "
                         "sign again."), code="document_changed")
    if not isinstance(password, str) or not password:
        raise ValidationFailed(_("Enter your password to sign."), field="password")
    if not check_password(actor.password_hash, password):
        raise PermissionDenied(_("The password is wrong; the contract was not signed."),
                               field="password", code="wrong_password")
    signature = Signature(version_id=version.id, document_id=doc.id, party=role,
                          org_id=actor.org_id, user_id=actor.id, signed_at=utcnow(),
                          ip=(ip or None) and ip[:45], sha256=digest)
    db.session.add(signature)
    db.session.flush()
    record("contract.signed", version, actor=actor, changes={
        "contract": version.contract.number, "version": version.version, "party": role,
        "sha256": digest, "ip": signature.ip})
    db.session.refresh(version, ["signatures"])
    if {s.party for s in version.signatures} >= {"generator", "operator"}:
        # Both parties signed: the version is frozen.
        version.status, version.signed_at = "signed", utcnow()
    else:
        notify_org(order.other_party(actor.org_id), "contract.signed",
                   message("%(org)s signed the contract of order %(number)s; your signature is awaited.",
                           org=actor.org.name, number=order.number), link=f"/orders/{order.id}/contract")
    return version


def complete(order: Order, version: ContractVersion, actor: User) -> None:
    """A version signed by both, the order moved on: produce the final copy, tell the parties."""
    new_document(version, "final")
    record("contract.completed", version, actor=actor, changes={
        "contract": version.contract.number, "version": version.version, "order_status": order.status})
    for org_id in (order.generator_id, order.operator_id):
        notify_org(org_id, "contract.completed",
                   message("Both parties signed version %(v)d of the contract of order %(number)s.",
                           v=version.version, number=order.number), link=f"/orders/{order.id}/contract")


def retry_render(actor: User, document_id: int) -> ContractDocument:
    """Queue a failed contract PDF again (a party or platform administrators)."""
    with transaction():
        order_id = db.session.scalar(
            select(Contract.order_id).join(ContractVersion, ContractVersion.contract_id == Contract.id)
            .join(ContractDocument, ContractDocument.version_id == ContractVersion.id)
            .where(ContractDocument.id == document_id))
        if order_id is None:
            raise NotFound(_("No such document."))
        order, role = order_for_viewer(actor, order_id, lock=True)
        if role not in ("generator", "operator", "admin"):
            raise PermissionDenied(_("Only the parties or platform administrators may do this."),
                                   code="not_a_party")
        doc = db.session.scalar(select(ContractDocument).where(ContractDocument.id == document_id)
                                .with_for_update().execution_options(populate_existing=True))
        if doc.status != "failed":
            raise InvalidState(_("Only a failed document can be rendered again."), code="not_failed")
        doc.status, doc.error, doc.attempts = "pending", None, 0
        enqueue_after_commit(render_contract_document, doc.id)
        record("contract.render_retried", doc, actor=actor, changes={"kind": doc.kind, "by": role})
        return doc

"""Revisions: a signed contract never changes; a party proposes, the other accepts or rejects.

Acceptance creates the next version, which both sign again; only when both have signed does the
order take the new quantity (its lines recomputed, its capacity reservation resized) and the
previous version become superseded. Revisions are possible while the order is contract_signed,
that is, before any money is in escrow.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.contracts.access import party_order
from market.contracts.documents import new_version
from market.contracts.models import Contract, ContractRevision, ContractVersion
from market.contracts.services import contract_of
from market.contracts.terms import revised_terms
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings import capacity
from market.listings import validation as v
from market.listings.models import CapacityReservation
from market.db import utcnow
from market.money import line_amount_fen
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.orders.models import Order
from market.uow import transaction


def _changes(terms: dict, quantity_kg, window_start, window_end) -> dict:
    """The proposed changes against the signed terms; at least one, each valid."""
    changes: dict = {}
    if quantity_kg not in (None, ""):
        kg = v.whole_kg(quantity_kg)
        if kg != terms["quantity_kg"]:
            changes["quantity_kg"] = kg
    start = date.fromisoformat(terms["window_start"]) if window_start is None else window_start
    end = date.fromisoformat(terms["window_end"]) if window_end is None else window_end
    if window_start is not None or window_end is not None:
        start, end = v.window(start, end, check_start=False)
        if end < v.today():
            raise ValidationFailed(_("The window must not end in the past."), field="window_end")
        for key, value in (("window_start", start), ("window_end", end)):
            if value.isoformat() != terms[key]:
                changes[key] = value.isoformat()
    if not changes:
        raise ValidationFailed(_("Change the quantity or the window; the proposal repeats the "
                                 "signed terms."), field="quantity_kg", code="no_change")
    return changes


def _check_capacity(order: Order, kg: int) -> CapacityReservation | None:
    """Take the licence item lock and check that the reservation can grow to kg."""
    item = capacity.lock_item(order.licence_item_id)
    res = capacity.active_reservation(order.id)
    if res is None:
        return None
    left = capacity.remaining_kg(item, res.year) + res.kg
    if kg > left:
        raise capacity.CapacityExhausted(_(
            "The operator's remaining licensed capacity (%(left)s kg) cannot take %(kg)s kg.",
            left=f"{left:,}", kg=f"{kg:,}"), field="quantity_kg")
    return res


def propose_revision(actor: User, order_id: int, *, quantity_kg=None, window_start=None,
                     window_end=None, reason: str = "") -> ContractRevision:
    """A party proposes to change the quantity or the window of the signed contract."""
    with transaction():
        order, role = party_order(actor, order_id, lock=True)
        contract = contract_of(order.id)
        current = contract.current if contract else None
        if current is None or current.status != "signed":
            raise InvalidState(_("Only a signed contract can be revised; this one is not signed by "
                                 "both parties yet. Sign it, or cancel the order and start again."),
                               code="contract_unsigned")
        if order.status != "contract_signed":
            raise InvalidState(_("The contract can be revised only until the order is paid into "
                                 "escrow."), code="order_not_revisable")
        if any(r.status == "proposed" for r in contract.revisions):
            raise Conflict(_("A revision is already awaiting an answer."), code="revision_open")
        changes = _changes(current.terms, quantity_kg, window_start, window_end)
        if "quantity_kg" in changes:
            _check_capacity(order, changes["quantity_kg"])
        revision = ContractRevision(contract=contract, base_version_id=current.id,
                                    proposed_by_id=actor.id, proposer_party=role, changes=changes,
                                    reason=v.text(reason, "reason", 1000), status="proposed")
        db.session.add(revision)
        db.session.flush()
        record("contract.revision_proposed", revision, actor=actor, changes={
            "contract": contract.number, "base_version": current.version, **changes})
        notify_org(order.other_party(actor.org_id), "contract.revision_proposed",
                   message("%(org)s proposes a revision of the contract of order %(number)s.",
                           org=actor.org.name, number=order.number), verbatim(revision.reason),
                   link=f"/orders/{order.id}/contract")
        return revision


def _revision_for_other_party(actor: User, revision_id: int) -> tuple[ContractRevision, Order, str]:
    order_id = db.session.scalar(select(Contract.order_id).join(ContractRevision)
                                 .where(ContractRevision.id == revision_id))
    if order_id is None:
        raise NotFound(_("No such revision."))
    order, role = party_order(actor, order_id, lock=True)
    revision = db.session.scalar(select(ContractRevision).where(ContractRevision.id == revision_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if revision.status != "proposed":
        raise InvalidState(_("This revision was already %(s)s.", s=revision_word(revision.status)),
                           code=f"revision_{revision.status}")
    if revision.proposer_party == role:
        raise PermissionDenied(_("The other party decides on a revision your side proposed."),
                               code="own_revision")
    return revision, order, role


def revision_word(status: str) -> str:
    """A revision status in the reader's language."""
    return {"proposed": _("proposed"), "accepted": _("accepted"),
            "rejected": _("rejected")}.get(status, status)


def accept_revision(actor: User, revision_id: int, note: str = "") -> ContractVersion:
    """The other party accepts: the next version is created, to be signed by both again."""
    with transaction():
        revision, order, _role = _revision_for_other_party(actor, revision_id)
        if order.status != "contract_signed":
            raise InvalidState(_("The contract can be revised only until the order is paid into "
                                 "escrow."), code="order_not_revisable")
        if "quantity_kg" in revision.changes:
            _check_capacity(order, revision.changes["quantity_kg"])
        contract = revision.contract
        base = db.session.get(ContractVersion, revision.base_version_id)
        version = new_version(contract, revised_terms(base.terms, revision.changes,
                                                      contract.current.version + 1))
        revision.status, revision.decided_by_id, revision.decided_at = "accepted", actor.id, utcnow()
        revision.decision_note, revision.new_version_id = v.text(note, "note", 1000) or None, version.id
        record("contract.revision_accepted", revision, actor=actor, changes={
            "contract": contract.number, "new_version": version.version, **revision.changes})
        for org_id in (order.generator_id, order.operator_id):
            notify_org(org_id, "contract.revision_accepted",
                       message("Version %(v)d of the contract of order %(number)s awaits both signatures.",
                               v=version.version, number=order.number), link=f"/orders/{order.id}/contract")
        return version


def reject_revision(actor: User, revision_id: int, note: str = "") -> ContractRevision:
    """The other party rejects: the signed version stays in force."""
    with transaction():
        revision, order, _role = _revision_for_other_party(actor, revision_id)
        revision.status, revision.decided_by_id, revision.decided_at = "rejected", actor.id, utcnow()
        revision.decision_note = v.text(note, "note", 1000) or None
        record("contract.revision_rejected", revision, actor=actor,
               changes={"note": revision.decision_note})
        notify_org(order.operator_id if revision.proposer_party == "operator" else order.generator_id,
                   "contract.revision_rejected",
                   message("%(org)s rejected the proposed revision of order %(number)s.",
                           org=actor.org.name, number=order.number), verbatim(revision.decision_note),
                   link=f"/orders/{order.id}/contract")
        return revision


def apply_version(order: Order, version: ContractVersion, actor: User) -> None:
    """A revised version is signed by both: the order takes its quantity; the old one is superseded."""
    kg = version.terms["quantity_kg"]
    if kg != order.quantity_kg:
        res = _check_capacity(order, kg)
        old = order.quantity_kg
        order.quantity_kg = kg
        for line in order.lines:
            line.quantity_kg = kg
            if line.kind == "disposal":
                line.amount_fen = line_amount_fen(line.unit_price_fen_per_t, kg)
        if res is not None:
            res.kg = kg
        record("order.quantity_revised", order, actor=actor, changes={
            "quantity_kg": [old, kg], "contract_version": version.version, "total_fen": order.total_fen})
    for earlier in version.contract.versions:
        if earlier.id != version.id and earlier.status == "signed":
            earlier.status = "superseded"

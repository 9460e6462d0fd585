"""The transfer steps of an order's life: manifests ship and arrive, and the order follows.

    funded ─► in_transfer   at the first manifest that ships
    in_transfer ─► received when every manifest that is not cancelled is received

Each function is one use case: the manifests context does its part inside this transaction, then
the order moves here (the manifests context never moves orders and never imports this module).
"""
from __future__ import annotations

from flask_babel import gettext as _

from market.accounts.models import User
from market.audit.services import record
from market.errors import InvalidState
from market.escrow import disputes
from market.manifests import queries as manifest_queries
from market.manifests import receiving, services as manifests, signing
from market.manifests.access import roles_of
from market.manifests.models import Discrepancy, Manifest
from market.manifests.state import manifest_actions
from market.orders import services as orders
from market.orders import settling
from market.orders.models import Order
from market.uow import transaction


def _follow(order: Order, actor: User | None) -> None:
    """Move the order after its manifests moved (the order is locked by the manifest use case)."""
    frm = order.status
    if order.status == "funded" and manifest_queries.any_shipped(order.id):
        orders.transition(order, "in_transfer", "system")
    if order.status == "in_transfer" and manifest_queries.all_received(order.id):
        orders.transition(order, "received", "system")
    if order.status != frm:
        record("order.transferred", order, actor=actor,
               changes={"status": [frm, order.status]})
    # The last receipt settles the order at once, unless a discrepancy still holds it.
    settling.settle_if_ready(order, actor)


def create_manifest(actor: User, order_id: int, data: dict) -> Manifest:
    return manifests.create_manifest(actor, order_id, data)


def sign_manifest(actor: User | None, manifest_id: int, *, role: str | None = None,
                  driver_code: str | None = None, ip: str | None = None) -> Manifest:
    """A pickup signature, by login (role) or by the driver's one-time code (no login)."""
    with transaction():
        if driver_code is not None:
            manifest = signing.sign_with_driver_code(manifest_id, driver_code, ip)
        else:
            manifest = signing.sign_pickup(actor, manifest_id, role, ip)
        _follow(manifest.order, actor)
        return manifest


def receive_manifest(actor: User, manifest_id: int, method_code, lines,
                     ip: str | None = None) -> Manifest:
    with transaction():
        manifest = receiving.receive(actor, manifest_id, method_code, lines, ip)
        _follow(manifest.order, actor)
        return manifest


def cancel_manifest(actor: User, manifest_id: int, reason: str = "") -> Manifest:
    with transaction():
        manifest = manifests.cancel_manifest(actor, manifest_id, reason)
        _follow(manifest.order, actor)
        return manifest


def decide_discrepancy(actor: User, manifest_id: int, line_id: int, action: str,
                       comment: str = "", files=()) -> Discrepancy:
    """The generator confirms a discrepancy, or disputes it at the dispute desk (once every
    manifest of the order is received; the evidence files go with the dispute)."""
    with transaction():
        discrepancy = receiving.decide_discrepancy(actor, manifest_id, line_id, action, comment)
        if action == "dispute":
            order = discrepancy.line.manifest.order
            if order.status != "received":
                raise InvalidState(_("A difference can be disputed once every manifest of the "
                                     "order is received."), code="not_received")
            dispute = disputes.open_dispute(actor, order.id, discrepancy.generator_comment, files)
            receiving.link_dispute(discrepancy.id, dispute.id)
        else:
            # The last discrepancy confirmed: the order settles now if all else is in.
            settling.settle_if_ready(discrepancy.line.manifest.order, actor)
        return discrepancy


def resolve_dispute(actor: User, dispute_id: int, split: dict, note: str = ""):
    """An admin decides a dispute; the discrepancies it took are resolved with it."""
    with transaction():
        dispute = disputes.resolve_dispute(actor, dispute_id, split, note)
        receiving.resolve_disputed(dispute.order_id, dispute.id)
        return dispute


def actions_for_manifest(manifest: Manifest, user: User | None) -> list[str]:
    """What the user may do now with the manifest (the same table for pages and the API)."""
    roles = roles_of(manifest, user) if user is not None else set()
    found = manifest_queries.discrepancies_of(manifest.id).values()
    return manifest_actions(
        manifest.status, roles, {s.part for s in manifest.signatures},
        open_discrepancy=any(d.status == "open" for d in found),
        refusal_unrecorded=any(d.refused_kg > 0 and d.refusal_disposition is None for d in found))

"""Who may see and act on a manifest: roles relative to it, and the regulator scope rule.

A manifest is visible to its generator, its carrier, its receiver (the operator), platform staff,
and regulators whose scope covers the generator's, the pickup or the operator's region; to anyone
else it does not exist (404).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased

from market import db
from market.accounts.models import Organisation, User
from market.errors import NotFound
from market.manifests.models import Manifest
from market.orders.models import Order


def roles_of(manifest: Manifest, user: User) -> set[str]:
    """The user's roles on the manifest: generator, carrier, operator, admin or finance."""
    if user.platform_role in ("admin", "finance"):
        return {user.platform_role}
    roles = set()
    if user.org_id == manifest.generator_org_id:
        roles.add("generator")
    if user.org_id == manifest.carrier_org_id:
        roles.add("carrier")
    if user.org_id == manifest.receiver_org_id:
        roles.add("operator")
    return roles


def visible_manifests(stmt: Select, user: User) -> Select:
    """Restrict a select of Manifest to those the user may read."""
    if user.is_platform:
        return stmt
    if user.is_regulator:
        gen, op = aliased(Organisation), aliased(Organisation)
        prefix = user.org.scope_prefix
        return (stmt.join(Order, Order.id == Manifest.order_id)
                .join(gen, gen.id == Manifest.generator_org_id)
                .join(op, op.id == Manifest.receiver_org_id)
                .where(or_(gen.region_code.startswith(prefix, autoescape=True),
                           Order.region_code.startswith(prefix, autoescape=True),
                           op.region_code.startswith(prefix, autoescape=True))))
    return stmt.where(or_(Manifest.generator_org_id == user.org_id,
                          Manifest.carrier_org_id == user.org_id,
                          Manifest.receiver_org_id == user.org_id))


def visible_manifest(user: User, manifest_id: int) -> tuple[Manifest, set[str]]:
    manifest = db.session.scalar(visible_manifests(
        select(Manifest).where(Manifest.id == manifest_id), user))
    if manifest is None:
        raise NotFound(_("No such manifest."))
    return manifest, roles_of(manifest, user)


def locked_manifest(manifest_id: int) -> Manifest:
    """The manifest under its row lock, its order locked first (orders before manifests, always)."""
    order_id = db.session.scalar(select(Manifest.order_id).where(Manifest.id == manifest_id))
    if order_id is None:
        raise NotFound(_("No such manifest."))
    db.session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    manifest = db.session.scalar(select(Manifest).where(Manifest.id == manifest_id)
                                 .with_for_update(of=Manifest)
                                 .execution_options(populate_existing=True))
    return manifest


def manifest_for_party(user: User, manifest_id: int) -> tuple[Manifest, set[str]]:
    """The manifest locked for a write by one of its parties (or platform staff); else 404."""
    manifest = locked_manifest(manifest_id)
    roles = roles_of(manifest, user)
    if not roles:
        raise NotFound(_("No such manifest."))
    return manifest, roles

"""Read side of manifests: what an order's manifests add up to, for pages, the API, the lifecycle
and settlement."""
from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.accounts.models import LicenceItem, Organisation, User
from market.catalog.models import DisposalMethod
from market.manifests.access import roles_of, visible_manifests
from market.manifests.models import Discrepancy, Manifest, ManifestLine, ProvincialReport
from market.manifests.state import ManifestFacts, manifest_actions

# A discrepancy in these states holds settlement of its line.
BLOCKING = ("open", "disputed")


def manifests_of(order_id: int) -> list[Manifest]:
    return list(db.session.scalars(select(Manifest).where(Manifest.order_id == order_id)
                                   .order_by(Manifest.id)))


def live_manifests(order_id: int) -> list[Manifest]:
    """The order's manifests that are not cancelled."""
    return [m for m in manifests_of(order_id) if m.status != "cancelled"]


def any_shipped(order_id: int) -> bool:
    return any(m.status in ("shipped", "received", "closed") for m in manifests_of(order_id))


def all_received(order_id: int) -> bool:
    """True when the order has manifests and every one not cancelled is received (or closed)."""
    live = live_manifests(order_id)
    return bool(live) and all(m.status in ("received", "closed") for m in live)


def accepted_kg(order_id: int) -> int:
    """Received minus refused over the order's received manifests: what settlement pays for."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(ManifestLine.received_kg - ManifestLine.refused_kg), 0))
        .join(Manifest, Manifest.id == ManifestLine.manifest_id)
        .where(Manifest.order_id == order_id, Manifest.status.in_(("received", "closed")))))


def open_discrepancies(order_id: int) -> list[Discrepancy]:
    """Discrepancies of the order still open or disputed: settlement waits for them."""
    return list(db.session.scalars(
        select(Discrepancy).join(Manifest, Manifest.id == Discrepancy.manifest_id)
        .where(Manifest.order_id == order_id, Discrepancy.status.in_(BLOCKING))
        .order_by(Discrepancy.id)))


def discrepancies_of(manifest_id: int) -> dict[int, Discrepancy]:
    """{line id: discrepancy} of a manifest."""
    return {d.manifest_line_id: d for d in db.session.scalars(
        select(Discrepancy).where(Discrepancy.manifest_id == manifest_id))}


def by_number(number: str) -> Manifest | None:
    return db.session.scalar(select(Manifest).where(Manifest.number == number))


def manifests_for(user: User, limit: int = 200) -> list[Manifest]:
    return list(db.session.scalars(visible_manifests(select(Manifest), user)
                                   .order_by(Manifest.id.desc()).limit(limit)))


def reports_of(manifest_id: int) -> list[ProvincialReport]:
    return list(db.session.scalars(select(ProvincialReport)
                                   .where(ProvincialReport.manifest_id == manifest_id)
                                   .order_by(ProvincialReport.id)))


def facts_for(manifest: Manifest) -> ManifestFacts:
    found = discrepancies_of(manifest.id).values()
    return ManifestFacts(
        signed=frozenset(s.part for s in manifest.signatures),
        open_discrepancy=any(d.status == "open" for d in found),
        refusal_unrecorded=any(d.refused_kg > 0 and d.refusal_disposition is None for d in found))


def actions_for(manifest: Manifest, user: User | None) -> list[str]:
    """What the user may do now with the manifest: the same list for pages and the API."""
    roles = roles_of(manifest, user) if user is not None else set()
    return manifest_actions(manifest.status, roles, facts_for(manifest))


def carrier_choices() -> list[tuple[int, str]]:
    """Verified carrier organisations, by name, for the manifest form."""
    rows = db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.types.contains(["carrier"]), Organisation.status == "verified")
        .order_by(Organisation.name)).all()
    return [(r.id, r.name) for r in rows]


def method_choices(manifest: Manifest) -> list[tuple[str, str]]:
    """The disposal methods the order's licence item allows, for the receive form."""
    item = db.session.get(LicenceItem, manifest.order.licence_item_id)
    names = dict(db.session.execute(select(DisposalMethod.code, DisposalMethod.name).where(
        DisposalMethod.code.in_(item.method_codes or []))).all())
    return [(code, f"{code} {names.get(code, '')}".strip()) for code in item.method_codes or []]


def unsent_reports(limit: int = 200) -> list[ProvincialReport]:
    """Provincial reports not delivered yet (pending or failed), oldest first: the admin list."""
    return list(db.session.scalars(select(ProvincialReport)
                                   .where(ProvincialReport.status != "sent")
                                   .order_by(ProvincialReport.id).limit(limit)))

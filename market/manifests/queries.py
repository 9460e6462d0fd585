"""Read side of manifests: what an order's manifests add up to, for pages, the API, the lifecycle
and settlement."""
from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.accounts.models import User
from market.manifests.access import visible_manifests
from market.manifests.models import Discrepancy, Manifest, ManifestLine, ProvincialReport

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

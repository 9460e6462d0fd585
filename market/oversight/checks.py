"""The regulator side's sweeps of DESIGN.md §8, run daily (market.oversight.jobs.daily): each
finds records breaking a rule in SQL and raises one alert per subject (raising again is a no-op).

- money without material (release_before_receipt): escrow released for a disposal or transport
  line while a manifest of its order is not received, or none was ever received — the database
  refuses such a release since migration 0008, so this should find nothing; the check still runs;
- material without money (manifest_unfunded_order): a manifest received for an order that was
  never funded (no money entered its escrow);
- throughput (throughput_beyond_licence): an operator's received kg of a category this year
  beyond 120 % of its licensed annual scale for it;
- licence (transfer_after_licence_expiry): waste received under a licence number whose licence
  had expired (or was not yet valid) on the day of receipt.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from market import db
from market.accounts.models import Licence, LicenceItem
from market.escrow.models import Movement
from market.manifests.models import Manifest, ManifestLine
from market.orders.models import OrderLine
from market.oversight.feed import TZ
from market.oversight.services import (MANIFEST_UNFUNDED, RELEASE_BEFORE_RECEIPT,
                                       THROUGHPUT_BEYOND_LICENCE, TRANSFER_AFTER_LICENCE_EXPIRY,
                                       raise_alert)

THROUGHPUT_LIMIT_PCT = 120
RECEIVED = ("received", "closed")


def releases_before_receipt() -> int:
    m = aliased(Manifest)
    pending = exists().where(m.order_id == Movement.order_id,
                             m.status.not_in(RECEIVED + ("cancelled",)))
    received = exists().where(m.order_id == Movement.order_id, m.status.in_(RECEIVED))
    rows = db.session.execute(
        select(Movement.id, Movement.order_id, Movement.line_id, Movement.value_fen)
        .join(OrderLine, OrderLine.id == Movement.line_id)
        .where(Movement.kind == "release", OrderLine.kind.in_(("disposal", "transport")),
               or_(pending, not_(received)))).all()
    for movement_id, order_id, line_id, fen in rows:
        raise_alert(RELEASE_BEFORE_RECEIPT, "critical", subject=f"release:{movement_id}",
                    order_id=order_id, data={"line_id": line_id, "value_fen": fen})
    return len(rows)


def received_unfunded() -> int:
    funded = exists().where(Movement.order_id == Manifest.order_id, Movement.kind == "fund")
    rows = db.session.execute(select(Manifest.order_id, func.min(Manifest.id))
                              .where(Manifest.status.in_(RECEIVED), not_(funded))
                              .group_by(Manifest.order_id)).all()
    for order_id, manifest_id in rows:
        raise_alert(MANIFEST_UNFUNDED, "critical", subject=f"order:{order_id}", order_id=order_id,
                    manifest_id=manifest_id, data={"received": True})
    return len(rows)


def throughput(year: int) -> int:
    start = datetime.combine(date(year, 1, 1), time(), TZ)
    end = datetime.combine(date(year + 1, 1, 1), time(), TZ)
    received = (select(Manifest.receiver_org_id.label("org_id"),
                       ManifestLine.category_code.label("category"),
                       func.sum(func.coalesce(ManifestLine.received_kg, 0)
                                - func.coalesce(ManifestLine.refused_kg, 0)).label("kg"))
                .join(Manifest, Manifest.id == ManifestLine.manifest_id)
                .where(Manifest.status.in_(RECEIVED), Manifest.received_at >= start,
                       Manifest.received_at < end)
                .group_by(Manifest.receiver_org_id, ManifestLine.category_code).subquery())
    licensed = (select(Licence.org_id.label("org_id"), LicenceItem.category_code.label("category"),
                       func.sum(LicenceItem.approved_kg_per_year).label("kg"))
                .join(Licence, Licence.id == LicenceItem.licence_id)
                .where(Licence.status == "verified", Licence.valid_from <= date(year, 12, 31),
                       Licence.valid_to >= date(year, 1, 1))
                .group_by(Licence.org_id, LicenceItem.category_code).subquery())
    licensed_kg = func.coalesce(licensed.c.kg, 0)
    rows = db.session.execute(
        select(received.c.org_id, received.c.category, received.c.kg, licensed_kg)
        .outerjoin(licensed, and_(licensed.c.org_id == received.c.org_id,
                                  licensed.c.category == received.c.category))
        .where(received.c.kg * 100 > licensed_kg * THROUGHPUT_LIMIT_PCT)).all()
    for org_id, category, kg, approved in rows:
        raise_alert(THROUGHPUT_BEYOND_LICENCE, "critical",
                    subject=f"throughput:{org_id}:{category}:{year}", operator_org_id=org_id,
                    data={"category": category, "year": year, "received_kg": int(kg),
                          "approved_kg_per_year": int(approved)})
    return len(rows)


def transfers_after_licence_expiry() -> int:
    received_day = func.date(func.timezone("Asia/Shanghai", Manifest.received_at))
    rows = db.session.execute(
        select(Manifest.id, Manifest.order_id, Licence.number, Licence.valid_to)
        .join(Licence, Licence.number == Manifest.licence_number)
        .where(Manifest.status.in_(RECEIVED),
               or_(received_day > Licence.valid_to, received_day < Licence.valid_from))).all()
    for manifest_id, order_id, number, valid_to in rows:
        raise_alert(TRANSFER_AFTER_LICENCE_EXPIRY, "critical", subject=f"manifest:{manifest_id}",
                    order_id=order_id, manifest_id=manifest_id,
                    data={"licence_number": number, "valid_to": valid_to.isoformat()})
    return len(rows)


def run_all(day: date) -> dict[str, int]:
    """Every sweep; how many subjects each found (alerts already raised are not raised again)."""
    return {"release_before_receipt": releases_before_receipt(),
            "manifest_unfunded_order": received_unfunded(),
            "throughput_beyond_licence": throughput(day.year),
            "transfer_after_licence_expiry": transfers_after_licence_expiry()}

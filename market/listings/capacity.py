"""Licensed capacity: approved − active reservations (− received beyond them), per item and year.

Helpers only: they run inside the caller's transaction and never commit. An award takes the
licence-item row lock before it reads the reservations, so two awards on one item are serialised
and the second sees what the first reserved (READ COMMITTED re-reads after the lock is granted).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.accounts.models import Licence, LicenceItem
from market.db import utcnow
from market.errors import Conflict, NotFound
from market.listings.models import CapacityReservation


class CapacityExhausted(Conflict):
    code = "capacity_exhausted"


def lock_item(item_id: int) -> LicenceItem:
    """Take the licence item's row lock (FOR NO KEY UPDATE: foreign-key inserts still proceed)."""
    item = db.session.scalar(select(LicenceItem).where(LicenceItem.id == item_id)
                             .with_for_update(key_share=True))
    if item is None:
        raise NotFound(_("No such licence item."))
    return item


def reserved_kg(item_id: int, year: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(CapacityReservation.kg), 0))
        .where(CapacityReservation.licence_item_id == item_id, CapacityReservation.year == year,
               CapacityReservation.released_at.is_(None))) or 0


def received_beyond_reservations_kg(item_id: int, year: int) -> int:
    # Receipts arrive with manifests (a later issue); until then nothing is received off-order.
    return 0


def remaining_kg(item: LicenceItem, year: int) -> int:
    return (item.approved_kg_per_year - reserved_kg(item.id, year)
            - received_beyond_reservations_kg(item.id, year))


def reserve(item_id: int, year: int, kg: int, order_id: int) -> CapacityReservation:
    """Reserve kg of the item for the order; the caller must hold lock_item(item_id)."""
    item = lock_item(item_id)  # re-entrant within the transaction; cheap if already held
    left = remaining_kg(item, year)
    if left < kg:
        raise CapacityExhausted(_(
            "Remaining licensed capacity this year (%(remaining)s kg) is below the quantity (%(quantity)s kg).",
            remaining=f"{left:,}", quantity=f"{kg:,}"), field="quantity_kg")
    res = CapacityReservation(licence_item_id=item_id, year=year, order_id=order_id, kg=kg)
    db.session.add(res)
    db.session.flush()
    return res


def active_reservation(order_id: int) -> CapacityReservation | None:
    """The order's reservation still in force, under its row lock."""
    return db.session.scalar(select(CapacityReservation).where(
        CapacityReservation.order_id == order_id, CapacityReservation.released_at.is_(None))
        .with_for_update())


def release(order_id: int) -> CapacityReservation | None:
    """Release the order's reservation, if it holds one still active."""
    res = active_reservation(order_id)
    if res is not None:
        res.released_at = utcnow()
        db.session.flush()
    return res


def true_up(order_id: int, kg: int) -> CapacityReservation | None:
    """Set the order's reservation to the kilograms actually accepted (settlement); released
    when nothing was accepted. Returns the reservation, or None when the order held none."""
    res = active_reservation(order_id)
    if res is None:
        return None
    if kg > 0:
        res.kg = kg
    else:
        res.released_at = utcnow()
    db.session.flush()
    return res


def usage(org_id: int, year: int) -> list[dict]:
    """Each licence item of the organisation with approved, reserved and remaining kg for the year."""
    reserved = (select(CapacityReservation.licence_item_id, func.sum(CapacityReservation.kg).label("kg"))
                .where(CapacityReservation.year == year, CapacityReservation.released_at.is_(None))
                .group_by(CapacityReservation.licence_item_id).subquery())
    rows = db.session.execute(
        select(LicenceItem, Licence, func.coalesce(reserved.c.kg, 0))
        .join(Licence, Licence.id == LicenceItem.licence_id)
        .outerjoin(reserved, reserved.c.licence_item_id == LicenceItem.id)
        .where(Licence.org_id == org_id).order_by(LicenceItem.category_code, LicenceItem.id)).all()
    return [{"item": item, "licence": lic, "approved_kg": item.approved_kg_per_year,
             "reserved_kg": int(kg), "remaining_kg": item.approved_kg_per_year - int(kg)}
            for item, lic, kg in rows]


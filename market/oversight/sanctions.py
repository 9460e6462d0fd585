"""Sanctions in force, read by the contexts they bar (matching, posting requests). Imports only
the oversight models, so any context may read it without an import cycle."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import and_, or_, select

from market import db
from market.oversight.models import Sanction


def blacklisted_ids(org_ids: Iterable[int], *days: date) -> set[int]:
    """Which of these organisations are under a blacklist in force on any of `days`."""
    ids = list(org_ids)
    if not ids or not days:
        return set()
    # One statement for every day: matching reads this once per batch of candidates.
    in_force = or_(*(and_(Sanction.valid_from <= day, Sanction.valid_to >= day)
                     for day in sorted(set(days))))
    return set(db.session.scalars(select(Sanction.org_id).where(
        Sanction.org_id.in_(ids), Sanction.kind == "blacklist", in_force)))


def blacklist_in_force(org_id: int, day: date) -> Sanction | None:
    return db.session.scalar(select(Sanction).where(
        Sanction.org_id == org_id, Sanction.kind == "blacklist", Sanction.valid_from <= day,
        Sanction.valid_to >= day).order_by(Sanction.valid_to.desc()).limit(1))

"""Sanctions in force, read by the contexts they bar (matching, posting requests). Imports only
the oversight models, so any context may read it without an import cycle."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import select

from market import db
from market.oversight.models import Sanction


def blacklisted_ids(org_ids: Iterable[int], *days: date) -> set[int]:
    """Which of these organisations are under a blacklist in force on any of `days`."""
    ids = list(org_ids)
    if not ids or not days:
        return set()
    found: set[int] = set()
    for day in set(days):
        found |= set(db.session.scalars(select(Sanction.org_id).where(
            Sanction.org_id.in_(ids), Sanction.kind == "blacklist",
            Sanction.valid_from <= day, Sanction.valid_to >= day)))
    return found


def blacklist_in_force(org_id: int, day: date) -> Sanction | None:
    return db.session.scalar(select(Sanction).where(
        Sanction.org_id == org_id, Sanction.kind == "blacklist", Sanction.valid_from <= day,
        Sanction.valid_to >= day).order_by(Sanction.valid_to.desc()).limit(1))

"""Sanctions in force, read by the contexts they bar (matching, posting requests). Imports only
the oversight models, so any context may read it without an import cycle."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, or_, select

from market import db
from market.oversight.models import Sanction


def blacklisted_clause(org_id_column, *days):
    """The organisation in `org_id_column` is under a blacklist in force on any of `days` (values
    or bind parameters): a clause for the matching statements, which read it per operator."""
    return exists().where(Sanction.org_id == org_id_column, Sanction.kind == "blacklist",
                          or_(*(and_(Sanction.valid_from <= day, Sanction.valid_to >= day)
                                for day in days)))


def blacklist_in_force(org_id: int, day: date) -> Sanction | None:
    return db.session.scalar(select(Sanction).where(
        Sanction.org_id == org_id, Sanction.kind == "blacklist", Sanction.valid_from <= day,
        Sanction.valid_to >= day).order_by(Sanction.valid_to.desc()).limit(1))

"""Sanctions in force, read by the contexts they bar (matching, posting requests). Imports only
the oversight models, so any context may read it without an import cycle."""
from __future__ import annotations

import functools
from datetime import date
from typing import Iterable

from sqlalchemy import Date, Integer, and_, any_, bindparam, exists, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from market import db
from market.oversight.models import Sanction


@functools.cache
def _blacklisted_statement(n_days: int):
    """Built once per number of days: the ids are one array parameter, so the statement text (and
    its prepared plan) is the same however many organisations are asked about."""
    in_force = or_(*(and_(Sanction.valid_from <= bindparam(f"day{i}", type_=Date),
                          Sanction.valid_to >= bindparam(f"day{i}", type_=Date))
                     for i in range(n_days)))
    return (select(Sanction.org_id)
            .where(Sanction.org_id == any_(bindparam("org_ids", type_=ARRAY(Integer))),
                   Sanction.kind == "blacklist", in_force))


def blacklisted_clause(org_id_column, *days):
    """SQL twin of blacklisted_ids for one row: the organisation in `org_id_column` is under a
    blacklist in force on any of `days` (values or bind parameters)."""
    return exists().where(Sanction.org_id == org_id_column, Sanction.kind == "blacklist",
                          or_(*(and_(Sanction.valid_from <= day, Sanction.valid_to >= day)
                                for day in days)))


def blacklisted_ids(org_ids: Iterable[int], *days: date) -> set[int]:
    """Which of these organisations are under a blacklist in force on any of `days`."""
    ids = list(org_ids)
    if not ids or not days:
        return set()
    # One statement for every day: matching reads this once per batch of candidates.
    days = sorted(set(days))
    rows = db.session.connection().execute(
        _blacklisted_statement(len(days)),
        {"org_ids": ids, **{f"day{i}": day for i, day in enumerate(days)}})
    return {org_id for (org_id,) in rows}


def blacklist_in_force(org_id: int, day: date) -> Sanction | None:
    return db.session.scalar(select(Sanction).where(
        Sanction.org_id == org_id, Sanction.kind == "blacklist", Sanction.valid_from <= day,
        Sanction.valid_to >= day).order_by(Sanction.valid_to.desc()).limit(1))

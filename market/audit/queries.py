"""The audit browser's reads: filtered events a page at a time (keyset on id), with the names of
their actors and organisations."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import select

from market import db
from market.accounts.models import Organisation, User
from market.audit.models import AuditEvent
from market.audit.summary import org_ids

PAGE_SIZE = 50


@dataclass
class AuditFilter:
    action: str | None = None          # the beginning of the action, e.g. "licence."
    object_type: str | None = None
    object_id: str | None = None
    actor: int | None = None           # a user id
    organisation: str | None = None    # an organisation id, or part of its name
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AuditPage:
    events: list[AuditEvent]
    newer: int | None                  # pass as ?after= for the newer page
    older: int | None                  # pass as ?before= for the older page
    users: dict[int, User] = field(default_factory=dict)
    orgs: dict[int, str] = field(default_factory=dict)


def _filtered(f: AuditFilter, tz: tzinfo):
    stmt = select(AuditEvent)
    if f.action:
        stmt = stmt.where(AuditEvent.action.startswith(f.action, autoescape=True))
    if f.object_type:
        stmt = stmt.where(AuditEvent.object_type == f.object_type)
    if f.object_id:
        stmt = stmt.where(AuditEvent.object_id == f.object_id)
    if f.actor:
        stmt = stmt.where(AuditEvent.actor_user_id == f.actor)
    if f.organisation:
        if f.organisation.isdigit() and len(f.organisation) < 10:
            stmt = stmt.where(AuditEvent.actor_org_id == int(f.organisation))
        else:
            names = select(Organisation.id).where(
                Organisation.name.contains(f.organisation, autoescape=True))
            stmt = stmt.where(AuditEvent.actor_org_id.in_(names))
    if f.date_from:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(f.date_from, time(), tz))
    if f.date_to:
        stmt = stmt.where(AuditEvent.at < datetime.combine(f.date_to + timedelta(days=1), time(), tz))
    return stmt


def _any(stmt, condition) -> bool:
    return db.session.scalar(stmt.with_only_columns(AuditEvent.id).where(condition).limit(1)) is not None


def audit_page(f: AuditFilter, tz: tzinfo, *, before: int | None = None, after: int | None = None,
               size: int = PAGE_SIZE) -> AuditPage:
    """Newest first. `before` gives the page of older events, `after` the page of newer ones."""
    stmt = _filtered(f, tz)
    if after is not None:
        rows = list(db.session.scalars(stmt.where(AuditEvent.id > after)
                                       .order_by(AuditEvent.id.asc()).limit(size + 1)))
        if len(rows) <= size:  # the newest events: the first page, full
            return audit_page(f, tz, size=size)
        has_more_newer = True
        events = list(reversed(rows[:size]))
        has_more_older = bool(events) and _any(stmt, AuditEvent.id < events[-1].id)
    else:
        if before is not None:
            stmt_page = stmt.where(AuditEvent.id < before)
        else:
            stmt_page = stmt
        rows = list(db.session.scalars(stmt_page.order_by(AuditEvent.id.desc()).limit(size + 1)))
        has_more_older = len(rows) > size
        events = rows[:size]
        has_more_newer = before is not None and bool(events) and _any(stmt, AuditEvent.id > events[0].id)
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    org_set = {e.actor_org_id for e in events if e.actor_org_id}
    for e in events:
        org_set |= org_ids(e.changes)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    orgs = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(org_set))).all()) if org_set else {}
    return AuditPage(events=events, users=users, orgs=orgs,
                     newer=events[0].id if events and has_more_newer else None,
                     older=events[-1].id if events and has_more_older else None)

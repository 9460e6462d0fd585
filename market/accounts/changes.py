"""A verified identity stays verified: change requests for name, credit code, types and region.

Once an organisation is verified, these fields are what its counterparties, its regulator and its
signed contracts rely on. They change only when an admin approves a change request; until then the
old values stay live. Requests and decisions are audited; the organisation is told the outcome.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import IDENTITY_FIELDS, ORG_TYPES, Organisation, OrgChangeRequest, User
from market.accounts.validation import validate_org_fields
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org, notify_users
from market.uow import transaction

# Statuses whose identity is verified (or was, and may be again): changes need an admin.
GUARDED_STATUSES = ("verified", "suspended")


def identity_of(org: Organisation) -> dict:
    """The organisation's identity fields as JSON values."""
    return {"name": org.name, "credit_code": org.credit_code, "types": list(org.types or []),
            "region_code": org.region_code}


def requested_changes(org: Organisation, wanted: dict) -> dict:
    """The identity fields in `wanted` whose value differs from the organisation's."""
    now = identity_of(org)
    out = {}
    for field in IDENTITY_FIELDS:
        if field not in wanted or wanted[field] is None:
            continue
        value = [t for t in ORG_TYPES if t in wanted[field]] if field == "types" else wanted[field]
        if value != now[field]:
            out[field] = value
    return out


def pending_for(org_id: int) -> OrgChangeRequest | None:
    return db.session.scalar(select(OrgChangeRequest).where(OrgChangeRequest.org_id == org_id,
                                                            OrgChangeRequest.status == "pending"))


def pending_requests() -> list[OrgChangeRequest]:
    """Every change request awaiting an admin, oldest first."""
    return list(db.session.scalars(select(OrgChangeRequest).where(
        OrgChangeRequest.status == "pending").order_by(OrgChangeRequest.id)))


def open_request(actor: User, org: Organisation, changes: dict) -> OrgChangeRequest:
    """Queue `changes` for an admin (org locked, values validated); a pending one is replaced."""
    previous = pending_for(org.id)
    if previous is not None:
        previous.status = "withdrawn"
        previous.decided_at = utcnow()
        record("organisation.change_withdrawn", previous, actor=actor,
               changes={"replaced": True})
        db.session.flush()
    now = identity_of(org)
    req = OrgChangeRequest(org_id=org.id, requested_by_id=actor.id, changes=changes,
                           previous={f: now[f] for f in changes}, status="pending")
    db.session.add(req)
    db.session.flush()
    record("organisation.change_requested", req, actor=actor,
           changes={"org_id": org.id, "from": req.previous, "to": changes})
    admins = db.session.scalars(select(User).where(User.platform_role == "admin",
                                                   User.active.is_(True)))
    notify_users(admins, "org.change_requested",
                 message("%(name)s asks to change its registered identity.", name=org.name),
                 link="/admin/changes")
    return req


def decide_change(actor: User, change_id: int, approve: bool, reason: str = "") -> OrgChangeRequest:
    """An admin approves (the new values go live) or rejects (nothing changes) a change request."""
    with transaction():
        if not actor.is_platform or actor.platform_role != "admin":
            raise PermissionDenied(_("Only platform administrators may do this."))
        req = db.session.execute(select(OrgChangeRequest).where(OrgChangeRequest.id == change_id)
                                 .with_for_update()).scalar_one_or_none()
        if req is None:
            raise NotFound(_("No such change request."))
        if req.status != "pending":
            raise InvalidState(_("This change request was already decided."), code="already_decided")
        reason = (reason or "").strip()
        if len(reason) > 1000:
            raise ValidationFailed(_("Reason must be at most 1000 characters."), field="reason")
        if not approve and not reason:
            raise ValidationFailed(_("A reason is required."), field="reason")
        org = db.session.get(Organisation, req.org_id, with_for_update=True)
        if approve:
            wanted = {**identity_of(org), **req.changes}
            code = validate_org_fields(wanted["name"], wanted["credit_code"], wanted["types"],
                                 wanted["region_code"], exclude_id=org.id)
            org.name, org.credit_code = wanted["name"], code
            org.types, org.region_code = list(wanted["types"]), wanted["region_code"]
        req.status = "approved" if approve else "rejected"
        req.decided_by_id, req.decided_at, req.reason = actor.id, utcnow(), reason or None
        record(f"organisation.change_{req.status}", req, actor=actor,
               changes={"org_id": org.id, "from": req.previous, "to": req.changes,
                        "reason": reason or None})
        if approve:
            title = message("Your change of registered details was approved.")
        else:
            title = message("Your change of registered details was rejected.")
        notify_org(org.id, f"org.change_{req.status}", title, verbatim(reason),
                   link="/account/organisation")
        return req

"""Corporate groups: a platform admin puts organisations under one owner, so the price index
counts the group's operators as one contributor (pricing/disclosure.py, DESIGN.md §7)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import CorporateGroup, Organisation, User
from market.audit.services import record
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.uow import transaction

MAX_NAME = 200


def group_names() -> list[str]:
    return list(db.session.scalars(select(CorporateGroup.name).order_by(CorporateGroup.name)))


def set_corporate_group(actor: User, org_id: int, name: str) -> Organisation:
    """Put an organisation in the corporate group called `name` (created when new), or in none
    when `name` is blank. Audited as organisation.corporate_group with the old and new names."""
    with transaction():
        if actor.platform_role != "admin":
            raise PermissionDenied(_("Only platform administrators may do this."))
        name = " ".join((name or "").split())
        if len(name) > MAX_NAME:
            raise ValidationFailed(_("Corporate group must be at most %(n)s characters.", n=MAX_NAME),
                                   field="corporate_group")
        org = db.session.get(Organisation, org_id, with_for_update=True)
        if org is None or org.kind != "enterprise":
            raise NotFound(_("No such organisation."))
        old = org.corporate_group.name if org.corporate_group else None
        group = None
        if name:
            group = db.session.scalar(select(CorporateGroup).where(CorporateGroup.name == name))
            if group is None:
                group = CorporateGroup(name=name)
                db.session.add(group)
                db.session.flush()
        if (group.name if group else None) == old:
            return org
        org.corporate_group = group
        record("organisation.corporate_group", org,
               changes={"corporate_group": [old, group.name if group else None]}, actor=actor)
        return org

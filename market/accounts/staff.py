"""Platform staff: roles (admin, finance) granted and withdrawn by platform admins only."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import PLATFORM_ROLES, Organisation, User
from market.audit.services import record
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.notifications.messages import as_word, message
from market.notifications.services import notify_user
from market.uow import transaction


ROLE_WORDS = {"admin": "platform administrator", "finance": "platform finance"}  # msgids


def role_word(role: str | None) -> str:
    """The msgid naming a platform role (runtime_msgids.py lists them); "no role" for None."""
    return ROLE_WORDS.get(role or "", "no platform role")


def role_name(role: str | None) -> str:
    """A platform role in the user's language; "no role" for None."""
    return _(role_word(role))


def platform_members() -> list[User]:
    """Every user of the platform organisation, with or without a role."""
    return list(db.session.scalars(select(User).join(Organisation, Organisation.id == User.org_id)
                                   .where(Organisation.kind == "platform").order_by(User.id)))


def set_platform_role(actor: User, user_id: int, role: str | None) -> User:
    """Grant a platform role to a member of the platform organisation, or withdraw it (admins)."""
    with transaction():
        if not actor.is_platform or actor.platform_role != "admin":
            raise PermissionDenied(_("Only platform administrators may do this."))
        role = role or None
        if role is not None and role not in PLATFORM_ROLES:
            raise ValidationFailed(_("Choose the platform role to grant: admin or finance."),
                                   field="platform_role")
        user = db.session.get(User, user_id, with_for_update={"of": User})
        if user is None or user.org.kind != "platform":
            raise NotFound(_("No such member of the platform organisation."))
        if user.id == actor.id:
            raise PermissionDenied(_("Another administrator must change your own role."),
                                   field="platform_role")
        if user.platform_role != role:
            record("user.platform_role", user, actor=actor,
                   changes={"from": user.platform_role, "to": role})
            user.platform_role = role
            notify_user(user, "user.platform_role",
                        message("Your platform role is now %(role)s.", role=as_word(role_word(role))))
        return user

"""Use cases of organisations and users: registration, verification, invitations, passwords."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from market import db
from market.acting import allow_while_suspended
from market.accounts import changes
from market.accounts.models import ORG_TYPES, PLATFORM_ROLES, Invitation, Organisation, User
from market.accounts.passwords import MIN_LENGTH, check_password, hash_password
from market.accounts.validation import validate_org_fields
from market.accounts.policies import normalise_credit_code
from market.accounts.sessions import end_all_credentials
from market.audit.services import changed_fields, record
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.notifications.messages import as_word, message, verbatim
from market.notifications.services import notify_org, notify_user, queue_email
from market.uow import transaction

INVITATION_DAYS = 7


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password_rule(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_LENGTH:
        raise ValidationFailed(_("Password must be at least %(n)d characters.", n=MIN_LENGTH),
                               field=field)


def _check_email_free(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise ValidationFailed(_("An account with this e-mail already exists."), field="email")
    return email


def register_organisation(*, name: str, credit_code: str, types: list[str], region_code: str,
                          address: str, user_name: str, email: str, password: str,
                          latitude=None, longitude=None) -> User:
    """Register an organisation (pending verification) with its first user as its admin."""
    with transaction():
        code = validate_org_fields(name, credit_code, types, region_code, latitude, longitude)
        email = _check_email_free(email)
        if not (user_name or "").strip():
            raise ValidationFailed(_("Your name is required."), field="user_name")
        _check_password_rule(password)
        org = Organisation(name=name.strip(), credit_code=code, kind="enterprise",
                           types=[t for t in ORG_TYPES if t in types], region_code=region_code,
                           address=(address or "").strip(), latitude=latitude, longitude=longitude,
                           status="pending")
        db.session.add(org)
        db.session.flush()
        user = User(org_id=org.id, email=email, name=user_name.strip(),
                    password_hash=hash_password(password), is_org_admin=True)
        db.session.add(user)
        db.session.flush()
        record("organisation.registered", org, actor=user,
               changes={"name": org.name, "credit_code": code, "types": org.types,
                        "region_code": region_code})
        for admin in _platform_admins():
            notify_user(admin, "org.pending",
                        message("New organisation to verify: %(name)s", name=org.name),
                        link=f"/admin/organisations/{org.id}")
        return user


def _platform_admins() -> list[User]:
    return list(db.session.scalars(select(User).where(User.platform_role == "admin",
                                                      User.active.is_(True))))


def _require_admin(actor: User) -> None:
    if actor.platform_role != "admin":
        raise PermissionDenied(_("Only platform administrators may do this."))


_ORG_DECISIONS = {
    # action: (allowed from, to, needs reason)
    "verify": (("pending", "rejected"), "verified", False),
    "reject": (("pending",), "rejected", True),
    "suspend": (("verified",), "suspended", True),
    "reinstate": (("suspended",), "verified", False),
}


def decide_organisation(actor: User, org_id: int, action: str, reason: str = "") -> Organisation:
    """Verify, reject, suspend or reinstate an organisation (admin); audited and notified."""
    with transaction():
        _require_admin(actor)
        if action not in _ORG_DECISIONS:
            raise ValidationFailed(_("Unknown decision: use one of the buttons on the organisation’s page."), field="action")
        sources, target, needs_reason = _ORG_DECISIONS[action]
        org = db.session.execute(select(Organisation).where(Organisation.id == org_id)
                                 .with_for_update()).scalar_one_or_none()
        if org is None or org.kind != "enterprise":
            raise NotFound(_("No such organisation."))
        if org.status not in sources:
            raise InvalidState(_("Cannot %(action)s an organisation that is %(status)s.",
                                 action=_(action), status=_(org.status)))
        reason = (reason or "").strip()
        if needs_reason and not reason:
            raise ValidationFailed(_("A reason is required."), field="reason")
        if len(reason) > 1000:
            raise ValidationFailed(_("Reason must be at most 1000 characters."), field="reason")
        org.status = target
        org.status_reason = reason or None
        record(f"organisation.{action}", org, changes=changed_fields(org), actor=actor)
        notify_org(org.id, f"org.{action}",
                   message("Your organisation is now %(status)s.", status=as_word(target)),
                   verbatim(reason),
                   link="/account/organisation")
        return org


def update_profile(actor: User, *, name: str, address: str, region_code: str, latitude=None,
                   longitude=None, credit_code: str | None = None,
                   types: list[str] | None = None) -> Organisation:
    """Edit the organisation's profile (its own admins).

    Address and coordinates change at once. Name, credit code, types and region of a verified
    organisation change only through a change request an admin approves (market.accounts.changes):
    the old values stay live until then.
    """
    with transaction():
        if not actor.is_org_admin:
            raise PermissionDenied(_("Only your organisation's administrators may edit its profile."))
        org = db.session.get(Organisation, actor.org_id, with_for_update=True)
        name = (name or "").strip()
        credit_code = org.credit_code if credit_code is None else credit_code
        types = (org.types or ["generator"]) if types is None else types
        code = validate_org_fields(name, credit_code, types, region_code, latitude, longitude,
                                   exclude_id=org.id)
        wanted = changes.requested_changes(org, {"name": name, "credit_code": code,
                                                 "types": types, "region_code": region_code})
        org.address, org.latitude, org.longitude = (address or "").strip(), latitude, longitude
        if org.status in changes.GUARDED_STATUSES:
            if wanted:
                changes.open_request(actor, org, wanted)
        else:  # not yet verified: an admin verifies whatever the organisation now says
            for field, value in wanted.items():
                setattr(org, field, value)
        updated = changed_fields(org)
        if updated:
            record("organisation.updated", org, changes=updated, actor=actor)
        return org


def _check_invited_role(actor: User, platform_role: str | None) -> str | None:
    """Into the platform organisation: only an admin invites, and names the role it grants."""
    if actor.org.kind != "platform":
        if platform_role:
            raise PermissionDenied(_("Only platform administrators grant platform roles."))
        return None
    if actor.platform_role != "admin":
        raise PermissionDenied(_("Only platform administrators may invite platform staff."))
    if platform_role not in PLATFORM_ROLES:
        raise ValidationFailed(_("Choose the platform role to grant: admin or finance."),
                               field="platform_role")
    return platform_role


def invite_user(actor: User, email: str, platform_role: str | None = None) -> str:
    """Invite a colleague to the actor's organisation; returns the invitation token."""
    with transaction():
        if not actor.is_org_admin:
            raise PermissionDenied(_("Only your organisation's administrators may invite users."))
        platform_role = _check_invited_role(actor, platform_role)
        email = _check_email_free(email)
        token = secrets.token_urlsafe(32)
        inv = Invitation(org_id=actor.org_id, email=email, token_hash=_token_hash(token),
                         invited_by_id=actor.id, expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
                         platform_role=platform_role)
        db.session.add(inv)
        record("user.invited", inv, changes={"email": email, "platform_role": platform_role},
               actor=actor)
        base = current_app.config["BASE_URL"]
        queue_email(email, _("Invitation to Hazex from %(org)s", org=actor.org.name),
                    _("Accept the invitation within %(days)d days: %(url)s", days=INVITATION_DAYS,
                      url=f"{base}/invitations/{token}"))
        return token


def find_invitation(token: str) -> Invitation:
    inv = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if inv is None or inv.accepted_at is not None or inv.expires_at < utcnow():
        raise NotFound(_("This invitation is unknown, used or expired."))
    return inv


def accept_invitation(token: str, *, name: str, password: str) -> User:
    """Create the invited user's account."""
    with transaction():
        inv = find_invitation(token)
        db.session.refresh(inv, with_for_update=True)
        if inv.accepted_at is not None:
            raise NotFound(_("This invitation is unknown, used or expired."))
        if not (name or "").strip():
            raise ValidationFailed(_("Your name is required."), field="name")
        _check_password_rule(password)
        email = _check_email_free(inv.email)
        if inv.org.kind == "platform" and inv.platform_role not in PLATFORM_ROLES:
            raise NotFound(_("This invitation is unknown, used or expired."))
        user = User(org_id=inv.org_id, email=email, name=name.strip(),
                    password_hash=hash_password(password), platform_role=inv.platform_role)
        db.session.add(user)
        inv.accepted_at = utcnow()
        db.session.flush()
        record("user.joined", user, changes={"email": email, "invitation": inv.id,
                                             "platform_role": inv.platform_role}, actor=user)
        return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if not check_password(user.password_hash if user else None, password or ""):
        return None
    return user if user.active else None


def change_password(actor: User, current: str, new: str) -> dict[str, int]:
    """Change the actor's password; every session and API token of theirs ends with it."""
    with transaction():
        allow_while_suspended()  # a suspended organisation's users still keep their accounts safe
        user = db.session.get(User, actor.id, with_for_update={"of": User})
        if not check_password(user.password_hash, current or ""):
            raise ValidationFailed(_("The current password is wrong."), field="current_password")
        _check_password_rule(new, field="new_password")
        user.password_hash = hash_password(new)
        ended = end_all_credentials(user)
        record("user.password_changed", user, changes=ended, actor=user)
        return ended


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the account exists; say nothing either way."""
    with transaction():
        user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
        if user is None or not user.active:
            return
        # The current hash is signed in, so a token stops working once the password changes.
        token = _reset_serializer().dumps([user.id, user.password_hash[-16:]])
        minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
        queue_email(user.email, _("Reset your Hazex password"),
                    _("Open this link within %(m)d minutes to choose a new password: %(url)s",
                      m=minutes, url=f"{current_app.config['BASE_URL']}/reset/{token}"))
        record("user.password_reset_requested", user, actor=user)


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset token."""
    with transaction():
        try:
            user_id, fingerprint = _reset_serializer().loads(
                token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
        except SignatureExpired:
            raise ValidationFailed(_("This reset link has expired; ask for a new one."), field="token") from None
        except BadSignature:
            raise ValidationFailed(_("This reset link is not valid."), field="token") from None
        # of=User: the joined-eager organisation is on the nullable side of an outer join, which
        # PostgreSQL refuses to lock.
        user = db.session.get(User, user_id, with_for_update={"of": User})
        if user is None or user.password_hash[-16:] != fingerprint:
            raise ValidationFailed(_("This reset link has already been used."), field="token")
        _check_password_rule(password)
        user.password_hash = hash_password(password)
        record("user.password_reset", user, changes=end_all_credentials(user), actor=user)
        return user


def set_locale(user: User, locale: str) -> None:
    """Remember the user's chosen language."""
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed(_("Unsupported language."), field="locale")
    with transaction():
        allow_while_suspended()  # a preference, not a trade
        u = db.session.get(User, user.id)
        if u.locale != locale:
            u.locale = locale
            record("user.locale", u, changes={"locale": locale}, actor=u)

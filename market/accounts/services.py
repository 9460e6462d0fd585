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
from market.accounts.models import ORG_TYPES, Invitation, Organisation, User
from market.accounts.passwords import MIN_LENGTH, check_password, hash_password
from market.accounts.policies import normalise_credit_code
from market.accounts.sessions import end_all_credentials
from market.audit.services import changed_fields, record
from market.catalog.models import Region
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
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


def validate_org_fields(name: str, credit_code: str, types: list[str], region_code: str,
                        latitude=None, longitude=None, exclude_id: int | None = None) -> str:
    """Check an organisation's fields; return the normalised credit code."""
    if not (name or "").strip():
        raise ValidationFailed(_("Name is required."), field="name")
    if len(name) > 200:
        raise ValidationFailed(_("Name must be at most 200 characters."), field="name")
    try:
        code = normalise_credit_code(credit_code or "")
    except ValueError as exc:
        raise ValidationFailed(_("Unified social credit code %(reason)s.", reason=_(str(exc))),
                               field="credit_code") from None
    clash = select(Organisation.id).where(Organisation.credit_code == code)
    if exclude_id:
        clash = clash.where(Organisation.id != exclude_id)
    if db.session.scalar(clash):
        raise ValidationFailed(_("An organisation with this credit code is already registered."),
                               field="credit_code")
    if not types or any(t not in ORG_TYPES for t in types):
        raise ValidationFailed(_("Choose at least one of generator, operator, carrier, lab."),
                               field="types")
    region = db.session.get(Region, region_code or "")
    if region is None:
        raise ValidationFailed(_("Region code %(code)s is not in the region table.",
                                 code=region_code or "—"), field="region_code")
    if (latitude is None) != (longitude is None):
        raise ValidationFailed(_("Give both latitude and longitude, or neither."), field="latitude")
    if latitude is not None and not (-90 <= float(latitude) <= 90):
        raise ValidationFailed(_("Latitude must be between -90 and 90."), field="latitude")
    if longitude is not None and not (-180 <= float(longitude) <= 180):
        raise ValidationFailed(_("Longitude must be between -180 and 180."), field="longitude")
    return code


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
            notify_user(admin, "org.pending", _("New organisation to verify: %(name)s", name=org.name),
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
            raise ValidationFailed(_("Unknown decision."), field="action")
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
                   _("Your organisation is now %(status)s.", status=_(target)), reason,
                   link="/account/organisation")
        return org


def update_profile(actor: User, *, name: str, address: str, region_code: str, latitude=None,
                   longitude=None) -> Organisation:
    """Edit the organisation's profile (its own admins)."""
    with transaction():
        if not actor.is_org_admin:
            raise PermissionDenied(_("Only your organisation's administrators may edit its profile."))
        org = db.session.get(Organisation, actor.org_id, with_for_update=True)
        validate_org_fields(name, org.credit_code, org.types or ["generator"], region_code,
                            latitude, longitude, exclude_id=org.id)
        org.name, org.address, org.region_code = name.strip(), (address or "").strip(), region_code
        org.latitude, org.longitude = latitude, longitude
        changes = changed_fields(org)
        if changes:
            record("organisation.updated", org, changes=changes, actor=actor)
        return org


def invite_user(actor: User, email: str) -> str:
    """Invite a colleague to the actor's organisation; returns the invitation token."""
    with transaction():
        if not actor.is_org_admin:
            raise PermissionDenied(_("Only your organisation's administrators may invite users."))
        email = _check_email_free(email)
        token = secrets.token_urlsafe(32)
        inv = Invitation(org_id=actor.org_id, email=email, token_hash=_token_hash(token),
                         invited_by_id=actor.id, expires_at=utcnow() + timedelta(days=INVITATION_DAYS))
        db.session.add(inv)
        record("user.invited", inv, changes={"email": email}, actor=actor)
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
        user = User(org_id=inv.org_id, email=email, name=name.strip(),
                    password_hash=hash_password(password))
        db.session.add(user)
        inv.accepted_at = utcnow()
        db.session.flush()
        record("user.joined", user, changes={"email": email, "invitation": inv.id}, actor=user)
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
        u = db.session.get(User, user.id)
        if u.locale != locale:
            u.locale = locale
            record("user.locale", u, changes={"locale": locale}, actor=u)

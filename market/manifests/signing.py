"""Pickup signatures: the generator and the carrier sign in either order, the carrier by login or
by the driver's one-time code; the second signature ships the manifest and locks both parts."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.manifests import codes, policies, reports, state
from market.manifests.access import locked_manifest, manifest_for_party
from market.manifests.errors import OrderNotFunded, PartLocked
from market.manifests.models import DriverCode, Manifest, ManifestSignature
from market.manifests.services import (SHIPPABLE, local_day, require_carrier_permit, 
                                       transition)
from market.notifications.messages import as_kg, message
from market.notifications.services import notify_org
from market.uow import transaction


def _check_part_open(manifest: Manifest, part: str) -> None:
    if manifest.status != "draft":
        raise PartLocked(_("Manifest %(number)s is %(status)s: its pickup parts are locked.",
                           number=manifest.number, status=_(manifest.status)), field="role")
    if manifest.signature(part) is not None:
        raise PartLocked(_("The %(part)s part of manifest %(number)s is already signed.",
                           part=_(part), number=manifest.number), field="role")


def _sign(manifest: Manifest, part: str, *, user: User | None, method: str, signer_name: str,
          ip: str | None) -> Manifest:
    _check_part_open(manifest, part)
    order = manifest.order
    if order.status not in SHIPPABLE:
        raise OrderNotFunded(_("Order %(number)s is %(status)s: the waste may not move.",
                               number=order.number, status=_(order.status)))
    now = utcnow()
    if part == "carrier":
        # The permit must be valid on the day the waste actually leaves.
        require_carrier_permit(order, manifest.carrier_org_id, local_day(now), manifest.id)
    signature = ManifestSignature(manifest_id=manifest.id, part=part,
                                  user_id=user.id if user else None, method=method,
                                  signer_name=signer_name[:100], signed_at=now, ip=ip)
    db.session.add(signature)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise PartLocked(_("The %(part)s part of manifest %(number)s is already signed.",
                           part=_(part), number=manifest.number), field="role") from None
    db.session.refresh(manifest, ["signatures"])
    record("manifest.signed", manifest, actor=user, changes={
        "number": manifest.number, "part": part, "method": method, "signer": signer_name})
    signed = {s.part for s in manifest.signatures}
    if state.ships_after(signed):
        transition(manifest, "shipped", "system")
        manifest.shipped_at = now
        codes.void_driver_codes(manifest.id)
        reports.queue_report(manifest, "shipped")
        record("manifest.shipped", manifest, actor=user, changes={
            "number": manifest.number, "sent_kg": manifest.sent_kg})
        notify_org(manifest.receiver_org_id, "manifest.shipped",
                   message("Manifest %(number)s has shipped: %(kg)s kg are on the way.",
                           number=manifest.number, kg=as_kg(manifest.sent_kg)),
                   link=f"/manifests/{manifest.id}")
    else:
        waiting = manifest.generator_org_id if part == "carrier" else manifest.carrier_org_id
        notify_org(waiting, "manifest.signed",
                   message("Manifest %(number)s awaits your pickup signature.", number=manifest.number),
                   link=f"/manifests/{manifest.id}")
    return manifest


def sign_pickup(actor: User, manifest_id: int, role: str, ip: str | None = None) -> Manifest:
    """The generator or the carrier signs its pickup part with its login."""
    if role not in ("generator", "carrier"):
        raise ValidationFailed(_("Sign as generator or carrier."), field="role")
    with transaction():
        manifest, roles = manifest_for_party(actor, manifest_id)
        if role not in roles:
            raise PermissionDenied(_("You may not sign the %(part)s part of this manifest.",
                                     part=_(role)))
        return _sign(manifest, role, user=actor, method="login", signer_name=actor.name, ip=ip)


def request_driver_code(actor: User, manifest_id: int, send_to: str | None = None) -> DriverCode:
    """The carrier has a one-time code sent to the driver (the manifest's driver e-mail, or the
    address given), so the driver can sign the carrier part without a login."""
    with transaction():
        manifest, roles = manifest_for_party(actor, manifest_id)
        if "carrier" not in roles:
            raise PermissionDenied(_("Only the carrier asks for a driver code."))
        _check_part_open(manifest, "carrier")
        target = (send_to or "").strip() or manifest.driver_email or ""
        if not policies.email_ok(target):
            raise ValidationFailed(_("Give the driver's e-mail address to send the code to."),
                                   field="send_to")
        row = codes.issue(manifest, actor.id, target)
        record("manifest.driver_code_sent", manifest, actor=actor,
               changes={"number": manifest.number, "sent_to": target,
                        "expires_at": row.expires_at.isoformat()})
        return row


def sign_with_driver_code(manifest_id: int, code: str, ip: str | None = None) -> Manifest:
    """The driver signs the carrier part with the one-time code; no login needed."""
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed(_("Enter the six-digit code."), field="driver_code")
    with transaction():
        manifest = locked_manifest(manifest_id)
        if manifest is None:
            raise NotFound(_("No such manifest."))
        _check_part_open(manifest, "carrier")
        codes.redeem(manifest, code.strip())
        return _sign(manifest, "carrier", user=None, method="driver_code",
                     signer_name=manifest.driver_name, ip=ip)


def pickup_state(manifest: Manifest) -> dict:
    """Which pickup parts are signed, for pages and the API."""
    return {part: manifest.signature(part) is not None for part in state.PARTS}


"""Driver one-time codes: six digits, 15 minutes, once, at most 5 wrong tries, stored hashed.

A wrong try is counted in a transaction of its own, after the refused signing rolls back, so the
count holds whatever the caller's transaction does.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from market import db
from market.db import utcnow
from market.manifests import policies
from market.manifests.errors import DriverCodeRefused
from market.manifests.models import DriverCode, Manifest
from market.notifications.services import queue_email
from market.uow import after_rollback, transaction


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def void_driver_codes(manifest_id: int) -> None:
    """Expire every unused code of the manifest (a new code replaces them; cancelling ends them)."""
    now = utcnow()
    db.session.execute(update(DriverCode).where(DriverCode.manifest_id == manifest_id,
                                                DriverCode.used_at.is_(None),
                                                DriverCode.expires_at > now)
                       .values(expires_at=now))


def issue(manifest: Manifest, created_by_id: int, send_to: str) -> DriverCode:
    """A new code for the manifest's driver, sent to `send_to` by e-mail after commit."""
    void_driver_codes(manifest.id)
    code = policies.new_driver_code()
    row = DriverCode(manifest_id=manifest.id, expires_at=policies.driver_code_expiry(utcnow()),
                     code_hash=policies.hash_driver_code(_secret(), manifest.id, code),
                     sent_to=send_to, created_by_id=created_by_id)
    db.session.add(row)
    db.session.flush()
    queue_email(send_to, _("Hazex manifest %(number)s: your signing code", number=manifest.number),
                _("Your one-time code to sign manifest %(number)s as the driver (vehicle "
                  "%(plate)s) is %(code)s. It is valid for %(minutes)d minutes and can be used "
                  "once. Do not share it.", number=manifest.number, plate=manifest.vehicle_plate,
                  code=code, minutes=policies.DRIVER_CODE_MINUTES))
    return row


def _count_failure(code_id: int) -> None:
    with transaction():
        db.session.execute(update(DriverCode).where(
            DriverCode.id == code_id,
            DriverCode.failed_attempts < policies.DRIVER_CODE_MAX_FAILURES)
            .values(failed_attempts=DriverCode.failed_attempts + 1))


def redeem(manifest: Manifest, code: str) -> DriverCode:
    """Use the manifest's latest code, or refuse: no code, used, expired, too many wrong tries,
    or wrong (that try is counted, even though the caller's transaction rolls back)."""
    row = db.session.scalar(select(DriverCode).where(DriverCode.manifest_id == manifest.id)
                            .order_by(DriverCode.id.desc()).limit(1).with_for_update())
    field = "driver_code"
    if row is None:
        raise DriverCodeRefused(_("No code was sent for this manifest; ask the carrier for one."),
                                field=field)
    if row.used_at is not None:
        raise DriverCodeRefused(_("This code was already used."), field=field)
    if row.failed_attempts >= policies.DRIVER_CODE_MAX_FAILURES:
        raise DriverCodeRefused(_("Too many wrong tries: ask the carrier for a new code."),
                                field=field, code="driver_code_locked")
    if row.expires_at <= utcnow():
        raise DriverCodeRefused(_("This code has expired; ask the carrier for a new one."),
                                field=field, code="driver_code_expired")
    if not (policies.driver_code_format_ok(code)
            and policies.code_matches(_secret(), manifest.id, code, row.code_hash)):
        code_id = row.id
        after_rollback(lambda: _count_failure(code_id))
        left = policies.DRIVER_CODE_MAX_FAILURES - row.failed_attempts - 1
        raise DriverCodeRefused(_("Wrong code; %(n)d tries left.", n=max(left, 0)), field=field)
    row.used_at = utcnow()
    return row

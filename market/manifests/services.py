"""Use cases of manifests: creating one for a funded order, and cancelling it before it ships.

Signing is in market.manifests.signing, receiving and discrepancies in market.manifests.receiving.
The order's own moves (funded → in_transfer → received) belong to market.orders.lifecycle, which
calls these use cases; this context never imports it.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, Permit, User
from market.audit.services import record
from market.catalog.models import WasteCategory
from market.contracts.terms import WEIGHT_TOLERANCE_PCT
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.jobs.schedule import TZ
from market.listings import validation as v
from market.listings.models import DisposalRequest
from market.manifests import codes, numbering, policies, reports, state
from market.manifests.access import manifest_for_party
from market.manifests.errors import CarrierNotAllowed, OrderNotFunded, ShippingLimitExceeded
from market.manifests.models import Manifest, ManifestLine
from market.notifications.messages import message, verbatim
from market.notifications.services import notify_org
from market.orders.models import Order
from market.oversight import services as oversight
from market.uow import after_rollback, transaction
from market.web.i18n import date as shown_date

# Order states in which waste may move under a manifest.
SHIPPABLE = ("funded", "in_transfer")
# Before these, no money was ever in escrow: a manifest then is "material without money".
UNFUNDED = ("created", "sampling", "price_confirmed", "contract_pending", "contract_signed",
            "funding")
MAX_LINES = 20


def transition(manifest: Manifest, to: str, role: str) -> None:
    """Move a manifest through its state table, refusing what the table does not list."""
    problem = state.problem(manifest.status, to, role)
    if problem == "invalid_transition":
        raise InvalidState(_("A manifest that is %(frm)s cannot become %(to)s.",
                             frm=_(manifest.status), to=_(to)), code="invalid_transition")
    if problem == "actor_not_allowed":
        raise PermissionDenied(_("You may not move this manifest from %(frm)s to %(to)s.",
                                 frm=_(manifest.status), to=_(to)), code="actor_not_allowed")
    manifest.status = to


def local_day(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


def valid_permit(carrier_org_id: int, day: date) -> Permit | None:
    """The carrier's verified dangerous-goods transport permit valid on `day`, if any."""
    permits = db.session.scalars(select(Permit).where(Permit.org_id == carrier_org_id,
                                                      Permit.kind == "transport")
                                 .order_by(Permit.valid_to.desc()))
    return next((p for p in permits if p.is_valid_on(day)), None)


def require_carrier_permit(order: Order, carrier_org_id: int, day: date,
                           manifest_id: int | None = None) -> Permit:
    """The permit, or refuse — keeping an alert about the refusal after the rollback."""
    permit = valid_permit(carrier_org_id, day)
    if permit is None:
        order_id, subject = order.id, f"order:{order.id}:carrier:{carrier_org_id}:{day.isoformat()}"
        after_rollback(lambda: oversight.raise_alert(
            oversight.CARRIER_PERMIT, "critical", subject=subject, order_id=order_id,
            manifest_id=manifest_id, carrier_org_id=carrier_org_id,
            data={"shipping_date": day.isoformat()}))
        raise CarrierNotAllowed(
            _("The carrier holds no verified dangerous-goods transport permit valid on %(day)s.",
              day=shown_date(day)), field="carrier_org_id")
    return permit


def _carrier(carrier_org_id) -> Organisation:
    org = db.session.get(Organisation, carrier_org_id) if isinstance(carrier_org_id, int) else None
    if org is None or not org.has_type("carrier"):
        raise CarrierNotAllowed(_("Choose a carrier organisation."), field="carrier_org_id")
    if not org.is_verified:
        raise CarrierNotAllowed(_("The carrier must be a verified organisation."),
                                field="carrier_org_id")
    return org


def _parse_lines(order: Order, raw) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(_("Add at least one line."), field="lines")
    if len(raw) > MAX_LINES:
        raise ValidationFailed(_("At most %(n)d lines.", n=MAX_LINES), field="lines")
    lines = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValidationFailed(_("Each line must be an object."), field=f"lines[{i}]")
        category = v.category(item.get("category") or order.category_code, f"lines[{i}].category")
        if category != order.category_code:
            raise ValidationFailed(_("The order is for %(c)s only.", c=order.category_code),
                                   field=f"lines[{i}].category")
        code = v.waste_code(item.get("waste_code") or order.waste_code, category,
                            f"lines[{i}].waste_code")
        if order.waste_code and code != order.waste_code:
            raise ValidationFailed(_("The order is for waste code %(c)s only.", c=order.waste_code),
                                   field=f"lines[{i}].waste_code")
        count = item.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100_000:
            raise ValidationFailed(_("The count of packages must be a whole number from 1."),
                                   field=f"lines[{i}].count")
        lines.append({
            "category": category, "waste_code": code,
            "quantity_kg": v.whole_kg(item.get("quantity_kg"), f"lines[{i}].quantity_kg"),
            "name": v.text(item.get("name"), f"lines[{i}].name", 200),
            "form": item.get("form") or "",
            "packaging": v.text(item.get("packaging"), f"lines[{i}].packaging", 100),
            "count": count, "hazards": item.get("hazards"),
        })
    return lines


def _parse_pickup(value) -> datetime:
    if value in (None, ""):
        return utcnow()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(_("Enter a date and time (ISO 8601)."),
                                   field="planned_pickup_at") from None
    if not isinstance(value, datetime):
        raise ValidationFailed(_("Enter a date and time (ISO 8601)."), field="planned_pickup_at")
    return value if value.tzinfo else value.replace(tzinfo=TZ)


def parse_carrier_part(data: dict) -> dict:
    """The carrier part's fields, normalised, or a ValidationFailed naming the field."""
    plate = policies.normalise_plate(data.get("vehicle_plate") or "")
    if not plate:
        raise ValidationFailed(_("Enter the vehicle plate."), field="vehicle_plate")
    if not policies.plate_ok(plate):
        raise ValidationFailed(_("%(plate)s is not a vehicle plate (e.g. 粤B12345, new-energy "
                                 "粤BD12345 or 粤B12345D).", plate=plate), field="vehicle_plate")
    name = v.text(data.get("driver_name"), "driver_name", 50, required=True)
    phone = policies.normalise_phone(data.get("driver_phone") or "")
    if not policies.phone_ok(phone):
        raise ValidationFailed(_("Enter the driver's mobile number (11 digits, e.g. 13800138000)."),
                               field="driver_phone")
    email = (data.get("driver_email") or "").strip() or None
    if email is not None and not policies.email_ok(email):
        raise ValidationFailed(_("Enter a valid e-mail address."), field="driver_email")
    return {"vehicle_plate": plate, "driver_name": name, "driver_phone": phone,
            "driver_email": email}


def shipped_so_far_kg(order_id: int) -> int:
    """kg on the order's manifests that are not cancelled (call under the order's lock)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(ManifestLine.sent_kg), 0))
        .join(Manifest, Manifest.id == ManifestLine.manifest_id)
        .where(Manifest.order_id == order_id, Manifest.status != "cancelled")))


def create_manifest(actor: User, order_id: int, data: dict) -> Manifest:
    """The generator drafts a manifest for one vehicle trip of a funded order.

    data: carrier_org_id, vehicle_plate, driver_name, driver_phone, driver_email?,
    planned_pickup_at?, lines: [{category?, waste_code?, quantity_kg, packaging, count, name?}].
    """
    with transaction():
        order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update())
        if order is None or (actor.org_id not in (order.generator_id, order.operator_id)
                             and not actor.is_platform):
            raise NotFound(_("No such order."))
        if actor.org_id != order.generator_id:
            raise PermissionDenied(_("Only the generator drafts manifests for its waste."))
        if order.status in UNFUNDED:
            order_ref, status_ref = order.id, order.status
            after_rollback(lambda: oversight.raise_alert(
                oversight.MANIFEST_UNFUNDED, "critical", subject=f"order:{order_ref}",
                order_id=order_ref, data={"status": status_ref, "refused": True}))
            raise OrderNotFunded(_("Order %(number)s is not funded: no waste may move before the "
                                   "money is in escrow.", number=order.number), field="order_id")
        if order.status not in SHIPPABLE:
            raise InvalidState(_("An order that is %(status)s takes no new manifests.",
                                 status=_(order.status)), code="invalid_transition")
        return draft_manifest(actor, order, data)


def draft_manifest(actor: User, order: Order, data: dict, *, trip_id: int | None = None
                   ) -> Manifest:
    """Draft a manifest of a locked, funded order (inside the caller's transaction): the carrier
    part checked, the lines within the shipping limit. A collection round drafts one per booking
    at its start, linked to its trip."""
    with transaction():
        carrier_part = parse_carrier_part(data)
        pickup = _parse_pickup(data.get("planned_pickup_at"))
        lines = _parse_lines(order, data.get("lines"))
        carrier = _carrier(data.get("carrier_org_id"))
        permit = require_carrier_permit(order, carrier.id, local_day(pickup))
        limit = policies.shipping_limit_kg(order.quantity_kg, WEIGHT_TOLERANCE_PCT)
        sent = sum(ln["quantity_kg"] for ln in lines)
        before = shipped_so_far_kg(order.id)
        if before + sent > limit:
            raise ShippingLimitExceeded(
                _("The order's manifests may carry at most %(limit)s kg (contract quantity plus "
                  "%(pct)d %%); %(before)s kg are on manifests already, so at most %(left)s kg "
                  "more.", limit=f"{limit:,}", pct=WEIGHT_TOLERANCE_PCT, before=f"{before:,}",
                  left=f"{max(limit - before, 0):,}"), field="lines")
        item = db.session.get(LicenceItem, order.licence_item_id)
        licence = db.session.get(Licence, item.licence_id)
        manifest = Manifest(
            number=numbering.allocate(local_day(utcnow()).year, order.generator.region_code),
            order_id=order.id, trip_id=trip_id, status="draft", created_by_id=actor.id,
            verify_token=secrets.token_hex(16), generator_org_id=order.generator_id,
            planned_pickup_at=pickup, pickup_address=order.address or "",
            carrier_org_id=carrier.id, carrier_permit_number=permit.number,
            receiver_org_id=order.operator_id, licence_number=licence.number, **carrier_part)
        defaults = _line_defaults(order)
        disposal = order.line("disposal")
        for ln in lines:
            manifest.lines.append(ManifestLine(
                order_line_id=disposal.id if disposal else None, category_code=ln["category"],
                waste_code=ln["waste_code"], name=ln["name"] or defaults["name"],
                form=v.form(ln["form"] or defaults["form"]),
                packaging=ln["packaging"] or defaults["packaging"], count=ln["count"],
                sent_kg=ln["quantity_kg"],
                hazards=v.hazards(ln["hazards"]) if ln["hazards"] else defaults["hazards"]))
        db.session.add(manifest)
        db.session.flush()
        record("manifest.created", manifest, actor=actor, changes={
            "number": manifest.number, "order": order.number, "carrier_org_id": carrier.id,
            "vehicle_plate": manifest.vehicle_plate, "sent_kg": sent,
            "planned_pickup_at": pickup.isoformat()})
        title = message("Manifest %(number)s for order %(order)s awaits pickup.",
                        number=manifest.number, order=order.number)
        for org_id in {carrier.id, order.operator_id} - {actor.org_id}:
            notify_org(org_id, "manifest.created", title, link=f"/manifests/{manifest.id}")
        return manifest


def _line_defaults(order: Order) -> dict:
    """Name, form, packaging and hazards of the order's waste, from its request if it had one."""
    category = db.session.get(WasteCategory, order.category_code)
    out = {"name": category.name_zh if category else order.category_code, "form": "solid",
           "packaging": "", "hazards": []}
    if order.request_id:
        req = db.session.get(DisposalRequest, order.request_id)
        out.update(name=(req.description or out["name"])[:200], form=req.form,
                   packaging=req.packaging or "", hazards=list(req.hazards or []))
    return out


def cancel_manifest(actor: User, manifest_id: int, reason: str = "") -> Manifest:
    """The generator (or an admin) cancels a manifest that has not shipped."""
    with transaction():
        manifest, roles = manifest_for_party(actor, manifest_id)
        role = "admin" if "admin" in roles else ("generator" if "generator" in roles else None)
        if role is None:
            raise PermissionDenied(_("Only the generator may cancel a manifest."))
        if manifest.status != "draft":
            raise InvalidState(_("Manifest %(number)s has shipped and can no longer be cancelled.",
                                 number=manifest.number), code="invalid_transition")
        transition(manifest, "cancelled", role)
        manifest.cancelled_at = utcnow()
        manifest.cancel_reason = (reason or "").strip()[:1000] or None
        codes.void_driver_codes(manifest.id)
        record("manifest.cancelled", manifest, actor=actor,
               changes={"number": manifest.number, "reason": manifest.cancel_reason})
        for org_id in {manifest.carrier_org_id, manifest.receiver_org_id} - {actor.org_id}:
            notify_org(org_id, "manifest.cancelled",
                       message("Manifest %(number)s was cancelled.", number=manifest.number),
                       verbatim(manifest.cancel_reason), link=f"/manifests/{manifest.id}")
        return manifest


def retry_provincial_report(actor: User, report_id: int):
    """An admin queues an unsent provincial report again."""
    if actor.platform_role != "admin":
        raise PermissionDenied(_("Only platform administrators do this."))
    with transaction():
        report = reports.retry_report(report_id)
        if report is None:
            raise NotFound(_("No such report."))
        if report.status == "sent":
            raise InvalidState(_("This report was delivered already."), code="already_sent")
        record("manifest.report_retried", report, actor=actor,
               changes={"event": report.event, "attempts": report.attempts})
        return report


def close_received(order_id: int, actor: User | None = None) -> int:
    """Close the order's received manifests (the settlement use case calls this in its own
    transaction once the order is settled); how many were closed."""
    closed = 0
    for manifest in db.session.scalars(select(Manifest).where(
            Manifest.order_id == order_id, Manifest.status == "received")
            .order_by(Manifest.id).with_for_update()):
        transition(manifest, "closed", "system")
        manifest.closed_at = utcnow()
        record("manifest.closed", manifest, actor=actor, changes={"number": manifest.number})
        closed += 1
    return closed

"""Receipt and discrepancies: the operator weighs every line and signs; lines off by more than
the tolerance, or with refused kg, open a discrepancy the generator confirms or disputes."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import extract, func, select

from market import db
from market.accounts.models import LicenceItem, Organisation, User
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.manifests import policies, reports, state
from market.manifests.access import manifest_for_party
from market.manifests.errors import MethodNotLicensed, PartLocked
from market.manifests.models import Discrepancy, Manifest, ManifestLine, ManifestSignature
from market.manifests.services import local_day, transition
from market.notifications.messages import as_kg, as_word, message, verbatim
from market.notifications.services import notify_org
from market.orders.models import Order
from market.oversight import services as oversight
from market.uow import transaction

MAX_COMMENT = 2000


def tolerance_pct() -> int:
    return int(current_app.config["MANIFEST_WEIGHT_TOLERANCE_PCT"])


def _kg(value, field: str) -> int:
    if value is None or value == "":
        raise ValidationFailed(_("This weight is required (0 is allowed)."), field=field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(_("Weights are whole kilograms."), field=field)
    if value < 0:
        raise ValidationFailed(_("A weight cannot be negative."), field=field)
    return value


def parse_weights(manifest: Manifest, raw) -> dict[int, dict]:
    """{line id: {received_kg, refused_kg, comment}} for every line of the manifest, checked."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(_("Give the weights of every line."), field="lines")
    by_id = {ln.id: ln for ln in manifest.lines}
    out: dict[int, dict] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("line_id") not in by_id:
            raise ValidationFailed(_("Unknown line of this manifest."), field=f"lines[{i}].line_id")
        line = by_id[item["line_id"]]
        if line.id in out:
            raise ValidationFailed(_("Each line once."), field=f"lines[{i}].line_id")
        received = _kg(item.get("received_kg"), f"lines[{i}].received_kg")
        refused = _kg(item.get("refused_kg"), f"lines[{i}].refused_kg")
        if policies.received_too_high(line.sent_kg, received):
            raise ValidationFailed(
                _("%(received)s kg received is more than the %(sent)s kg sent plus 20 %%.",
                  received=f"{received:,}", sent=f"{line.sent_kg:,}"),
                field=f"lines[{i}].received_kg")
        if refused > received:
            raise ValidationFailed(_("Refused kg cannot exceed the kg received."),
                                   field=f"lines[{i}].refused_kg")
        comment = (item.get("comment") or "").strip() if isinstance(item.get("comment"),
                                                                    (str, type(None))) else None
        if comment is None or len(comment) > MAX_COMMENT:
            raise ValidationFailed(_("At most %(n)d characters.", n=MAX_COMMENT),
                                   field=f"lines[{i}].comment")
        kind = policies.discrepancy_kind(line.sent_kg, received, refused, tolerance_pct())
        if kind and not comment:
            raise ValidationFailed(
                _("Received %(received)s kg of %(sent)s kg sent (%(refused)s kg refused): explain "
                  "the difference.", received=f"{received:,}", sent=f"{line.sent_kg:,}",
                  refused=f"{refused:,}"), field=f"lines[{i}].comment")
        out[line.id] = {"received_kg": received, "refused_kg": refused, "comment": comment,
                        "kind": kind}
    missing = set(by_id) - set(out)
    if missing:
        raise ValidationFailed(_("Give the weights of every line."), field="lines")
    return out


def _licence_item(manifest: Manifest) -> LicenceItem:
    return db.session.get(LicenceItem, manifest.order.licence_item_id)


def _method(item: LicenceItem, code) -> str:
    code = (code or "").strip().upper() if isinstance(code, str) else ""
    if not code:
        raise ValidationFailed(_("Choose the disposal method."), field="method_code")
    if code not in (item.method_codes or []):
        raise MethodNotLicensed(
            _("Method %(code)s is not allowed by the licence item (allowed: %(allowed)s).",
              code=code, allowed=", ".join(item.method_codes or []) or "—"), field="method_code")
    return code


def received_this_year_kg(item_id: int, year: int) -> int:
    """Accepted kg received on the licence item's orders in a calendar year (China time)."""
    local = func.timezone("Asia/Shanghai", Manifest.received_at)
    return int(db.session.scalar(
        select(func.coalesce(func.sum(ManifestLine.received_kg - ManifestLine.refused_kg), 0))
        .join(Manifest, Manifest.id == ManifestLine.manifest_id)
        .join(Order, Order.id == Manifest.order_id)
        .where(Order.licence_item_id == item_id, Manifest.received_at.is_not(None),
               Manifest.status.in_(("received", "closed")), extract("year", local) == year)))


def receive(actor: User, manifest_id: int, method_code, lines, ip: str | None = None,
            received_at: datetime | None = None) -> Manifest:
    """The operator records kg received and refused per line, the method, and signs: received."""
    with transaction():
        manifest, roles = manifest_for_party(actor, manifest_id)
        if "operator" not in roles:
            raise PermissionDenied(_("Only the receiving operator signs the receipt."))
        if manifest.status in ("received", "closed"):
            raise PartLocked(_("Manifest %(number)s is already received; its receiver part is "
                               "locked.", number=manifest.number), field="lines")
        if manifest.status != "shipped":
            raise InvalidState(_("Manifest %(number)s is %(status)s: only a shipped manifest can "
                                 "be received.", number=manifest.number,
                                 status=_(manifest.status)), code="invalid_transition")
        item = _licence_item(manifest)
        method = _method(item, method_code)
        weights = parse_weights(manifest, lines)
        now = received_at or utcnow()
        transition(manifest, "received", "operator")
        manifest.method_code, manifest.received_at = method, now
        for line in manifest.lines:
            w = weights[line.id]
            line.received_kg, line.refused_kg = w["received_kg"], w["refused_kg"]
            if w["kind"]:
                _open_discrepancy(manifest, line, w)
        db.session.add(ManifestSignature(manifest_id=manifest.id, part="receiver",
                                         user_id=actor.id, method="login",
                                         signer_name=actor.name[:100], signed_at=now, ip=ip))
        db.session.flush()
        _capacity_alert(manifest, item, local_day(now).year)
        reports.queue_report(manifest, "received")
        record("manifest.received", manifest, actor=actor, changes={
            "number": manifest.number, "method_code": method,
            "lines": {str(k): [w["received_kg"], w["refused_kg"]] for k, w in weights.items()}})
        notify_org(manifest.generator_org_id, "manifest.received",
                   message("Manifest %(number)s was received: %(kg)s kg accepted.",
                           number=manifest.number, kg=as_kg(manifest.accepted_kg)),
                   link=f"/manifests/{manifest.id}")
        return manifest


def _open_discrepancy(manifest: Manifest, line: ManifestLine, w: dict) -> Discrepancy:
    d = Discrepancy(manifest_line_id=line.id, manifest_id=manifest.id, kind=w["kind"],
                    sent_kg=line.sent_kg, received_kg=w["received_kg"],
                    refused_kg=w["refused_kg"], receiver_comment=w["comment"], status="open")
    db.session.add(d)
    db.session.flush()
    record("manifest.discrepancy_opened", d, changes={
        "manifest": manifest.number, "line_id": line.id, "kind": d.kind, "sent_kg": d.sent_kg,
        "received_kg": d.received_kg, "refused_kg": d.refused_kg})
    if policies.beyond_tolerance(line.sent_kg, w["received_kg"], tolerance_pct()):
        oversight.raise_alert(oversight.WEIGHT_DISCREPANCY, "warning",
                              subject=f"manifest_line:{line.id}", order_id=manifest.order_id,
                              manifest_id=manifest.id, carrier_org_id=manifest.carrier_org_id,
                              data={"sent_kg": line.sent_kg, "received_kg": w["received_kg"],
                                    "tolerance_pct": tolerance_pct()})
    notify_org(manifest.generator_org_id, "manifest.discrepancy",
               message("Manifest %(number)s: the receiver reports a difference; confirm or dispute it.",
                       number=manifest.number), verbatim(w["comment"]), link=f"/manifests/{manifest.id}")
    return d


def _capacity_alert(manifest: Manifest, item: LicenceItem, year: int) -> None:
    received = received_this_year_kg(item.id, year)
    if received > item.approved_kg_per_year:
        oversight.raise_alert(
            oversight.CAPACITY_EXCEEDED, "critical", subject=f"manifest:{manifest.id}",
            order_id=manifest.order_id, manifest_id=manifest.id,
            data={"licence_item_id": item.id, "year": year, "received_kg": received,
                  "approved_kg_per_year": item.approved_kg_per_year})


def _discrepancy_for(actor: User, manifest_id: int, line_id: int) -> tuple[Manifest, Discrepancy,
                                                                             set[str]]:
    manifest, roles = manifest_for_party(actor, manifest_id)
    d = db.session.scalar(select(Discrepancy).where(Discrepancy.manifest_id == manifest.id,
                                                    Discrepancy.manifest_line_id == line_id)
                          .with_for_update())
    if d is None:
        raise NotFound(_("This line has no discrepancy."))
    return manifest, d, roles


def decide_discrepancy(actor: User, manifest_id: int, line_id: int, action: str,
                       comment: str = "") -> Discrepancy:
    """The generator confirms the receiver's weights, or disputes them (the lifecycle then takes
    the dispute to the dispute desk)."""
    if action not in ("confirm", "dispute"):
        raise ValidationFailed(_("Choose confirm or dispute."), field="action")
    comment = (comment or "").strip() if isinstance(comment, (str, type(None))) else ""
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(_("At most %(n)d characters.", n=MAX_COMMENT), field="comment")
    if action == "dispute" and not comment:
        raise ValidationFailed(_("Say why you dispute the weights."), field="comment")
    with transaction():
        manifest, d, roles = _discrepancy_for(actor, manifest_id, line_id)
        if "generator" not in roles:
            raise PermissionDenied(_("Only the generator confirms or disputes a discrepancy."))
        to = "confirmed" if action == "confirm" else "disputed"
        if d.status != "open":
            raise InvalidState(_("This discrepancy is already %(status)s.", status=_(d.status)),
                               code="invalid_transition")
        problem = state.discrepancy_problem(d.status, to, "generator")
        if problem:
            raise InvalidState(_("This discrepancy cannot become %(to)s.", to=_(to)),
                               code=problem)
        d.status, d.generator_comment = to, comment or None
        d.decided_by_id, d.decided_at = actor.id, utcnow()
        record("manifest.discrepancy_" + to, d, actor=actor, changes={
            "manifest": manifest.number, "line_id": line_id, "comment": d.generator_comment})
        notify_org(manifest.receiver_org_id, "manifest.discrepancy_" + to,
                   message("The generator answered the discrepancy on manifest %(number)s: %(status)s.",
                           number=manifest.number, status=as_word(to)), verbatim(d.generator_comment),
                   link=f"/manifests/{manifest.id}")
        return d


def link_dispute(discrepancy_id: int, dispute_id: int) -> None:
    """Remember which dispute of the dispute desk took a disputed discrepancy (same transaction)."""
    d = db.session.get(Discrepancy, discrepancy_id)
    d.dispute_id = dispute_id


def resolve_disputed(order_id: int, dispute_id: int | None = None) -> int:
    """Mark the order's disputed discrepancies resolved once the dispute desk has decided."""
    rows = db.session.scalars(select(Discrepancy).join(Manifest, Manifest.id == Discrepancy.manifest_id)
                              .where(Manifest.order_id == order_id,
                                     Discrepancy.status == "disputed").with_for_update())
    count = 0
    for d in rows:
        if dispute_id is None or d.dispute_id in (None, dispute_id):
            d.status = "resolved"
            count += 1
    return count


def record_refusal(actor: User, manifest_id: int, line_id: int, disposition: str, *,
                   destination_org_id: int | None = None, return_manifest_id: int | None = None,
                   note: str = "") -> Discrepancy:
    """Where refused waste goes: back to the generator under a return manifest, or on to another
    licensed receiver. Recorded by the generator or the receiver."""
    if disposition not in state.REFUSAL_DISPOSITIONS:
        raise ValidationFailed(_("Choose return or new destination."), field="disposition")
    with transaction():
        manifest, d, roles = _discrepancy_for(actor, manifest_id, line_id)
        if not roles & {"generator", "operator"}:
            raise PermissionDenied(_("Only the generator or the receiver records this."))
        if d.refused_kg <= 0:
            raise InvalidState(_("Nothing was refused on this line."), code="nothing_refused")
        if disposition == "new_destination":
            org = (db.session.get(Organisation, destination_org_id)
                   if isinstance(destination_org_id, int) else None)
            if org is None or not org.has_type("operator") or not org.is_verified:
                raise ValidationFailed(_("Choose a verified operator as the new destination."),
                                       field="destination_org_id")
        if return_manifest_id is not None:
            other = db.session.get(Manifest, return_manifest_id) if isinstance(
                return_manifest_id, int) else None
            if other is None or other.id == manifest.id:
                raise ValidationFailed(_("Unknown manifest."), field="return_manifest_id")
        d.refusal_disposition = disposition
        d.refusal_destination_org_id = destination_org_id if disposition == "new_destination" else None
        d.refusal_manifest_id = return_manifest_id
        d.refusal_note = (note or "").strip()[:MAX_COMMENT] or None
        d.refusal_recorded_at = utcnow()
        record("manifest.refusal_recorded", d, actor=actor, changes={
            "manifest": manifest.number, "line_id": line_id, "disposition": disposition,
            "destination_org_id": d.refusal_destination_org_id,
            "return_manifest_id": return_manifest_id})
        return d
